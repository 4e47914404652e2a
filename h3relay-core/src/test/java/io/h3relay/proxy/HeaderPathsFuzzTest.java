package io.h3relay.proxy;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.h3relay.exchange.DownstreamProtocol;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Fuzz target (issue 18): the upstream header rewrite ({@link ForwardingHeaders#toUpstream}) with any
 * client headers, Host and client address (visible ASCII, SP and HTAB inside, no surrounding whitespace: what the codecs let through). It never throws; hop-by-hop headers are gone; the
 * {@code Forwarded} element it appends is exactly {@code for=...;host=...;proto=...} however the Host is
 * made (a {@code ;}, {@code ,}, {@code =} or quote in it cannot add a parameter or an element), and its
 * host parameter reads back as the Host, also after a client's malformed {@code Forwarded} (an unterminated
 * quote in it once swallowed the element: found by this target, fixed in {@link ForwardingHeaders});
 * {@code X-Forwarded-For} ends with the client.
 */
@org.junit.jupiter.api.parallel.Isolated("Jazzer's hooks (e.g. its network-connection sanitizer) watch the whole JVM while it runs")
class HeaderPathsFuzzTest {

    @FuzzTest(maxDuration = "10m")
    void forwardingHeadersKeepTheirShape(FuzzedDataProvider in) throws UnknownHostException {
        HttpHeaders h = new DefaultHttpHeaders();
        int n = in.consumeInt(0, 6);
        String[] names = {"forwarded", "x-forwarded-for", "connection", "te", "keep-alive", "via", "x-a", "upgrade"};
        for (int i = 0; i < n; i++) {
            String value = in.consumeAsciiString(40).replaceAll("[\\x00-\\x08\\x0a-\\x1f\\x7f]", "").strip();
            h.add(names[in.consumeInt(0, names.length - 1)], value);
        }
        InetAddress client = InetAddress.getByAddress(new byte[] {10, 0, 0, 1});
        String host = in.consumeRemainingAsAsciiString().replaceAll("[\\x00-\\x08\\x0a-\\x1f\\x7f]", "").strip();
        ForwardingHeaders.toUpstream(h, DownstreamProtocol.H2, true, client, host, "rid", null);

        assertThat(h.contains("connection")).isFalse();
        assertThat(h.contains("te")).isFalse();
        assertThat(h.contains("keep-alive")).isFalse();
        assertThat(h.contains("upgrade")).isFalse();
        assertThat(h.get("x-forwarded-for")).endsWith("10.0.0.1");
        assertThat(h.get("x-forwarded-host")).isEqualTo(host);
        List<String> elements = split(h.get("forwarded"), ',');
        List<String> params = split(elements.get(elements.size() - 1).strip(), ';');
        assertThat(params).hasSize(3);
        assertThat(params.get(0)).isEqualTo("for=10.0.0.1");
        assertThat(params.get(1)).startsWith("host=");
        assertThat(unquote(params.get(1).substring(5))).isEqualTo(host);
        assertThat(params.get(2)).isEqualTo("proto=https");
    }

    /** Splits on {@code sep} outside quoted strings (RFC 7239 / RFC 9110 quoted-string with backslash escapes). */
    private static List<String> split(String s, char sep) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (quoted && c == '\\' && i + 1 < s.length()) {
                cur.append(c).append(s.charAt(++i));
                continue;
            }
            if (c == '"') {
                quoted = !quoted;
            }
            if (c == sep && !quoted) {
                out.add(cur.toString());
                cur.setLength(0);
            } else {
                cur.append(c);
            }
        }
        out.add(cur.toString());
        return out;
    }

    private static String unquote(String v) {
        if (v.length() < 2 || v.charAt(0) != '"' || v.charAt(v.length() - 1) != '"') {
            return v;
        }
        StringBuilder out = new StringBuilder();
        for (int i = 1; i < v.length() - 1; i++) {
            char c = v.charAt(i);
            out.append(c == '\\' ? v.charAt(++i) : c);
        }
        return out.toString();
    }
}
