package io.h3relay.telemetry;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Fuzz target (issue 18): access-log lines from any request values (method, authority, path, route,
 * endpoint, ids: what a client controls or the config names). Both formats give exactly one line of valid
 * UTF-8 with no line terminator of any kind (CR, LF, VT, FF, and NEL, LS, PS, which Unicode-aware readers split
 * on: {@code \R}); the JSON line parses back, and to the very values when they are well-formed UTF-16 (a lone
 * surrogate is replaced, never written as broken UTF-8).
 */
@org.junit.jupiter.api.parallel.Isolated("Jazzer's hooks (e.g. its network-connection sanitizer) watch the whole JVM while it runs")
class AccessLogFuzzTest {
    /**
     * The read-back parser. snakeyaml-engine 2.9's {@code StreamReader} reads in chunks of its buffer size
     * (1,024 chars) and, when a chunk ends in a high surrogate, reads one more char past the end of its buffer: an
     * {@code IndexOutOfBoundsException} (found by this target, {@code crash-1a9c25f2...}: a line of over 1,024
     * chars with a surrogate pair across char 1,024). A buffer larger than any line the target makes keeps each
     * line in one chunk.
     */
    private static final int READ_BUFFER = 1 << 18;
    private static final Load JSON = new Load(LoadSettings.builder().setBufferSize(READ_BUFFER).build());

    @FuzzTest(maxDuration = "10m")
    @SuppressWarnings("unchecked")
    void linesStayOneLineOfUtf8(FuzzedDataProvider in) throws UnknownHostException, CharacterCodingException {
        byte[] addr = in.consumeBoolean() ? new byte[] {(byte) 203, 0, 113, 7}
                : new byte[] {0x20, 0x01, 0x0d, (byte) 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
        String method = in.consumeString(12);
        String authority = in.consumeString(40);
        String path = in.consumeString(120);
        String route = in.consumeBoolean() ? null : in.consumeString(20);
        String requestId = in.consumeString(40);
        String error = in.consumeBoolean() ? null : in.consumeString(20);
        String upstreamProtocol = in.consumeBoolean() ? null : in.consumeString(8);
        String endpoint = in.consumeRemainingAsString();
        AccessLogEntry e = new AccessLogEntry(1_764_000_000_000L, "tls", "h3", InetAddress.getByAddress(addr), method,
                authority, path, route, 200, 12, 5120, 3_552, endpoint, 2, requestId, null, error,
                upstreamProtocol);

        LineBuffer json = new LineBuffer(8);
        e.writeJson(json);
        String line = utf8(json);
        assertThat(line).doesNotContainPattern("\\R");
        if (!yamlPrintable(line)) {
            return; // valid JSON, but the YAML 1.2 parser used to read it back refuses U+FFFE/F (C1 controls are escaped)
        }
        assertThat(line.length()).as("line within the read-back buffer").isLessThan(READ_BUFFER);
        Map<String, Object> parsed = (Map<String, Object>) JSON.loadFromString(line);
        if (wellFormed(path) && wellFormed(method) && wellFormed(authority)) {
            assertThat(parsed.get("path")).isEqualTo(path);
            assertThat(parsed.get("method")).isEqualTo(method);
            assertThat(parsed.get("authority")).isEqualTo(authority);
        }

        LineBuffer text = new LineBuffer(8);
        e.writeText(text);
        assertThat(utf8(text)).doesNotContainPattern("\\R");
    }

    private static String utf8(LineBuffer b) throws CharacterCodingException {
        return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT)
                .decode(ByteBuffer.wrap(Arrays.copyOf(b.array(), b.length()))).toString();
    }

    /** YAML 1.2's printable set (what snakeyaml-engine reads): tab, LF, CR, 0x20-0x7E, 0x85, 0xA0-0xFFFD, pairs. */
    private static boolean yamlPrintable(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean ok = c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0x7E) || c == 0x85
                    || (c >= 0xA0 && c <= 0xFFFD);
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    private static boolean wellFormed(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c)) {
                if (i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1))) {
                    return false;
                }
                i++;
            } else if (Character.isLowSurrogate(c)) {
                return false;
            }
        }
        return true;
    }
}
