package io.h3relay.telemetry;

import io.netty.util.NetUtil;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;

/**
 * The bytes of a batch of access log lines, written as UTF-8 straight into one reused array: the access log's
 * hot loop, run on the event loops. Plain ASCII (nearly every value) is copied byte by byte; only the
 * characters that need it take the slow path. The time's text is cached per second. Not thread-safe: one
 * thread writes it at a time.
 */
final class LineBuffer {
    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] NULL = {'n', 'u', 'l', 'l'};

    private byte[] bytes;
    private int length;
    private int lines;
    private long cachedSecond = Long.MIN_VALUE;
    /** {@code 2026-11-22T01:27:44.} for {@link #cachedSecond}. */
    private byte[] secondText = new byte[0];

    LineBuffer(int capacity) {
        bytes = new byte[capacity];
    }

    byte[] array() {
        return bytes;
    }

    int length() {
        return length;
    }

    int capacity() {
        return bytes.length;
    }

    /** Lines in the buffer (counted by the caller, for what is lost when a buffer cannot be written). */
    int lines() {
        return lines;
    }

    void lineWritten() {
        lines++;
    }

    void clear() {
        length = 0;
        lines = 0;
    }

    private void ensure(int more) {
        if (length + more > bytes.length) {
            bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, length + more));
        }
    }

    /** Text known to be printable ASCII needing no escaping (field names, constants). */
    LineBuffer ascii(String s) {
        int n = s.length();
        ensure(n);
        for (int i = 0; i < n; i++) {
            bytes[length + i] = (byte) s.charAt(i);
        }
        length += n;
        return this;
    }

    LineBuffer ascii(char c) {
        ensure(1);
        bytes[length++] = (byte) c;
        return this;
    }

    LineBuffer number(long v) {
        if (v < 0) {
            if (v == Long.MIN_VALUE) {
                return ascii(Long.toString(v));
            }
            ascii('-');
            v = -v;
        }
        int digits = 1;
        for (long rest = v / 10; rest != 0; rest /= 10) {
            digits++;
        }
        ensure(digits);
        for (int i = length + digits - 1; i >= length; i--) {
            bytes[i] = (byte) ('0' + v % 10);
            v /= 10;
        }
        length += digits;
        return this;
    }

    /** Microseconds as milliseconds with three decimals: {@code 12.345}. */
    LineBuffer millis(long micros) {
        number(micros / 1000).ascii('.');
        long frac = Math.abs(micros % 1000);
        ensure(3);
        bytes[length++] = (byte) ('0' + frac / 100);
        bytes[length++] = (byte) ('0' + frac / 10 % 10);
        bytes[length++] = (byte) ('0' + frac % 10);
        return this;
    }

    /** ISO 8601 UTC with milliseconds: {@code 2026-11-22T01:27:44.629Z}. */
    LineBuffer time(long epochMillis) {
        long second = Math.floorDiv(epochMillis, 1000);
        if (second != cachedSecond) {
            String s = Instant.ofEpochSecond(second).toString(); // ...T01:27:44Z: whole seconds print no fraction
            secondText = (s.substring(0, s.length() - 1) + '.').getBytes(StandardCharsets.US_ASCII);
            cachedSecond = second;
        }
        ensure(secondText.length + 4);
        System.arraycopy(secondText, 0, bytes, length, secondText.length);
        length += secondText.length;
        int ms = (int) Math.floorMod(epochMillis, 1000);
        bytes[length++] = (byte) ('0' + ms / 100);
        bytes[length++] = (byte) ('0' + ms / 10 % 10);
        bytes[length++] = (byte) ('0' + ms % 10);
        bytes[length++] = 'Z';
        return this;
    }

    /** An IP address's text (IPv4 without allocating a string); {@code -} for null. */
    LineBuffer address(InetAddress a) {
        if (a == null) {
            return ascii('-');
        }
        if (a instanceof Inet4Address) {
            byte[] octets = a.getAddress();
            for (int i = 0; i < octets.length; i++) {
                if (i > 0) {
                    ascii('.');
                }
                number(octets[i] & 0xff);
            }
            return this;
        }
        return ascii(NetUtil.toAddressString(a)); // RFC 5952 (::1), no %scope, as the forwarding headers say
    }

    /**
     * A JSON string (UTF-8, escaped as RFC 8259 requires, lone surrogates as {@code \}u), or {@code null}. Also
     * escaped, though JSON allows them raw: the C1 controls (U+0080-U+009F) and U+2028/U+2029, so no reader that
     * splits lines the Unicode way (NEL, LS, PS: Python's {@code splitlines}, Java's {@code \R}, YAML readers)
     * sees a client's value end the line: a byte 0x85 in an h2/h3 :path read as ISO-8859-1 is U+0085, NEL (found
     * by {@code AccessLogFuzzTest}).
     */
    LineBuffer jsonString(String s) {
        if (s == null) {
            return raw(NULL);
        }
        int n = s.length();
        ensure(n + 2);
        bytes[length++] = '"';
        int i = 0;
        for (; i < n; i++) { // the fast path: printable ASCII other than " and \
            char c = s.charAt(i);
            if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
                break;
            }
            bytes[length + i] = (byte) c;
        }
        length += i;
        for (; i < n; i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> raw('\\', '"');
                case '\\' -> raw('\\', '\\');
                case '\n' -> raw('\\', 'n');
                case '\r' -> raw('\\', 'r');
                case '\t' -> raw('\\', 't');
                default -> {
                    if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == '\u2028' || c == '\u2029') {
                        unicodeEscape(c);
                    } else if (c < 0x7f) {
                        ascii(c);
                    } else if (Character.isSurrogate(c)) {
                        if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                            utf8(Character.toCodePoint(c, s.charAt(++i)));
                        } else {
                            unicodeEscape(c); // a lone surrogate would be invalid UTF-8
                        }
                    } else {
                        utf8(c);
                    }
                }
            }
        }
        return ascii('"');
    }

    /**
     * A value for the text format, escaped as nginx escapes its access log: control characters, {@code "},
     * {@code \} and the bytes 0x7f-0xff (header values are bytes read as ISO-8859-1) as {@code \xHH}, and
     * U+2028/U+2029 (Unicode line and paragraph separators) as their UTF-8 bytes, {@code \xe2\x80\xa8};
     * {@code -} for null.
     */
    LineBuffer text(String s) {
        if (s == null) {
            return ascii('-');
        }
        int n = s.length();
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
                ensure(1);
                bytes[length++] = (byte) c;
            } else if (c <= 0xff) {
                hexEscape(c);
            } else if (c == '\u2028' || c == '\u2029') {
                hexEscape(0xe2);
                hexEscape(0x80);
                hexEscape(c == '\u2028' ? 0xa8 : 0xa9);
            } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                utf8(Character.toCodePoint(c, s.charAt(++i)));
            } else {
                utf8(Character.isSurrogate(c) ? '?' : c);
            }
        }
        return this;
    }

    private LineBuffer raw(byte[] b) {
        ensure(b.length);
        System.arraycopy(b, 0, bytes, length, b.length);
        length += b.length;
        return this;
    }

    private void raw(char a, char b) {
        ensure(2);
        bytes[length++] = (byte) a;
        bytes[length++] = (byte) b;
    }

    private void hexEscape(int b) {
        ensure(4);
        bytes[length++] = '\\';
        bytes[length++] = 'x';
        bytes[length++] = HEX[b >> 4];
        bytes[length++] = HEX[b & 0xf];
    }

    private void unicodeEscape(char c) {
        ensure(6);
        bytes[length++] = '\\';
        bytes[length++] = 'u';
        bytes[length++] = HEX[c >> 12];
        bytes[length++] = HEX[(c >> 8) & 0xf];
        bytes[length++] = HEX[(c >> 4) & 0xf];
        bytes[length++] = HEX[c & 0xf];
    }

    private void utf8(int cp) {
        ensure(4);
        if (cp < 0x80) {
            bytes[length++] = (byte) cp;
        } else if (cp < 0x800) {
            bytes[length++] = (byte) (0xc0 | cp >> 6);
            bytes[length++] = (byte) (0x80 | cp & 0x3f);
        } else if (cp < 0x10000) {
            bytes[length++] = (byte) (0xe0 | cp >> 12);
            bytes[length++] = (byte) (0x80 | (cp >> 6) & 0x3f);
            bytes[length++] = (byte) (0x80 | cp & 0x3f);
        } else {
            bytes[length++] = (byte) (0xf0 | cp >> 18);
            bytes[length++] = (byte) (0x80 | (cp >> 12) & 0x3f);
            bytes[length++] = (byte) (0x80 | (cp >> 6) & 0x3f);
            bytes[length++] = (byte) (0x80 | cp & 0x3f);
        }
    }
}
