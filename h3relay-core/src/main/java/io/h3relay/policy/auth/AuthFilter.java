package io.h3relay.policy.auth;

import at.favre.lib.crypto.bcrypt.BCrypt;
import io.h3relay.config.AuthConfig;
import io.h3relay.exchange.ErrorCode;
import io.h3relay.exchange.ExchangeAttribute;
import io.h3relay.exchange.ProxyError;
import io.h3relay.filter.Filter;
import io.h3relay.filter.FilterContext;
import io.h3relay.filter.FilterResult;
import io.h3relay.policy.PolicyAttributes;
import io.h3relay.policy.PolicyMetrics;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.LongAdder;

/**
 * {@code policies.auth}: the first credential the request presents among the configured methods decides
 * (client certificate, then {@code Authorization: Bearer} JWT, then {@code Authorization: Basic}, then the
 * API key header). Valid: the identity and chosen JWT claims go upstream as request headers (copies the
 * client sent are always removed first), a Basic password or an API key does not. Missing or invalid: 401
 * {@code unauthorized} with {@code WWW-Authenticate}; authenticated but not allowed (a JWT without a
 * required claim, a certificate subject not listed): 403 {@code forbidden}. bcrypt (slow by design) runs
 * off the event loop, once per credential per minute; JWTs are verified on the loop (a few tens of
 * microseconds) and cached.
 */
public final class AuthFilter implements Filter {
    private static final ExchangeAttribute<String> CHALLENGE = ExchangeAttribute.of("policy.auth_challenge");
    private static final ProxyError MISSING = new ProxyError(ErrorCode.UNAUTHORIZED, "authentication required");
    private static final ProxyError INVALID_TOKEN = new ProxyError(ErrorCode.UNAUTHORIZED, "invalid token");
    private static final ProxyError BAD_CREDENTIALS = new ProxyError(ErrorCode.UNAUTHORIZED, "invalid credentials");
    private static final ProxyError BAD_KEY = new ProxyError(ErrorCode.UNAUTHORIZED, "invalid API key");
    private static final ProxyError CLAIMS = new ProxyError(ErrorCode.FORBIDDEN,
            "the token does not carry the claims this route requires");
    private static final ProxyError SUBJECT = new ProxyError(ErrorCode.FORBIDDEN,
            "the client certificate is not allowed on this route");
    private static final ProxyError CERT_REQUIRED = new ProxyError(ErrorCode.FORBIDDEN,
            "a client certificate is required");
    private static final long BASIC_CACHE_MILLIS = 60_000;

    private final String identityHeader;
    private final List<String> strip = new ArrayList<>();
    private final JwtVerifier jwt;
    private final Map<String, String> claimsToHeaders;
    private final Map<String, String> requiredClaims;
    private final String apiKeyHeader;
    private final byte[][] apiKeyHashes;
    private final String[] apiKeyNames;
    private final AuthConfig.Basic basic;
    private final Map<String, Long> basicVerified = new ConcurrentHashMap<>();
    private final Executor slow;
    private final AuthConfig.ClientCert clientCert;
    private final String challenges;
    private final LongAdder allowed;
    private final LongAdder unauthorized;
    private final LongAdder forbidden;

    public AuthFilter(AuthConfig c, JwtVerifier jwt, Executor slow, PolicyMetrics metrics, String listener,
                      String route) {
        this.identityHeader = c.identityHeader();
        this.jwt = jwt;
        this.claimsToHeaders = c.jwt() == null ? Map.of() : c.jwt().claimsToHeaders();
        this.requiredClaims = c.jwt() == null ? Map.of() : c.jwt().requiredClaims();
        this.apiKeyHeader = c.apiKeys() == null ? null : c.apiKeys().header();
        this.basic = c.basic();
        this.slow = slow;
        this.clientCert = c.clientCert();
        if (c.apiKeys() != null) {
            List<Map.Entry<String, String>> keys = new ArrayList<>(c.apiKeys().sha256ByName().entrySet());
            apiKeyNames = keys.stream().map(Map.Entry::getKey).toArray(String[]::new);
            apiKeyHashes = keys.stream().map(e -> HexFormat.of().parseHex(e.getValue())).toArray(byte[][]::new);
        } else {
            apiKeyNames = new String[0];
            apiKeyHashes = new byte[0][];
        }
        if (identityHeader != null) {
            strip.add(identityHeader);
        }
        strip.addAll(claimsToHeaders.values());
        if (clientCert != null && clientCert.header() != null) {
            strip.add(clientCert.header());
        }
        List<String> ch = new ArrayList<>();
        if (jwt != null) {
            ch.add("Bearer realm=\"h3relay\"");
        }
        if (basic != null) {
            ch.add("Basic realm=\"" + basic.realm() + "\", charset=\"UTF-8\"");
        }
        if (apiKeyHeader != null) {
            ch.add("ApiKey header=\"" + apiKeyHeader + "\"");
        }
        this.challenges = String.join(", ", ch);
        this.allowed = metrics.counter(listener, route, "auth", "allowed");
        this.unauthorized = metrics.counter(listener, route, "auth", "unauthorized");
        this.forbidden = metrics.counter(listener, route, "auth", "forbidden");
    }

