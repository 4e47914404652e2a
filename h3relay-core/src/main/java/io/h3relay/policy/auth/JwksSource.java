package io.h3relay.policy.auth;

import com.nimbusds.jose.jwk.JWKSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The verification keys of a JWT policy: a JWKS file or URL, read once when the policy is built (a file that
 * cannot be read or parsed fails the config; a URL that does not answer is retried) and again every
 * {@code refresh} off the event loops. A failed refresh keeps the keys in hand. Verifiers read the current
 * set with one volatile read.
 */
public final class JwksSource implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(JwksSource.class);
    private static final long MAX_BYTES = 1 << 20;

    private final Path file;
    private final URI url;
    private final HttpClient http;
    private volatile JWKSet keys;

    public JwksSource(Path file, URI url, Duration refresh, ScheduledExecutorService scheduler) {
        this.file = file;
        this.url = url;
        this.http = url == null ? null : HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        if (file != null) {
            try {
                keys = read();
            } catch (Exception e) {
                throw new IllegalArgumentException("jwks_file " + file + ": " + e.getMessage(), e);
            }
        } else {
            refresh();
        }
        long every = refresh.toMillis();
        scheduler.scheduleWithFixedDelay(this::refresh, every, every, TimeUnit.MILLISECONDS);
    }

    /** The keys in hand, or null before a URL answered once. */
    JWKSet keys() {
        return keys;
    }

    private void refresh() {
        try {
            JWKSet next = read();
            if (keys == null || !next.toString().equals(keys.toString())) {
                LOG.info("jwks {}: {} key(s) loaded", file != null ? file : url, next.getKeys().size());
            }
            keys = next;
        } catch (Exception e) {
            LOG.warn("jwks {}: refresh failed, keeping {} key(s): {}", file != null ? file : url,
                    keys == null ? 0 : keys.getKeys().size(), e.toString());
        }
    }

    private JWKSet read() throws Exception {
        String json;
        if (file != null) {
            if (Files.size(file) > MAX_BYTES) {
                throw new IOException("larger than 1 MiB");
            }
            json = Files.readString(file);
        } else {
            HttpResponse<String> res = http.send(HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(5))
                    .header("accept", "application/json").build(), HttpResponse.BodyHandlers.ofString());
            if (res.statusCode() != 200) {
                throw new IOException("status " + res.statusCode());
            }
            json = res.body();
        }
        return JWKSet.parse(json).toPublicJWKSet();
    }

    @Override
    public void close() {
        if (http != null) {
            http.close();
        }
    }
}
