package io.h3relay.cli;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class AltSvcTest {
    @Test
    void takesTheSameHostH3Port() {
        assertThat(AltSvc.h3Port("h3=\":8443\"; ma=86400")).isEqualTo(8443);
        assertThat(AltSvc.h3Port("h3-29=\":1\", h3=\":443\"")).isEqualTo(443);
        assertThat(AltSvc.h3Port("h3=\"other.example:443\"")).isNull();  // another host: not followed
        assertThat(AltSvc.h3Port("clear")).isNull();
        assertThat(AltSvc.h3Port(null)).isNull();
        assertThat(AltSvc.h3Port("h2=\":443\"")).isNull();
    }
}