    @Override
    public FilterResult onRouted(FilterContext ctx, HttpRequest head) {
        HttpHeaders h = head.headers();
        for (int i = 0; i < strip.size(); i++) {
            h.remove(strip.get(i));
        }
        if (clientCert != null) {
            String subject = ClientCertificates.subject(ctx.downstreamChannel());
            if (subject != null) {
                if (!clientCert.subjects().isEmpty() && !clientCert.subjects().contains(subject)) {
                    forbidden.increment();
                    return FilterResult.reject(SUBJECT);
                }
                if (clientCert.header() != null) {
                    h.set(clientCert.header(), subject);
                }
                return admit(h, subject);
            }
        }
        String authz = h.get(HttpHeaderNames.AUTHORIZATION);
        if (jwt != null && authz != null && authz.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return bearer(ctx, h, authz.substring(7).trim());
        }
        if (basic != null && authz != null && authz.regionMatches(true, 0, "Basic ", 0, 6)) {
            return basic(ctx, h, authz.substring(6).trim());
        }
        if (apiKeyHeader != null) {
            String key = h.get(apiKeyHeader);
            if (key != null) {
                String name = apiKey(key);
                if (name == null) {
                    return unauthorized(ctx, BAD_KEY, challenges);
                }
                h.remove(apiKeyHeader);
                return admit(h, name);
            }
        }
        if (challenges.isEmpty()) {
            forbidden.increment();
            return FilterResult.reject(CERT_REQUIRED); // client_cert only: nothing HTTP could add
        }
        return unauthorized(ctx, MISSING, challenges);
    }

    private FilterResult admit(HttpHeaders h, String identity) {
        if (identityHeader != null && identity != null) {
            h.set(identityHeader, identity);
        }
        allowed.increment();
        return FilterResult.CONTINUE;
    }

    private FilterResult unauthorized(FilterContext ctx, ProxyError error, String challenge) {
        unauthorized.increment();
        ctx.attribute(CHALLENGE, challenge);
        return FilterResult.reject(error);
    }

    private FilterResult bearer(FilterContext ctx, HttpHeaders h, String token) {
        Map<String, Object> claims;
        try {
            claims = jwt.verify(token, System.currentTimeMillis());
        } catch (JwtVerifier.Invalid e) {
            return unauthorized(ctx, INVALID_TOKEN, "Bearer realm=\"h3relay\", error=\"invalid_token\", "
                    + "error_description=\"" + e.getMessage() + "\"");
        }
        for (Map.Entry<String, String> r : requiredClaims.entrySet()) {
            if (!claimHas(claims.get(r.getKey()), r.getValue())) {
                forbidden.increment();
                return FilterResult.reject(CLAIMS);
            }
        }
        ctx.attribute(PolicyAttributes.CLAIMS, claims);
        for (Map.Entry<String, String> e : claimsToHeaders.entrySet()) {
            Object v = claims.get(e.getKey());
            if (v != null) {
                h.set(e.getValue(), v instanceof Collection<?> list ? String.join(",",
                        list.stream().map(String::valueOf).toList()) : String.valueOf(v));
            }
        }
        Object sub = claims.get("sub");
        return admit(h, sub == null ? null : sub.toString());
    }

    private static boolean claimHas(Object claim, String value) {
        if (claim == null) {
            return false;
        }
        if (claim instanceof Collection<?> list) {
            return list.stream().anyMatch(v -> value.equals(String.valueOf(v)));
        }
        String s = String.valueOf(claim);
        if (s.equals(value)) {
            return true;
        }
        for (String part : s.split(" ")) { // OAuth scope: space-separated
            if (part.equals(value)) {
                return true;
            }
        }
        return false;
    }

    private FilterResult basic(FilterContext ctx, HttpHeaders h, String encoded) {
        String userPass;
        try {
            userPass = new String(Base64.getDecoder().decode(encoded), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return unauthorized(ctx, BAD_CREDENTIALS, challenges);
        }
        int colon = userPass.indexOf(':');
        String user = colon < 0 ? userPass : userPass.substring(0, colon);
        String hash = basic.bcryptByUser().get(user);
        if (colon < 0 || hash == null) {
            return unauthorized(ctx, BAD_CREDENTIALS, challenges);
        }
        String cacheKey = HexFormat.of().formatHex(sha256(userPass));
        Long until = basicVerified.get(cacheKey);
        long now = System.currentTimeMillis();
        if (until != null && now < until) {
            h.remove(HttpHeaderNames.AUTHORIZATION);
            return admit(h, user);
        }
        String password = userPass.substring(colon + 1);
        try {
            slow.execute(() -> {
                boolean ok = BCrypt.verifyer().verify(password.toCharArray(), hash.toCharArray()).verified;
                ctx.downstreamChannel().eventLoop().execute(() -> {
                    if (ok) {
                        if (basicVerified.size() > 10_000) {
                            basicVerified.clear();
                        }
                        basicVerified.put(cacheKey, System.currentTimeMillis() + BASIC_CACHE_MILLIS);
                        h.remove(HttpHeaderNames.AUTHORIZATION);
                        ctx.resume(admit(h, user));
                    } else {
                        ctx.resume(unauthorized(ctx, BAD_CREDENTIALS, challenges));
                    }
                });
            });
        } catch (RejectedExecutionException e) {
            return unauthorized(ctx, BAD_CREDENTIALS, challenges);
        }
        return FilterResult.PAUSE;
    }

    /** The name of the configured key {@code key} hashes to, or null; compares against every key. */
    private String apiKey(String key) {
        byte[] hash = sha256(key);
        String found = null;
        for (int i = 0; i < apiKeyHashes.length; i++) {
            if (MessageDigest.isEqual(hash, apiKeyHashes[i])) {
                found = apiKeyNames[i];
            }
        }
        return found;
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void onResponseHead(FilterContext ctx, HttpResponse head) {
        String challenge = ctx.attribute(CHALLENGE);
        if (challenge != null && head.status().code() == 401) {
            head.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, challenge);
        }
    }
}
