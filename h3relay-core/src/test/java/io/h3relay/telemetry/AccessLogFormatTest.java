package io.h3relay.telemetry;

import org.junit.jupiter.api.Test;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The access log's formatting, byte for byte: every line is one line of valid UTF-8, the JSON parses back to
 * the values it was made of (hostile ones included), and the text format escapes as nginx does.
 * (AccessLogTest drives the whole log over h1/h2/h3.)
 */
class AccessLogFormatTest {
    private static final Load JSON = new Load(LoadSettings.builder().build()); // YAML 1.2 reads JSON

    private static AccessLogEntry entry(long epochMillis, String path, InetAddress client) {
        return new AccessLogEntry(epochMillis, "tls", "h3", client, "GET", "example.com:8443", path, "api", 200,
                12, 5120, 3_552, "10.0.0.5:8080", 2, "f8f3a1", "4bf92f3577b34da6a3ce929d0e0e4736", null, "h2");
    }

    private static String decode(LineBuffer b) throws CharacterCodingException {
        return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT)
                .decode(ByteBuffer.wrap(Arrays.copyOf(b.array(), b.length()))).toString();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> json(AccessLogEntry e) throws CharacterCodingException {
        LineBuffer b = new LineBuffer(8); // small: the buffer must grow
        e.writeJson(b);
        String line = decode(b);
        assertThat(line).doesNotContain("\n", "\r");
        return (Map<String, Object>) JSON.loadFromString(line);
    }

    @Test
    void jsonCarriesEveryField() throws Exception {
        long t = Instant.parse("2026-11-21T23:21:27.045Z").toEpochMilli();
        Map<String, Object> e = json(entry(t, "/api?x=1", InetAddress.getByName("203.0.113.7")));
        assertThat(e).containsEntry("time", "2026-11-21T23:21:27.045Z").containsEntry("listener", "tls")
                .containsEntry("protocol", "h3").containsEntry("client", "203.0.113.7").containsEntry("method", "GET")
                .containsEntry("authority", "example.com:8443").containsEntry("path", "/api?x=1")
                .containsEntry("route", "api").containsEntry("status", 200).containsEntry("bytes_in", 12)
                .containsEntry("bytes_out", 5120).containsEntry("duration_ms", 3.552)
                .containsEntry("endpoint", "10.0.0.5:8080").containsEntry("upstream_protocol", "h2")
                .containsEntry("attempts", 2)
                .containsEntry("request_id", "f8f3a1").containsEntry("trace_id", "4bf92f3577b34da6a3ce929d0e0e4736")
                .containsEntry("error", null);
        assertThat(e).hasSize(18);
    }

    @Test
    void jsonEscapesWhatMustBeEscapedAndKeepsUnicode() throws Exception {
        String hostile = "/a\"b\\c\nd\re\tf\u0001g\u007fh\u00e9i\u4e2dj\ud83d\ude00k";
        Map<String, Object> e = json(entry(0, hostile, InetAddress.getByName("::1")));
        assertThat(e.get("path")).isEqualTo(hostile);
        assertThat(e.get("client")).isEqualTo("::1");
        assertThat(e.get("time")).isEqualTo("1970-01-01T00:00:00.000Z");

        LineBuffer b = new LineBuffer(4);
        b.jsonString("x\ud800y\udc00"); // lone surrogates: escaped, so the bytes stay valid UTF-8
        assertThat(decode(b)).isEqualTo("\"x\\ud800y\\udc00\"");
        b.clear();
        b.jsonString(null).ascii(' ').jsonString("");
        assertThat(decode(b)).isEqualTo("null \"\"");
    }

