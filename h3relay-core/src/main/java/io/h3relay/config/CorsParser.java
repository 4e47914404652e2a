package io.h3relay.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/** {@code policies.cors}. */
final class CorsParser {
    private static final Pattern ORIGIN = Pattern.compile("https?://(\\*\\.)?[A-Za-z0-9.-]+(:[0-9]{1,5})?");
    private static final Pattern TOKEN = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");
    private static final String ORIGIN_EXPECTED = "an origin such as https://app.example.com or "
            + "https://*.example.com (scheme, host, optional port; no path), or *";

    private CorsParser() {}

    static CorsConfig parse(YamlMap m) {
        List<String> origins = new ArrayList<>();
        if (!m.has("allow_origins") || m.isEmptyList("allow_origins")) {
            m.missing("allow_origins", "a list of origins: [" + ORIGIN_EXPECTED + ", ...]");
        }
        for (Scalar s : m.scalars("allow_origins", ORIGIN_EXPECTED)) {
            if (s.text().equals("*") || ORIGIN.matcher(s.text()).matches()) {
                origins.add(s.text().toLowerCase(Locale.ROOT));
            } else {
                m.ctx().invalid(s, ORIGIN_EXPECTED);
            }
        }
        List<String> methods = tokens(m, "allow_methods", "a method such as GET", true);
        List<String> headers = tokens(m, "allow_headers", "a header name, or *", false);
        List<String> expose = tokens(m, "expose_headers", "a header name", false);
        boolean credentials = m.bool("allow_credentials", false);
        var maxAge = m.duration("max_age", null);
        m.finish();
        if (credentials && origins.contains("*")) {
            m.notAllowed("allow_credentials", "false with allow_origins '*': browsers refuse credentials for any "
                    + "origin; list the origins");
        }
        return new CorsConfig(origins, methods.isEmpty() && !m.has("allow_methods") ? CorsConfig.DEFAULT_METHODS
                : methods, headers, expose, credentials, maxAge);
    }

    private static List<String> tokens(YamlMap m, String key, String expected, boolean upper) {
        List<String> out = new ArrayList<>();
        for (Scalar s : m.scalars(key, expected)) {
            if (TOKEN.matcher(s.text()).matches() && (!s.text().contains("*") || s.text().equals("*"))) {
                out.add(upper ? s.text().toUpperCase(Locale.ROOT) : s.text().toLowerCase(Locale.ROOT));
            } else {
                m.ctx().invalid(s, expected);
            }
        }
        return out;
    }
}
