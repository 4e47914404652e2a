package io.h3relay.policy.cache;

import java.util.List;
import java.util.Locale;

/**
 * The directives of {@code Cache-Control} header values that the cache acts on (RFC 9111 section 5.2).
 * Delta-seconds are -1 when absent; a malformed value of a directive counts as absent, except that a
 * malformed max-age makes the response stale (section 4.2.1: invalid freshness means stale).
 */
record CacheControl(boolean noStore, boolean noCache, boolean isPrivate, boolean isPublic, boolean mustRevalidate,
                    boolean onlyIfCached, long maxAge, long sMaxAge, long staleWhileRevalidate, long minFresh,
                    long maxStale) {

    static final CacheControl NONE = new CacheControl(false, false, false, false, false, false, -1, -1, -1, -1, -1);

    static CacheControl parse(List<String> values) {
        if (values.isEmpty()) {
            return NONE;
        }
        boolean noStore = false;
        boolean noCache = false;
        boolean priv = false;
        boolean pub = false;
        boolean mustRevalidate = false;
        boolean onlyIfCached = false;
        long maxAge = -1;
        long sMaxAge = -1;
        long swr = -1;
        long minFresh = -1;
        long maxStale = -1;
        for (String value : values) {
            for (String d : splitDirectives(value)) {
                int eq = d.indexOf('=');
                String name = (eq < 0 ? d : d.substring(0, eq)).trim().toLowerCase(Locale.ROOT);
                String arg = eq < 0 ? null : unquote(d.substring(eq + 1).trim());
                switch (name) {
                    case "no-store" -> noStore = true;
                    // no-cache="field" (qualified) is treated as plain no-cache: stricter, never wrong
                    case "no-cache" -> noCache = true;
                    case "private" -> priv = true;
                    case "public" -> pub = true;
                    case "must-revalidate", "proxy-revalidate" -> mustRevalidate = true;
                    case "only-if-cached" -> onlyIfCached = true;
                    case "max-age" -> maxAge = seconds(arg, 0);
                    case "s-maxage" -> sMaxAge = seconds(arg, -1);
                    case "stale-while-revalidate" -> swr = seconds(arg, -1);
                    case "min-fresh" -> minFresh = seconds(arg, -1);
                    case "max-stale" -> maxStale = arg == null ? Long.MAX_VALUE : seconds(arg, -1);
                    default -> {
                        // extensions and directives the cache does not act on
                    }
                }
            }
        }
        return new CacheControl(noStore, noCache, priv, pub, mustRevalidate, onlyIfCached, maxAge, sMaxAge, swr,
                minFresh, maxStale);
    }

    /** Splits on commas outside quoted strings. */
    private static List<String> splitDirectives(String value) {
        java.util.ArrayList<String> out = new java.util.ArrayList<>(4);
        boolean quoted = false;
        int start = 0;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '"') {
                quoted = !quoted;
            } else if (c == ',' && !quoted) {
                add(out, value.substring(start, i));
                start = i + 1;
            }
        }
        add(out, value.substring(start));
        return out;
    }

    private static void add(List<String> out, String d) {
        String t = d.trim();
        if (!t.isEmpty()) {
            out.add(t);
        }
    }

    private static String unquote(String s) {
        return s.length() >= 2 && s.startsWith("\"") && s.endsWith("\"") ? s.substring(1, s.length() - 1) : s;
    }

    /** Delta-seconds (huge values saturate, as RFC 9111 section 1.2.2 asks); {@code bad} when malformed. */
    private static long seconds(String arg, long bad) {
        if (arg == null || arg.isEmpty()) {
            return bad;
        }
        long v = 0;
        for (int i = 0; i < arg.length(); i++) {
            char c = arg.charAt(i);
            if (c < '0' || c > '9') {
                return bad;
            }
            v = v * 10 + (c - '0');
            if (v > Integer.MAX_VALUE) {
                return Integer.MAX_VALUE;
            }
        }
        return v;
    }
}