    /**
     * NEL (U+0085, a byte 0x85 read as ISO-8859-1), the other C1 controls and U+2028/U+2029 end a line for readers
     * that split the Unicode way (Python's {@code splitlines}, Java's {@code \R}, YAML): escaped in both formats,
     * and the JSON still reads back to the value (found by {@code AccessLogFuzzTest}:
     * {@code AccessLogFuzzTestInputs/linesStayOneLineOfUtf8/crash-d15e37444e841ad60bb8872ae069d502e600e2b5}).
     */
    @Test
    void unicodeLineBreaksAreEscapedInBothFormats() throws Exception {
        String path = "/a\u0085b\u0080c\u009fd\u2028e\u2029f\u00a0g";
        LineBuffer b = new LineBuffer(8);
        entry(0, path, InetAddress.getByName("::1")).writeJson(b);
        String line = decode(b);
        assertThat(line).contains("\"path\":\"/a\\u0085b\\u0080c\\u009fd\\u2028e\\u2029f\u00a0g\"");
        assertThat(line.split("\\R", -1)).hasSize(1);
        assertThat(json(entry(0, path, InetAddress.getByName("::1"))).get("path")).isEqualTo(path);

        b.clear();
        entry(0, path, InetAddress.getByName("::1")).writeText(b);
        line = decode(b);
        assertThat(line).contains("\"GET /a\\x85b\\x80c\\x9fd\\xe2\\x80\\xa8e\\xe2\\x80\\xa9f\\xa0g\"");
        assertThat(line.split("\\R", -1)).hasSize(1);
    }

    /** RFC 5952 text, as the forwarding headers give it: no long form, no %scope (a QUIC peer's carries %0). */
    @Test
    void ipv6ClientsAreCanonicalOnEveryFormat() throws Exception {
        InetAddress quicPeer = Inet6Address.getByAddress(null, InetAddress.getByName("::1").getAddress(), 0);
        assertThat(quicPeer.getHostAddress()).isEqualTo("0:0:0:0:0:0:0:1%0");
        assertThat(json(entry(0, "/", quicPeer)).get("client")).isEqualTo("::1");
        LineBuffer b = new LineBuffer(8);
        entry(0, "/", quicPeer).writeText(b);
        assertThat(decode(b)).contains(" ::1 ").doesNotContain("%", "0:0:0:0");
        assertThat(json(entry(0, "/", InetAddress.getByName("2001:db8:0:0:1:0:0:1"))).get("client"))
                .isEqualTo("2001:db8::1:0:0:1");
    }

    @Test
    void numbersMillisAndTimes() throws Exception {
        LineBuffer b = new LineBuffer(1);
        for (long v : new long[]{0, 9, 10, 99, 100, -42, Long.MAX_VALUE, Long.MIN_VALUE}) {
            b.number(v).ascii(' ');
        }
        b.millis(1_234_567).ascii(' ').millis(5).ascii(' ').millis(1000).ascii(' ');
        long t = Instant.parse("2026-11-22T01:27:44.629Z").toEpochMilli();
        b.time(t).ascii(' ').time(t + 1).ascii(' ').time(t + 371).ascii(' ').time(t + 1371);
        assertThat(decode(b)).isEqualTo("0 9 10 99 100 -42 9223372036854775807 -9223372036854775808 "
                + "1234.567 0.005 1.000 2026-11-22T01:27:44.629Z 2026-11-22T01:27:44.630Z "
                + "2026-11-22T01:27:45.000Z 2026-11-22T01:27:46.000Z");
    }

    @Test
    void textEscapesLikeNginxAndDashesMissingValues() throws Exception {
        AccessLogEntry e = new AccessLogEntry(Instant.parse("2026-11-22T01:27:44.629Z").toEpochMilli(), "plain",
                "http/1.1", InetAddress.getByName("127.0.0.1"), "GET", "h", "/x y\"z\\\n\u00e9\u4e2d", null, 502, 0,
                0, 1_500, null, 1, "r1", null, "upstream_connect_failed", null);
        LineBuffer b = new LineBuffer(16);
        e.writeText(b);
        assertThat(decode(b)).isEqualTo("2026-11-22T01:27:44.629Z plain http/1.1 127.0.0.1 "
                + "\"GET /x y\\x22z\\x5c\\x0a\\xe9\u4e2d\" 502 0 0 1.500ms route=- endpoint=- upstream_protocol=- attempts=1"
                + " request_id=r1"
                + " trace_id=- error=upstream_connect_failed");
    }
}
