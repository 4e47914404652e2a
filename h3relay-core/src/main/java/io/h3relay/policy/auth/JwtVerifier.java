package io.h3relay.policy.auth;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.OctetKeyPair;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.h3relay.config.AuthConfig;

import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

/**
 * Verifies a compact JWS JWT (nimbus-jose-jwt) against the JWKS of a policy: the header's {@code alg} must be
 * one of the configured ones (so never {@code none} or an HMAC), the key is chosen by {@code kid} and type
 * (RSA for RS and PS, EC on the algorithm's curve for ES, Ed25519 for EdDSA, verified with the JDK's own
 * Ed25519 as nimbus would need Tink), then {@code exp} (required), {@code nbf}, {@code iss} and {@code aud}
 * are checked with the clock skew. Verified tokens are cached until they expire (at most a minute, and only
 * for the key set they were verified with), so a client repeating its token costs a map lookup.
 */
public final class JwtVerifier {
    private static final int CACHE_MAX = 10_000;
    private static final long CACHE_MILLIS = 60_000;
    private static final byte[] ED25519_SPKI_PREFIX = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03,
            0x21, 0x00};

    /** Why a token was refused (for the 401's error_description; never the token). */
    public static final class Invalid extends Exception {
        Invalid(String message) {
            super(message, null, false, false);
        }
    }

    private record Cached(Map<String, Object> claims, long untilMillis, JWKSet keys) {
    }

    private final JwksSource source;
    private final Set<JWSAlgorithm> algorithms;
    private final String issuer;
    private final List<String> audiences;
    private final long skewMillis;
    private final ConcurrentHashMap<String, Cached> cache = new ConcurrentHashMap<>();

    public JwtVerifier(AuthConfig.Jwt config, JwksSource source) {
        this.source = source;
        this.algorithms = config.algorithms().stream().map(JWSAlgorithm::parse).collect(Collectors.toUnmodifiableSet());
        this.issuer = config.issuer();
        this.audiences = config.audiences();
        this.skewMillis = config.clockSkew().toMillis();
    }

    /** The verified claims of {@code token}, or {@link Invalid} saying why not. */
    public Map<String, Object> verify(String token, long nowMillis) throws Invalid {
        JWKSet keys = source.keys();
        if (keys == null) {
            throw new Invalid("no verification keys loaded yet");
        }
        Cached c = cache.get(token);
        if (c != null && c.keys == keys && nowMillis < c.untilMillis) {
            return c.claims;
        }
        SignedJWT jwt;
        try {
            jwt = SignedJWT.parse(token);
        } catch (java.text.ParseException e) {
            throw new Invalid("not a signed JWT");
        }
        JWSHeader header = jwt.getHeader();
        if (!algorithms.contains(header.getAlgorithm())) {
            throw new Invalid("algorithm " + header.getAlgorithm() + " not accepted");
        }
        if (!verifySignature(jwt, header, keys)) {
            throw new Invalid("signature not verified by any key");
        }
        JWTClaimsSet claims;
        try {
            claims = jwt.getJWTClaimsSet();
        } catch (java.text.ParseException e) {
            throw new Invalid("claims are not a JSON object");
        }
        Date exp = claims.getExpirationTime();
        if (exp == null) {
            throw new Invalid("no exp");
        }
        if (nowMillis > exp.getTime() + skewMillis) {
            throw new Invalid("expired");
        }
        Date nbf = claims.getNotBeforeTime();
        if (nbf != null && nowMillis + skewMillis < nbf.getTime()) {
            throw new Invalid("not valid yet (nbf)");
        }
        if (issuer != null && !issuer.equals(claims.getIssuer())) {
            throw new Invalid("wrong issuer");
        }
        if (!audiences.isEmpty()) {
            List<String> aud = claims.getAudience();
            if (aud == null || aud.stream().noneMatch(audiences::contains)) {
                throw new Invalid("wrong audience");
            }
        }
        Map<String, Object> map = Map.copyOf(withoutNulls(claims.getClaims()));
        if (cache.size() >= CACHE_MAX) {
            cache.clear();
        }
        cache.put(token, new Cached(map, Math.min(exp.getTime() + skewMillis, nowMillis + CACHE_MILLIS), keys));
        return map;
    }

    private static Map<String, Object> withoutNulls(Map<String, Object> claims) {
        Map<String, Object> m = new java.util.HashMap<>(claims);
        m.values().removeIf(java.util.Objects::isNull);
        return m;
    }

    private static boolean verifySignature(SignedJWT jwt, JWSHeader header, JWKSet keys) throws Invalid {
        String kid = header.getKeyID();
        JWSAlgorithm alg = header.getAlgorithm();
        for (JWK k : keys.getKeys()) {
            if (kid != null && !kid.equals(k.getKeyID())) {
                continue;
            }
            if (k.getKeyUse() != null && k.getKeyUse() != KeyUse.SIGNATURE) {
                continue;
            }
            if (k.getAlgorithm() != null && !k.getAlgorithm().getName().equals(alg.getName())) {
                continue;
            }
            try {
                if (JWSAlgorithm.Family.EC.contains(alg) && k instanceof ECKey ec) {
                    if (!Curve.forJWSAlgorithm(alg).contains(ec.getCurve())) {
                        continue;
                    }
                    if (jwt.verify(new ECDSAVerifier(ec))) {
                        return true;
                    }
                } else if ((JWSAlgorithm.Family.RSA.contains(alg)) && k instanceof RSAKey rsa) {
                    JWSVerifier v = new RSASSAVerifier(rsa);
                    if (jwt.verify(v)) {
                        return true;
                    }
                } else if (JWSAlgorithm.EdDSA.equals(alg) && k instanceof OctetKeyPair okp
                        && Curve.Ed25519.equals(okp.getCurve())) {
                    if (verifyEd25519(jwt, okp)) {
                        return true;
                    }
                }
            } catch (Exception e) {
                // a key that cannot verify (wrong size, bad parameters): try the next
            }
        }
        return false;
    }

    private static boolean verifyEd25519(SignedJWT jwt, OctetKeyPair okp) throws Exception {
        byte[] x = okp.getDecodedX();
        byte[] spki = new byte[ED25519_SPKI_PREFIX.length + x.length];
        System.arraycopy(ED25519_SPKI_PREFIX, 0, spki, 0, ED25519_SPKI_PREFIX.length);
        System.arraycopy(x, 0, spki, ED25519_SPKI_PREFIX.length, x.length);
        PublicKey key = KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(spki));
        Signature sig = Signature.getInstance("Ed25519");
        sig.initVerify(key);
        sig.update(jwt.getSigningInput());
        return sig.verify(jwt.getSignature().decode());
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
