package io.h3relay.listener.h3;

import io.h3relay.quic.StatelessResets;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The transport parameter budget that decides whether the handshake's connection id gets a derived stateless
 * reset token: quiche encodes the server's parameters into 128 bytes. With h3relay's defaults (120 s idle timeout,
 * 16 MiB / 1 MiB windows, 128 / 32 streams, 20-byte ids) it fits without a Retry and not with one
 * (Http3QuicLbTest shows both against gtlsclient).
 */
class HandshakeResetTokensTest {
    private static int size(boolean retry, boolean disableMigration) {
        return HandshakeResetTokens.transportParametersSize(120_000, 16L << 20, 1L << 20, 128, 32, disableMigration, retry, 20);
    }

    @Test
    void theDefaultsFitWithoutARetryOnly() {
        assertThat(size(false, false)).isEqualTo(109);
        assertThat(size(true, false)).isEqualTo(131);
        assertThat(new HandshakeResetTokens(StatelessResets.random(), null, size(false, false)).enabled()).isTrue();
        assertThat(new HandshakeResetTokens(StatelessResets.random(), null, size(true, false)).enabled()).isFalse();
    }

    @Test
    void everyParameterCountsWithItsVarintLength() {
        assertThat(size(false, true)).as("disable_active_migration: id and empty length").isEqualTo(111);
        assertThat(HandshakeResetTokens.transportParametersSize(10_000, 16L << 20, 1L << 20, 128, 32, false, false, 20))
                .as("idle timeout in 2 bytes").isEqualTo(107);
        assertThat(HandshakeResetTokens.transportParametersSize(120_000, 1L << 31, 1L << 20, 128, 32, false, false, 20))
                .as("max data in 8 bytes").isEqualTo(113);
        assertThat(HandshakeResetTokens.transportParametersSize(120_000, 16L << 20, 1L << 20, 128, 32, false, true, 8))
                .as("8-byte ids with a Retry").isEqualTo(107);
    }
}
