package io.h3relay.config;

import java.util.Map;

/**
 * Replaces {@code ${NAME}} and {@code ${NAME:-default}} in one scalar value. Done per scalar, after YAML
 * parsing, so that a secret containing YAML syntax ({@code :}, {@code #}, quotes) cannot change the shape of
 * the document, and so that a missing variable is reported at the line that uses it.
 * Shell semantics: the default applies when the variable is unset or empty. {@code $${} writes a literal
 * {@code ${}.
 */
final class EnvSubstitution {
    static final String EXPECTED_SYNTAX = "${NAME} or ${NAME:-default}, NAME of letters, digits and _";

    /** Thrown for a reference that cannot be substituted; {@code expected} is the user-facing fix. */
    static final class Failure extends Exception {
        final String expected;

        Failure(String expected) {
            super(expected, null, false, false);
            this.expected = expected;
        }
    }

    private EnvSubstitution() {}

    static String substitute(String text, Map<String, String> env) throws Failure {
        if (!text.contains("${")) {
            return text;
        }
        StringBuilder out = new StringBuilder(text.length());
        int i = 0;
        while (i < text.length()) {
            if (text.startsWith("$${", i)) {
                out.append("${");
                i += 3;
            } else if (text.startsWith("${", i)) {
                int end = text.indexOf('}', i + 2);
                if (end < 0) {
                    throw new Failure(EXPECTED_SYNTAX);
                }
                out.append(resolve(text.substring(i + 2, end), env));
                i = end + 1;
            } else {
                out.append(text.charAt(i++));
            }
        }
        return out.toString();
    }

    private static String resolve(String reference, Map<String, String> env) throws Failure {
        int sep = reference.indexOf(":-");
        String name = sep < 0 ? reference : reference.substring(0, sep);
        if (!name.matches("[A-Za-z_][A-Za-z0-9_]*")) {
            throw new Failure(EXPECTED_SYNTAX);
        }
        String value = env.get(name);
        if (value != null && !value.isEmpty()) {
            return value;
        }
        if (sep >= 0) {
            return reference.substring(sep + 2);
        }
        if (value != null) {
            return value;
        }
        throw new Failure("environment variable " + name + " to be set, or a default: ${" + name + ":-default}");
    }
}
