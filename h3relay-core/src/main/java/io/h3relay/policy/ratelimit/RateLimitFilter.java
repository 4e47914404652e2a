package io.h3relay.policy.ratelimit;

import io.h3relay.config.RateLimitConfig;
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
import io.netty.util.AsciiString;
import io.netty.util.NetUtil;

import java.net.InetAddress;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * {@code policies.rate_limit}: one token per request from the bucket of the request's key; an empty bucket
 * is 429 {@code too_many_requests} with {@code Retry-After}. Every response of the route (the 429 too) gets
 * the IETF httpapi draft's {@code RateLimit-Policy: "name";q=burst;w=seconds} and
 * {@code RateLimit: "name";r=remaining;t=seconds}. Local buckets answer at once; shared ones (Redis) pause
 * the request until Redis answers or the timeout fails it open or closed. Dry run counts what it would
 * refuse and changes nothing.
 */
public final class RateLimitFilter implements Filter {
    static final AsciiString RATELIMIT = AsciiString.cached("ratelimit");
    static final AsciiString RATELIMIT_POLICY = AsciiString.cached("ratelimit-policy");
    private static final ProxyError LIMITED = new ProxyError(ErrorCode.TOO_MANY_REQUESTS,
            "rate limit exceeded; retry after the time in Retry-After");
    private static final ProxyError UNAVAILABLE = new ProxyError(ErrorCode.TOO_MANY_REQUESTS,
            "rate limit store unavailable; refusing (on_error: deny)");
    /** The take of this exchange: the bucket's debt (admitted) or minus the wait (refused), in ns. */
    private static final ExchangeAttribute<long[]> TAKEN = ExchangeAttribute.of("policy.rate_limit");

    private final String name;
    private final String policyHeader;
    private final RateLimitConfig.Key key;
    private final boolean dryRun;
    private final boolean headers;
    private final LocalBuckets local;
    private final RedisLink redis;
    private final String redisPrefix;
    private final long interval;
    private final long tau;
    private final Duration timeout;
    private final boolean failOpen;
    private final LongAdder allowed;
    private final LongAdder limited;
    private final LongAdder dryRunLimited;
    private final LongAdder errorAllowed;
    private final LongAdder errorDenied;

    /**
     * @param name   the bucket set's name (the config's, else listener/route): RateLimit headers, Redis keys
     * @param local  this process's buckets, or null when {@code redis} is set
     */
    public RateLimitFilter(RateLimitConfig config, String name, LocalBuckets local, RedisLink redis,
                           PolicyMetrics metrics, String listener, String route) {
        this.name = name;
        this.key = config.key();
        this.dryRun = config.dryRun();
        this.headers = config.headers();
        this.local = local;
        this.redis = redis;
        this.interval = Math.max(1, Math.round(1e9 / config.requestsPerSecond()));
        this.tau = interval * (long) config.burst();
        this.redisPrefix = config.shared() == null ? null : config.shared().prefix() + name + ":";
        this.timeout = config.shared() == null ? null : config.shared().timeout();
        this.failOpen = config.shared() == null || config.shared().failOpen();
        long window = Math.max(1, (long) Math.ceil(config.burst() / config.requestsPerSecond()));
        this.policyHeader = "\"" + name + "\";q=" + config.burst() + ";w=" + window;
        this.allowed = metrics.counter(listener, route, "rate_limit", "allowed");
        this.limited = metrics.counter(listener, route, "rate_limit", "limited");
        this.dryRunLimited = metrics.counter(listener, route, "rate_limit", "dry_run_limited");
        this.errorAllowed = metrics.counter(listener, route, "rate_limit", "store_error_allowed");
        this.errorDenied = metrics.counter(listener, route, "rate_limit", "store_error_denied");
    }

    /** Local buckets for a config (several routes may share one set by name). */
    public static LocalBuckets localBuckets(RateLimitConfig config) {
        return new LocalBuckets(config.requestsPerSecond(), config.burst());
    }

