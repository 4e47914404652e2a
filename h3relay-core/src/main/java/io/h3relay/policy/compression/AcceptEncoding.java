package io.h3relay.policy.compression;

import io.h3relay.config.CompressionConfig;
import io.h3relay.config.CompressionConfig.Encoding;

import java.util.List;

/**
 * {@code Accept-Encoding} negotiation (RFC 9110 section 12.5.3): the offered encoding with the highest q-value
 * wins, ties going to the one configured first; {@code *} stands for every coding not named; {@code q=0}
 * refuses a coding. No header, or nothing acceptable, means identity (the body goes out as it is: refusing
 * with 406 helps nobody).
 */
final class AcceptEncoding {
    private AcceptEncoding() {}

    /** The encoding to use for a request with these Accept-Encoding values, or null for identity. */
    static Encoding choose(List<String> headerValues, List<Encoding> offered) {
        if (headerValues.isEmpty()) {
            return null;
        }
        Encoding best = null;
        int bestQ = 0;
        for (Encoding e : offered) {
            int q = qualityOf(headerValues, e.algorithm());
            if (q > bestQ) {
                best = e;
                bestQ = q;
            }
        }
        return best;
    }

    /** The q-value (in thousandths) the header gives {@code a}: its own entry, else {@code *}'s, else 0. */
    static int qualityOf(List<String> headerValues, CompressionConfig.Algorithm a) {
        int own = -1;
        int star = -1;
        for (String value : headerValues) {
            int i = 0;
            int n = value.length();
            while (i < n) {
                int end = value.indexOf(',', i);
                if (end < 0) {
                    end = n;
                }
                int semi = value.indexOf(';', i);
                int tokenEnd = semi >= 0 && semi < end ? semi : end;
                String token = value.substring(i, tokenEnd).trim();
                int q = tokenEnd < end ? q(value.substring(tokenEnd + 1, end)) : 1000;
                if (q >= 0) {
                    if (token.equalsIgnoreCase(a.token)
                            || (a == CompressionConfig.Algorithm.GZIP && token.equalsIgnoreCase("x-gzip"))) {
                        own = Math.max(own, q);
                    } else if (token.equals("*")) {
                        star = Math.max(star, q);
                    }
                }
                i = end + 1;
            }
        }
        return own >= 0 ? own : Math.max(star, 0);
    }

    /** The q parameter of {@code params} ({@code q=0.5}) in thousandths; 1000 without one; -1 if malformed. */
    private static int q(String params) {
        for (String p : params.split(";")) {
            String t = p.trim();
            if (t.length() >= 2 && (t.charAt(0) == 'q' || t.charAt(0) == 'Q') && t.charAt(1) == '=') {
                return parseQ(t.substring(2).trim());
            }
        }
        return 1000;
    }

    private static int parseQ(String v) {
        // qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
        if (v.isEmpty() || v.length() > 5 || (v.charAt(0) != '0' && v.charAt(0) != '1')) {
            return -1;
        }
        int whole = v.charAt(0) - '0';
        int frac = 0;
        if (v.length() > 1) {
            if (v.charAt(1) != '.') {
                return -1;
            }
            String digits = v.substring(2);
            for (int i = 0; i < 3; i++) {
                char c = i < digits.length() ? digits.charAt(i) : '0';
                if (c < '0' || c > '9') {
                    return -1;
                }
                frac = frac * 10 + (c - '0');
            }
        }
        int q = whole * 1000 + frac;
        return q > 1000 ? -1 : q;
    }
}
