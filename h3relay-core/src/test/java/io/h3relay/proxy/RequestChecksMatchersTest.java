package io.h3relay.proxy;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The hand-written Host and absolute-form checks (no regex per request) agree with the regular expressions
 * they replaced, on chosen cases and on random strings over the characters that matter.
 */
class RequestChecksMatchersTest {
    private static final String ALPHABET = "aZ09:.[]%25vV-_~!$&'()*+;=/?#@, \t\"\\" + (char) 0x7f + (char) 0xe9;

    private static void agree(String s) {
        assertEquals(RequestChecks.HOST.matcher(s).matches(), RequestChecks.validHost(s), () -> "host: " + s);
        assertEquals(RequestChecks.ABSOLUTE_FORM.matcher(s).lookingAt(), RequestChecks.isAbsoluteForm(s),
                () -> "absolute-form: " + s);
    }

    @Test
    void chosenCases() {
        for (String s : List.of("", "example.com", "EXAMPLE.com:8443", "example.com:", "a:1:2", "127.0.0.1:80",
                "[::1]", "[::1]:443", "[fe80::1%25eth0]:8080", "[fe80::1%25]", "[fe80::1%eth0]", "[]", "[::1",
                "[::1]x", "[v1.fe80::a+en1]", "ex ample", "user@host", "a,b", "%41%42", "host:8o",
                "http://a/", "HTTP://a", "h+t-t.p://x", "1http://x", "http:/x", "http//x", "://x", "/path",
                "*", "http:", "x://")) {
            agree(s);
        }
    }

    @Test
    void randomStrings() {
        Random r = new Random(19);
        for (int n = 0; n < 200_000; n++) {
            int len = r.nextInt(12);
            StringBuilder sb = new StringBuilder(len);
            if (r.nextInt(4) == 0) {
                sb.append(r.nextBoolean() ? "[" : "http://");
            }
            for (int i = 0; i < len; i++) {
                sb.append(ALPHABET.charAt(r.nextInt(ALPHABET.length())));
            }
            agree(sb.toString());
        }
    }
}
