package io.h3relay.upstream;

import io.h3relay.endpoint.Endpoint;
import io.h3relay.health.HealthProbe;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;

import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * Active checks through each endpoint's {@link UpstreamPool}, on a dedicated stream
 * ({@link UpstreamPool#openDedicated}): same protocol, TLS and connect timeout as traffic, a new connection
 * each time, so a check also proves that new connections can be made and never takes a pooled one. The
 * status of the response head is the result.
 */
public final class UpstreamProbe implements HealthProbe {
    private static final String USER_AGENT = "h3relay-health-check";

    private final Function<Endpoint, UpstreamPool> pools;
    /** Non-null: gRPC checks (grpc.health.v1 Check of this service) instead of HTTP GETs. */
    private final String grpcService;

    public UpstreamProbe(Map<Endpoint, ? extends UpstreamPool> pools) {
        this(pools, null);
    }

    public UpstreamProbe(Map<Endpoint, ? extends UpstreamPool> pools, String grpcService) {
        this.pools = pools::get;
        this.grpcService = grpcService;
    }

    @Override
    public Future<Integer> probe(EventLoop loop, Endpoint endpoint, String path, Duration timeout) {
        Promise<Integer> result = loop.newPromise();
        ScheduledFuture<?> timer = loop.schedule(() -> {
            result.tryFailure(new TimeoutException("no response within " + timeout.toMillis() + " ms"));
        }, timeout.toMillis(), TimeUnit.MILLISECONDS);
        result.addListener(f -> timer.cancel(false));

        pools.apply(endpoint).openDedicated(loop).addListener((Future<UpstreamStream> sf) -> {
            if (!sf.isSuccess()) {
                result.tryFailure(sf.cause());
                return;
            }
            UpstreamStream stream = sf.getNow();
            if (result.isDone()) {
                stream.abort("check timed out while connecting");
                return;
            }
            result.addListener(f -> stream.finish(false));
            if (grpcService != null) {
                stream.start(new GrpcHealthListener(result));
                HttpRequest req = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, path);
                req.headers().set(HttpHeaderNames.HOST, endpoint.address().toString())
                        .set(HttpHeaderNames.USER_AGENT, USER_AGENT)
                        .set(HttpHeaderNames.CONTENT_TYPE, "application/grpc")
                        .set(HttpHeaderNames.TE, "trailers");
                stream.writeHead(req, true);
                stream.writeBody(new io.netty.handler.codec.http.DefaultLastHttpContent(
                        GrpcHealthListener.request(grpcService)));
                stream.flush();
                return;
            }
            stream.start(new Listener(result));
            HttpRequest req = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, path);
            req.headers().set(HttpHeaderNames.HOST, endpoint.address().toString())
                    .set(HttpHeaderNames.USER_AGENT, USER_AGENT);
            stream.writeHead(req, false);
            stream.writeBody(LastHttpContent.EMPTY_LAST_CONTENT);
            stream.flush();
        });
        return result;
    }

    private record Listener(Promise<Integer> result) implements UpstreamStream.Listener {
        @Override
        public void onResponse(HttpObject msg) {
            try {
                if (msg instanceof HttpResponse res && res.status().codeClass() != HttpStatusClass.INFORMATIONAL) {
                    result.trySuccess(res.status().code());
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void onReadComplete() {
        }

        @Override
        public void onWritabilityChanged(boolean writable) {
        }

        @Override
        public void onFailed(UpstreamFailure failure) {
            result.tryFailure(new IOException(failure.kind() == UpstreamFailure.Kind.INVALID_RESPONSE
                    ? failure.message().replaceFirst("^invalid response from endpoint \\S+: ", "invalid response: ")
                    : "connection closed before a response" + (failure.cause() == null ? ""
                    : ": " + failure.cause().getMessage())));
        }
    }
}
