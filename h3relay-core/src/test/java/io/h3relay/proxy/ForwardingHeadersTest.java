package io.h3relay.proxy;

import io.h3relay.exchange.DownstreamProtocol;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import org.junit.jupiter.api.Test;

import java.net.Inet6Address;
import java.net.InetAddress;

import static org.assertj.core.api.Assertions.assertThat;

/** The client's address in X-Forwarded-For and Forwarded: RFC 5952 text for IPv6, never a %scope. */
class ForwardingHeadersTest {

    private static HttpHeaders forwarded(InetAddress client) {
        HttpHeaders h = new DefaultHttpHeaders().set("host", "example.com");
        ForwardingHeaders.toUpstream(h, DownstreamProtocol.H3, true, client, h.get("host"), "id", null);
        return h;
    }

    private static byte[] v6(String text) throws Exception {
        return InetAddress.getByName(text).getAddress();
    }

    @Test
    void ipv6LoopbackWithTheScopeQuicGivesIsColonColonOne() throws Exception {
        // What a QUIC channel's peer address looks like: scope id set (0), so getHostAddress() adds "%0".
        InetAddress quicPeer = Inet6Address.getByAddress(null, v6("::1"), 0);
        assertThat(quicPeer.getHostAddress()).isEqualTo("0:0:0:0:0:0:0:1%0");

        HttpHeaders h = forwarded(quicPeer);
        assertThat(h.get("x-forwarded-for")).isEqualTo("::1");
        assertThat(h.get("forwarded")).isEqualTo("for=\"[::1]\";host=example.com;proto=https");
    }

    @Test
    void ipv6IsCompressedAsRfc5952SaysAndLosesItsZone() throws Exception {
        assertThat(forwarded(InetAddress.getByName("2001:DB8:0:0:1:0:0:1")).get("x-forwarded-for"))
                .isEqualTo("2001:db8::1:0:0:1");
        assertThat(forwarded(Inet6Address.getByAddress(null, v6("fe80::a:0:0:1"), 3)).get("x-forwarded-for"))
                .isEqualTo("fe80::a:0:0:1");
        assertThat(forwarded(InetAddress.getByName("2001:db8::")).get("forwarded")).startsWith("for=\"[2001:db8::]\";");
    }

    @Test
    void ipv4IsDottedAndAppendedToAPriorList() throws Exception {
        HttpHeaders h = new DefaultHttpHeaders().set("x-forwarded-for", "10.9.8.7");
        ForwardingHeaders.toUpstream(h, DownstreamProtocol.H2, false, InetAddress.getByName("203.0.113.7"), null, "id", null);
        assertThat(h.get("x-forwarded-for")).isEqualTo("10.9.8.7, 203.0.113.7");
        assertThat(h.get("forwarded")).isEqualTo("for=203.0.113.7;proto=http");
    }
    @Test
    void connectionTokensAreTrimmedAndASingleTokenIsTheValueItself() {
        String keepAlive = "keep-alive";
        assertThat(ForwardingHeaders.connectionTokens(keepAlive, null)).singleElement().isSameAs(keepAlive);
        assertThat(ForwardingHeaders.connectionTokens(" a ,b,,\tc , ", null)).map(CharSequence::toString)
                .containsExactly("a", "b", "c");
        assertThat(ForwardingHeaders.connectionTokens(" , ", null)).isNull();
        assertThat(ForwardingHeaders.connectionTokens("", null)).isNull();
    }

    @Test
    void hopByHopRemovalTakesWhatConnectionNamesAndTheFixedSetButKeepsTeTrailers() {
        HttpHeaders h = new DefaultHttpHeaders()
                .add("connection", "keep-alive, X-Private")
                .add("Connection", "upgrade")
                .add("x-private", "1").add("keep-alive", "timeout=5").add("upgrade", "h2c")
                .add("proxy-authorization", "secret").add("x-http2-stream-id", "3")
                .add("te", "trailers").add("transfer-encoding", "chunked").add("x-kept", "yes");
        ForwardingHeaders.removeHopByHop(h);
        assertThat(h.names()).containsExactlyInAnyOrder("te", "x-kept");
    }
}
