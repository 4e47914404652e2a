package io.h3relay.config;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * {@code policies.auth}: one or more methods, alternatives (the first credential the request presents is the
 * one checked). Null methods are not configured; at least one is. {@code identityHeader}: the authenticated
 * identity (JWT {@code sub}, API key name, Basic user, certificate subject) forwarded upstream, or null.
 */
public record AuthConfig(String identityHeader, Jwt jwt, ApiKeys apiKeys, Basic basic, ClientCert clientCert) {

    /**
     * Bearer JWTs. Exactly one of {@code jwksFile}, {@code jwksUrl}; both re-read every {@code refresh}.
     * {@code issuer} and {@code audiences} are checked when set; {@code claimsToHeaders} maps claim names to
     * request header names; {@code requiredClaims}: claim -> value the claim must equal (or contain, for a
     * list), else 403.
     */
    public record Jwt(Path jwksFile, URI jwksUrl, Duration refresh, String issuer, List<String> audiences,
                      List<String> algorithms, Duration clockSkew, Map<String, String> claimsToHeaders,
                      Map<String, String> requiredClaims) {
        public static final List<String> DEFAULT_ALGORITHMS = List.of("RS256", "ES256", "EdDSA");

        public Jwt {
            audiences = List.copyOf(audiences);
            algorithms = List.copyOf(algorithms);
            claimsToHeaders = Map.copyOf(claimsToHeaders);
            requiredClaims = Map.copyOf(requiredClaims);
        }
    }

    /** Keys presented in {@code header}; the config holds only their SHA-256 (lowercase hex), by name. */
    public record ApiKeys(String header, Map<String, String> sha256ByName) {
        public ApiKeys {
            sha256ByName = Map.copyOf(sha256ByName);
        }
    }

    /** HTTP Basic: users and their bcrypt hashes ({@code $2a$}, {@code $2b$}, {@code $2y$}). */
    public record Basic(String realm, Map<String, String> bcryptByUser) {
        public Basic {
            bcryptByUser = Map.copyOf(bcryptByUser);
        }
    }

    /**
     * The client certificate of an mTLS listener: its subject DN (RFC 2253) forwarded in {@code header};
     * {@code subjects} non-empty: only those subjects pass (others get 403).
     */
    public record ClientCert(String header, List<String> subjects) {
        public ClientCert {
            subjects = List.copyOf(subjects);
        }
    }
}
