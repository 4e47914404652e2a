package io.h3relay.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the JSON error envelope {@code {"error":{"status":…,"code":"…","message":"…","request_id":"…"}}}
 * the proxy answers with on every protocol. The envelope is flat and written by us, so a pattern is enough.
 */
final class Envelope {
    private static final Pattern STATUS = Pattern.compile("\"status\":(\\d+)");
    private static final Pattern CODE = Pattern.compile("\"code\":\"([a-z_]+)\"");
    private static final Pattern REQUEST_ID = Pattern.compile("\"request_id\":\"([^\"]*)\"");

    private Envelope() {
    }

    static String code(String body) {
        return group(CODE, body);
    }

    static String requestId(String body) {
        return group(REQUEST_ID, body);
    }

    /** Asserts the response is the envelope for {@code status} / {@code code}, status in the body too. */
    static void assertError(int actualStatus, String body, int status, String code) {
        assertThat(actualStatus).as("status; body: %s", body).isEqualTo(status);
        assertThat(body).as("an error envelope").startsWith("{\"error\":{");
        assertThat(group(STATUS, body)).isEqualTo(String.valueOf(status));
        assertThat(code(body)).as("error.code in %s", body).isEqualTo(code);
    }

    private static String group(Pattern p, String body) {
        Matcher m = p.matcher(body == null ? "" : body);
        return m.find() ? m.group(1) : null;
    }
}
