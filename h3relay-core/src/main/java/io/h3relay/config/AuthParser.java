package io.h3relay.config;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/** {@code policies.auth}. */
final class AuthParser {
    private static final Pattern TOKEN = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");
    private static final Pattern SHA256 = Pattern.compile("[0-9a-fA-F]{64}");
    private static final Pattern BCRYPT = Pattern.compile("\\$2[aby]\\$\\d\\d\\$[./A-Za-z0-9]{53}");
    private static final Set<String> ALGORITHMS = Set.of("RS256", "RS384", "RS512", "ES256", "ES384", "ES512",
            "EdDSA", "PS256", "PS384", "PS512");
    private static final String HEADER = "a header name such as X-User-Id";

    private AuthParser() {}

    static AuthConfig parse(YamlMap m) {
        String identity = header(m, "identity_header");
        YamlMap jwtMap = m.map("jwt");
        AuthConfig.Jwt jwt = jwtMap == null ? null : jwt(jwtMap);
        YamlMap keysMap = m.map("api_keys");
        AuthConfig.ApiKeys keys = keysMap == null ? null : apiKeys(keysMap);
        YamlMap basicMap = m.map("basic");
        AuthConfig.Basic basic = basicMap == null ? null : basic(basicMap);
        YamlMap certMap = m.map("client_cert");
        AuthConfig.ClientCert cert = certMap == null ? null : clientCert(certMap);
        m.finish();
        if (!m.has("jwt") && !m.has("api_keys") && !m.has("basic") && !m.has("client_cert")) {
            m.ctx().error(m.path(), "no method", "at least one of jwt, api_keys, basic, client_cert", m.line());
            return null;
        }
        if (jwtMap != null && jwt == null || keysMap != null && keys == null || basicMap != null && basic == null
                || certMap != null && cert == null) {
            return null;
        }
        return new AuthConfig(identity, jwt, keys, basic, cert);
    }

    private static String header(YamlMap m, String key) {
        String h = m.value(key, HEADER, t -> TOKEN.matcher(t).matches() ? t : null);
        return h == null ? null : h.toLowerCase(java.util.Locale.ROOT);
    }

    private static AuthConfig.Jwt jwt(YamlMap m) {
        Path file = m.value("jwks_file", "a readable JWKS file", t -> {
            Path p = m.ctx().resolve(t);
            return Files.isReadable(p) ? p : null;
        });
        URI url = m.value("jwks_url", "an http(s) URL", t -> {
            URI u = URI.create(t);
            return ("https".equals(u.getScheme()) || "http".equals(u.getScheme())) && u.getHost() != null ? u : null;
        });
        if (m.has("jwks_file") == m.has("jwks_url")) {
            m.ctx().error(m.path(), "a mapping", "exactly one of jwks_file, jwks_url", m.line());
        }
        Duration refresh = m.positiveDuration("refresh", Duration.ofMinutes(5));
        String issuer = m.string("issuer");
        List<String> audiences = new ArrayList<>();
        m.scalars("audiences", "an audience").forEach(s -> audiences.add(s.text()));
        List<String> algorithms = new ArrayList<>();
        for (Scalar s : m.scalars("algorithms", "one of RS256, ES256, EdDSA, ...")) {
            if (ALGORITHMS.contains(s.text())) {
                algorithms.add(s.text());
            } else {
                m.ctx().invalid(s, "one of " + String.join(", ", new java.util.TreeSet<>(ALGORITHMS))
                        + " (never none, never HS*: a shared secret has no place in a proxy's config)");
            }
        }
        Duration skew = m.duration("clock_skew", Duration.ofSeconds(30));
        Map<String, String> toHeaders = new LinkedHashMap<>();
        m.scalarMap("claims_to_headers", HEADER).forEach((claim, s) -> {
            if (TOKEN.matcher(s.text()).matches()) {
                toHeaders.put(claim, s.text().toLowerCase(java.util.Locale.ROOT));
            } else {
                m.ctx().invalid(s, HEADER);
            }
        });
        Map<String, String> required = new LinkedHashMap<>();
        m.scalarMap("required_claims", "a value").forEach((claim, s) -> required.put(claim, s.text()));
        m.finish();
        if (file == null && url == null) {
            return null;
        }
        return new AuthConfig.Jwt(file, url, refresh, issuer, audiences,
                algorithms.isEmpty() && !m.has("algorithms") ? AuthConfig.Jwt.DEFAULT_ALGORITHMS : algorithms,
                skew, toHeaders, required);
    }

    private static AuthConfig.ApiKeys apiKeys(YamlMap m) {
        String header = header(m, "header");
        Map<String, String> byName = new LinkedHashMap<>();
        for (YamlMap k : m.maps("keys")) {
            String name = k.name("key");
            String sha = k.value("sha256", "the key's SHA-256 as 64 hex digits (echo -n KEY | sha256sum)",
                    t -> SHA256.matcher(t).matches() ? t.toLowerCase(java.util.Locale.ROOT) : null);
            if (!k.has("sha256")) {
                k.missing("sha256", "the key's SHA-256 as 64 hex digits (echo -n KEY | sha256sum)");
            }
            k.finish();
            if (name != null && sha != null) {
                byName.put(name, sha);
            }
        }
        if (!m.has("keys") || m.isEmptyList("keys")) {
            m.missing("keys", "a list of {name, sha256}");
        }
        m.finish();
        return byName.isEmpty() ? null : new AuthConfig.ApiKeys(header == null ? "x-api-key" : header, byName);
    }

    private static AuthConfig.Basic basic(YamlMap m) {
        String realm = m.string("realm", "h3relay");
        Map<String, String> users = new LinkedHashMap<>();
        for (YamlMap u : m.maps("users")) {
            String name = u.value("name", "a user name without ':'", t -> t.isEmpty() || t.contains(":") ? null : t);
            String hash = u.value("bcrypt", "a bcrypt hash ($2b$10$... as htpasswd -B makes)",
                    t -> BCRYPT.matcher(t).matches() ? t : null);
            if (!u.has("name")) {
                u.missing("name", "a user name");
            }
            if (!u.has("bcrypt")) {
                u.missing("bcrypt", "a bcrypt hash");
            }
            u.finish();
            if (name != null && hash != null) {
                users.put(name, hash);
            }
        }
        if (!m.has("users") || m.isEmptyList("users")) {
            m.missing("users", "a list of {name, bcrypt}");
        }
        m.finish();
        return users.isEmpty() || realm == null || realm.contains("\"") ? null : new AuthConfig.Basic(realm, users);
    }

    private static AuthConfig.ClientCert clientCert(YamlMap m) {
        String header = header(m, "header");
        List<String> subjects = new ArrayList<>();
        m.scalars("subjects", "a subject DN such as CN=client,O=Example").forEach(s -> subjects.add(s.text()));
        m.finish();
        return new AuthConfig.ClientCert(header, subjects);
    }
}