    /** Drops full buckets of a local set (called periodically). */
    public static void sweep(LocalBuckets buckets) {
        buckets.sweep(System.nanoTime());
    }

    @Override
    public FilterResult onRouted(FilterContext ctx, HttpRequest head) {
        if (local != null) {
            return decide(ctx, local.acquire(localKey(ctx, head), System.nanoTime()));
        }
        redis.acquire(redisPrefix + redisKey(ctx, head), interval, tau)
                .orTimeout(timeout.toNanos(), TimeUnit.NANOSECONDS)
                .whenComplete((taken, error) -> ctx.downstreamChannel().eventLoop().execute(() -> {
                    if (error != null) {
                        if (failOpen) {
                            errorAllowed.increment();
                            ctx.resume(FilterResult.CONTINUE);
                        } else {
                            errorDenied.increment();
                            ctx.attribute(TAKEN, new long[] {-TimeUnit.SECONDS.toNanos(1)});
                            ctx.resume(FilterResult.reject(UNAVAILABLE));
                        }
                        return;
                    }
                    ctx.resume(decide(ctx, taken));
                }));
        return FilterResult.PAUSE;
    }

    private FilterResult decide(FilterContext ctx, long taken) {
        if (taken >= 0) {
            allowed.increment();
            if (headers && !dryRun) {
                ctx.attribute(TAKEN, new long[] {taken});
            }
            return FilterResult.CONTINUE;
        }
        if (dryRun) {
            dryRunLimited.increment();
            return FilterResult.CONTINUE;
        }
        limited.increment();
        ctx.attribute(TAKEN, new long[] {taken});
        return FilterResult.reject(LIMITED);
    }

    private Object localKey(FilterContext ctx, HttpRequest head) {
        return switch (key) {
            case RateLimitConfig.ClientKey c -> clientKey(ctx);
            case RateLimitConfig.RouteKey r -> name;
            case RateLimitConfig.HeaderKey h -> {
                String v = head.headers().get(h.header());
                yield v == null ? clientKey(ctx) : v;
            }
            case RateLimitConfig.ClaimKey c -> {
                Object v = claim(ctx, c.claim());
                yield v == null ? clientKey(ctx) : v.toString();
            }
        };
    }

    private String redisKey(FilterContext ctx, HttpRequest head) {
        Object k = localKey(ctx, head);
        if (k instanceof InetAddress a) {
            return "ip:" + NetUtil.toAddressString(a);
        }
        return (key instanceof RateLimitConfig.RouteKey ? "route:" : "k:") + k;
    }

    private static Object clientKey(FilterContext ctx) {
        InetAddress a = ctx.clientAddress();
        return a == null ? "unknown" : a;
    }

    private static Object claim(FilterContext ctx, String claim) {
        Map<String, Object> claims = ctx.attribute(PolicyAttributes.CLAIMS);
        return claims == null ? null : claims.get(claim);
    }

    @Override
    public void onResponseHead(FilterContext ctx, HttpResponse head) {
        long[] taken = ctx.attribute(TAKEN);
        if (taken == null) {
            return;
        }
        HttpHeaders h = head.headers();
        long t = taken[0];
        if (t < 0) {
            long wait = Math.max(1, ceilSeconds(-t));
            h.set(HttpHeaderNames.RETRY_AFTER, wait);
            if (headers) {
                h.set(RATELIMIT_POLICY, policyHeader);
                h.set(RATELIMIT, "\"" + name + "\";r=0;t=" + wait);
            }
            return;
        }
        long remaining = (tau - t) / interval;
        h.set(RATELIMIT_POLICY, policyHeader);
        h.set(RATELIMIT, "\"" + name + "\";r=" + remaining + ";t=" + ceilSeconds(t));
    }

    private static long ceilSeconds(long nanos) {
        return (nanos + 999_999_999L) / 1_000_000_000L;
    }
}
