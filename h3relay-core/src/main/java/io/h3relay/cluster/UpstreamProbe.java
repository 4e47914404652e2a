package io.h3relay.cluster;

import io.h3relay.endpoint.Endpoint;
import io.h3relay.health.HealthProbe;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Active checks over the cluster's own connector (same TLS, same connect timeout) on a fresh connection
 * each time, closed after the answer: a check then also proves that new connections can be made, and it
 * never takes a pooled connection from traffic. The status of the response head is the result.
 */
final class UpstreamProbe implements HealthProbe {
    private static final String USER_AGENT = "h3relay-health-check";

    private final UpstreamConnector connector;

    UpstreamProbe(UpstreamConnector connector) {
        this.connector = connector;
    }

    @Override
    public Future<Integer> probe(EventLoop loop, Endpoint endpoint, String path, Duration timeout) {
        Promise<Integer> result = loop.newPromise();
        ScheduledFuture<?> timer = loop.schedule(() -> {
            result.tryFailure(new TimeoutException("no response within " + timeout.toMillis() + " ms"));
        }, timeout.toMillis(), TimeUnit.MILLISECONDS);
        result.addListener(f -> timer.cancel(false));

        UpstreamConnectionHandler handler = new UpstreamConnectionHandler();
        connector.connect(loop, endpoint, handler).addListener(cf -> {
            if (!cf.isSuccess()) {
                result.tryFailure(cf.cause());
                return;
            }
            Channel ch = (Channel) cf.getNow();
            result.addListener(f -> ch.close());
            if (result.isDone()) {
                return;
            }
            handler.bind(new Listener(result));
            FullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, path);
            req.headers().set(HttpHeaderNames.HOST, endpoint.address().toString())
                    .set(HttpHeaderNames.USER_AGENT, USER_AGENT)
                    .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            ch.writeAndFlush(req);
        });
        return result;
    }

    private record Listener(Promise<Integer> result) implements UpstreamListener {
        @Override
        public void onResponse(HttpObject msg) {
            try {
                if (!msg.decoderResult().isSuccess()) {
                    result.tryFailure(new IOException("invalid response: " + msg.decoderResult().cause().getMessage()));
                } else if (msg instanceof HttpResponse res && res.status().codeClass() != HttpStatusClass.INFORMATIONAL) {
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
        public void onClosed(Throwable cause) {
            result.tryFailure(new IOException("connection closed before a response"
                    + (cause == null ? "" : ": " + cause.getMessage())));
        }
    }
}
