package io.h3relay.cli;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads the h3 port from an Alt-Svc header (RFC 7838) when it names the same host: {@code h3=":8443"}. */
final class AltSvc {
    private static final Pattern H3 = Pattern.compile("(?:^|,)\\s*h3=\"([^\":]*):(\\d{1,5})\"");

    private AltSvc() {
    }

    /** The port of the first same-host h3 alternative, or null (none, {@code clear}, or another host). */
    static Integer h3Port(String header) {
        if (header == null) {
            return null;
        }
        Matcher m = H3.matcher(header);
        while (m.find()) {
            int port = Integer.parseInt(m.group(2));
            if (m.group(1).isEmpty() && port > 0 && port < 65536) {
                return port;
            }
        }
        return null;
    }
}
