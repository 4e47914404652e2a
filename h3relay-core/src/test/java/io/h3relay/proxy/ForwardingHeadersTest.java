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

    @Test
    void headersAddedOnceWhetherOrNotTheClientSentThemAndPriorsInAnyCaseAreExtended() throws Exception {
        InetAddress client = InetAddress.getByName("203.0.113.7");
        HttpHeaders none = new DefaultHttpHeaders().add("host", "example.com");
        ForwardingHeaders.toUpstream(none, DownstreamProtocol.HTTP_1_1, false, client, "example.com", "id-1", null);
        assertThat(none.getAll("x-forwarded-for")).containsExactly("203.0.113.7");
        assertThat(none.getAll("x-forwarded-proto")).containsExactly("http");
        assertThat(none.getAll("x-forwarded-host")).containsExactly("example.com");
        assertThat(none.getAll("forwarded")).containsExactly("for=203.0.113.7;host=example.com;proto=http");
        assertThat(none.getAll("via")).containsExactly("1.1 h3relay");
        assertThat(none.getAll("x-request-id")).containsExactly("id-1");

        HttpHeaders priors = new DefaultHttpHeaders().add("host", "example.com")
                .add("X-Forwarded-For", "10.0.0.1").add("X-FORWARDED-PROTO", "https").add("x-forwarded-host", "a")
                .add("Forwarded", "for=10.0.0.1").add("VIA", "1.0 edge").add("X-Request-Id", "old")
                .add("connection", "x-forwarded-host"); // named by Connection: removed, then ours is added
        ForwardingHeaders.toUpstream(priors, DownstreamProtocol.HTTP_1_1, false, client, "example.com", "id-2", null);
        assertThat(priors.getAll("x-forwarded-for")).containsExactly("10.0.0.1, 203.0.113.7");
        assertThat(priors.getAll("x-forwarded-proto")).containsExactly("http");
        assertThat(priors.getAll("x-forwarded-host")).containsExactly("example.com");
        assertThat(priors.getAll("forwarded"))
                .containsExactly("for=10.0.0.1, for=203.0.113.7;host=example.com;proto=http");
        assertThat(priors.getAll("via")).containsExactly("1.0 edge, 1.1 h3relay");
        assertThat(priors.getAll("x-request-id")).containsExactly("id-2");
        assertThat(priors.contains("connection")).isFalse();
    }

    @Test
    void responseGetsViaAndTheRequestIdOnlyWhenTheEndpointSentNone() {
        HttpHeaders res = new DefaultHttpHeaders().add("content-type", "text/plain");
        ForwardingHeaders.toDownstream(res, "1.1", "id-1", null);
        assertThat(res.getAll("via")).containsExactly("1.1 h3relay");
        assertThat(res.getAll("x-request-id")).containsExactly("id-1");

        HttpHeaders own = new DefaultHttpHeaders().add("Via", "1.1 cdn").add("X-Request-ID", "theirs");
        ForwardingHeaders.toDownstream(own, "1.0", "id-2", null);
        assertThat(own.getAll("via")).containsExactly("1.1 cdn, 1.0 h3relay");
        assertThat(own.getAll("x-request-id")).containsExactly("theirs");

        HttpHeaders named = new DefaultHttpHeaders().add("x-request-id", "hop").add("connection", "X-Request-Id");
        ForwardingHeaders.toDownstream(named, "1.1", "id-3", null);
        assertThat(named.getAll("x-request-id")).containsExactly("id-3");
    }
}
