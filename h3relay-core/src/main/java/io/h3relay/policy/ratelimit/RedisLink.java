package io.h3relay.policy.ratelimit;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.StringCodec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

/**
 * One Redis server as the rate limits' shared bucket store (Lettuce, one multiplexed connection, commands
 * refused at once while disconnected so a Redis outage costs no queueing). A take is one atomic Lua script:
 * GCRA on Redis's own clock ({@code TIME}), so instances need no synchronized clocks; the key expires when
 * its bucket would be full again.
 */
public final class RedisLink implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RedisLink.class);

    /** KEYS[1] bucket; ARGV[1] interval µs, ARGV[2] tau µs. Returns debt µs (>= 0 admitted) or -wait µs. */
    static final String SCRIPT = """
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
            local interval = tonumber(ARGV[1])
            local tau = tonumber(ARGV[2])
            local tat = tonumber(redis.call('GET', KEYS[1]))
            if not tat or tat < now then tat = now end
            local debt = tat + interval - now
            if debt > tau then return -(debt - tau) end
            redis.call('SET', KEYS[1], tat + interval, 'PX', math.floor(debt / 1000) + 1000)
            return debt
            """;
    private static final String SHA = sha1(SCRIPT);
    private static final long RECONNECT_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final RedisClient client;
    private final RedisURI uri;
    private volatile CompletableFuture<StatefulRedisConnection<String, String>> connection;
    private volatile long lastConnect;
    private volatile boolean closed;

    public RedisLink(String redisUri, Duration timeout) {
        this.uri = RedisURI.create(redisUri);
        this.uri.setTimeout(timeout.multipliedBy(4).compareTo(Duration.ofSeconds(1)) > 0
                ? timeout.multipliedBy(4) : Duration.ofSeconds(1));
        this.client = RedisClient.create();
        client.setOptions(ClientOptions.builder()
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .autoReconnect(true)
                .build());
        connect();
    }

    private synchronized void connect() {
        if (closed) {
            return;
        }
        lastConnect = System.nanoTime();
        connection = client.connectAsync(StringCodec.UTF8, uri).toCompletableFuture();
        connection.whenComplete((c, e) -> {
            if (e != null) {
                LOG.warn("redis {}: cannot connect: {}", uri.getHost() + ":" + uri.getPort(), e.toString());
            }
        });
    }

    /**
     * One take from {@code key}'s bucket; completes with the script's answer in nanoseconds (see
     * {@link LocalBuckets#acquire}), or exceptionally (Redis down, late: the caller's timeout).
     */
    CompletableFuture<Long> acquire(String key, long intervalNanos, long tauNanos) {
        CompletableFuture<StatefulRedisConnection<String, String>> c = connection;
        if (c.isCompletedExceptionally() || c.isDone() && !c.join().isOpen()) {
            if (System.nanoTime() - lastConnect > RECONNECT_NANOS) {
                if (c.isDone() && !c.isCompletedExceptionally()) {
                    c.join().closeAsync();
                }
                connect();
                c = connection;
            } else {
                return CompletableFuture.failedFuture(new IllegalStateException("redis not connected"));
            }
        }
        String interval = Long.toString(Math.max(1, intervalNanos / 1000));
        String tau = Long.toString(Math.max(1, tauNanos / 1000));
        String[] keys = {key};
        return c.thenCompose(conn -> conn.async().<Long>evalsha(SHA, ScriptOutputType.INTEGER, keys, interval, tau)
                .toCompletableFuture()
                .exceptionallyCompose(e -> {
                    Throwable cause = e instanceof CompletionException ce && ce.getCause() != null ? ce.getCause() : e;
                    if (cause instanceof RedisNoScriptException) {
                        return conn.async().<Long>eval(SCRIPT, ScriptOutputType.INTEGER, keys, interval, tau)
                                .toCompletableFuture();
                    }
                    return CompletableFuture.failedFuture(cause);
                }))
                .thenApply(micros -> micros * 1000);
    }

    @Override
    public void close() {
        closed = true;
        CompletableFuture<StatefulRedisConnection<String, String>> c = connection;
        if (c != null && c.isDone() && !c.isCompletedExceptionally()) {
            c.join().closeAsync();
        }
        client.shutdownAsync(0, 2, TimeUnit.SECONDS);
    }

    private static String sha1(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
