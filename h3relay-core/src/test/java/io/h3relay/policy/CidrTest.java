package io.h3relay.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.h3relay.config.Cidr;
import io.h3relay.config.IpRulesConfig;
import io.h3relay.policy.iprules.IpRulesFilter;
import io.h3relay.runtime.TrustedProxies;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

class CidrTest {
    private static InetAddress ip(String s) throws Exception {
        return InetAddress.getByName(s);
    }

    @Test
    void matchesV4AndV6NetworksAndMappedAddresses() throws Exception {
        Cidr ten = Cidr.parse("10.0.0.0/8");
        assertThat(ten.matches(ip("10.255.1.2"))).isTrue();
        assertThat(ten.matches(ip("11.0.0.1"))).isFalse();
        assertThat(ten.matches(ip("::ffff:10.1.1.1"))).isTrue();
        assertThat(ten.matches(ip("::1"))).isFalse();
        Cidr odd = Cidr.parse("192.168.4.0/22");
        assertThat(odd.matches(ip("192.168.7.255"))).isTrue();
        assertThat(odd.matches(ip("192.168.8.0"))).isFalse();
        Cidr v6 = Cidr.parse("2001:db8::/32");
        assertThat(v6.matches(ip("2001:db8:ffff::1"))).isTrue();
        assertThat(v6.matches(ip("2001:db9::1"))).isFalse();
        assertThat(Cidr.parse("127.0.0.1").matches(ip("127.0.0.1"))).isTrue();
        assertThat(Cidr.parse("127.0.0.1").matches(ip("127.0.0.2"))).isFalse();
        assertThat(Cidr.parse("0.0.0.0/0").matches(ip("8.8.8.8"))).isTrue();
    }

    @Test
    void refusesNamesBadPrefixesAndHostBits() {
        assertThat(Cidr.parse("localhost")).isNull();
        assertThat(Cidr.parse("10.0.0.0/33")).isNull();
        assertThat(Cidr.parse("10.0.0.0/")).isNull();
        assertThat(Cidr.parse("10.0.0.0/-1")).isNull();
        assertThat(Cidr.parse("10.0.0.1/8")).isNull();
        assertThat(Cidr.parse("::1/129")).isNull();
    }

    @Test
    void denyWinsOverAllow() throws Exception {
        IpRulesFilter f = new IpRulesFilter(new IpRulesConfig(List.of(Cidr.parse("10.0.0.0/8")),
                List.of(Cidr.parse("10.0.0.5"))));
        assertThat(f.allows(ip("10.0.0.4"))).isTrue();
        assertThat(f.allows(ip("10.0.0.5"))).isFalse();
        assertThat(f.allows(ip("192.0.2.1"))).isFalse();
        IpRulesFilter denyOnly = new IpRulesFilter(new IpRulesConfig(List.of(), List.of(Cidr.parse("::1"))));
        assertThat(denyOnly.allows(ip("::1"))).isFalse();
        assertThat(denyOnly.allows(ip("127.0.0.1"))).isTrue();
    }

    @Test
    void trustedProxiesWalkXForwardedForFromTheRight() throws Exception {
        TrustedProxies t = new TrustedProxies(List.of(Cidr.parse("10.0.0.0/8")));
        DefaultHttpHeaders h = new DefaultHttpHeaders();
        h.add("x-forwarded-for", "1.1.1.1, 2.2.2.2");
        h.add("x-forwarded-for", "10.0.0.9");
        assertThat(t.clientOf(ip("10.0.0.1"), h)).isEqualTo(ip("2.2.2.2"));
        assertThat(t.clientOf(ip("192.0.2.1"), h)).as("untrusted peer").isEqualTo(ip("192.0.2.1"));
        DefaultHttpHeaders allTrusted = new DefaultHttpHeaders();
        allTrusted.add("x-forwarded-for", "10.1.1.1,10.2.2.2");
        assertThat(t.clientOf(ip("10.0.0.1"), allTrusted)).isEqualTo(ip("10.1.1.1"));
        DefaultHttpHeaders v6 = new DefaultHttpHeaders();
        v6.add("x-forwarded-for", "[2001:db8::1]");
        assertThat(t.clientOf(ip("10.0.0.1"), v6)).isEqualTo(ip("2001:db8::1"));
        assertThat(t.clientOf(ip("10.0.0.1"), new DefaultHttpHeaders())).isEqualTo(ip("10.0.0.1"));
    }
}
