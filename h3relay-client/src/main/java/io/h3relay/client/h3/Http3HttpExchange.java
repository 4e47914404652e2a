package io.h3relay.client.h3;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http3.DefaultHttp3DataFrame;
import io.netty.handler.codec.http3.DefaultHttp3HeadersFrame;
import io.netty.handler.codec.http3.Http3;
import io.netty.handler.codec.http3.Http3ErrorCode;
import io.netty.handler.codec.http3.Http3DataFrame;
import io.netty.handler.codec.http3.Http3Headers;
import io.netty.handler.codec.http3.Http3HeadersFrame;
import io.netty.handler.codec.http3.Http3RequestStreamInboundHandler;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicStreamChannel;

import javax.net.ssl.SSLSession;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.Flow;

/**
 * One request over one HTTP/3 stream, bridging {@link HttpRequest.BodyPublisher} and
 * {@link HttpResponse.BodySubscriber} with backpressure. Stream callbacks run on the stream's event loop;
 * demand from the subscriber may come from any thread and is handed to that loop.
 */
final class Http3HttpExchange<T> extends Http3RequestStreamInboundHandler {
    private final Http3HttpClient client;
    private final HttpRequest request;
    private final HttpResponse.BodyHandler<T> handler;
    private final CompletableFuture<HttpResponse<T>> result = new CompletableFuture<>();
    private final ArrayDeque<ByteBuffer> undelivered = new ArrayDeque<>();
    private QuicStreamChannel stream;
    private HttpResponse.BodySubscriber<T> subscriber;
    private int status;
    private HttpHeaders headers;
    private long demand;
    private boolean finReceived;
    private boolean terminated;
    private Flow.Subscription upload;
    // The latest body write, on the event loop; the FIN must wait for it (see Uploader#onComplete).
    private ChannelFuture lastWrite;
    /** The request's timeout until the response head (null without one, or once cancelled). */
    private ScheduledFuture<?> timer;

    Http3HttpExchange(Http3HttpClient client, HttpRequest request, HttpResponse.BodyHandler<T> handler) {
        this.client = client;
        this.request = request;
        this.handler = handler;
    }

    CompletableFuture<HttpResponse<T>> start(QuicChannel connection) {
        // As the JDK's client: HttpRequest.timeout() runs until the response head arrives (the timer is cancelled
        // then, or when the exchange fails: a pending one would keep this exchange, body included, until it fires).
        request.timeout().ifPresent(t -> timer = connection.eventLoop().schedule(() -> timedOut(t), t.toNanos(),
                TimeUnit.NANOSECONDS));
        Http3.newRequestStream(connection, this).addListener(f -> {
            if (!f.isSuccess()) {
                result.completeExceptionally(new IOException("cannot open an HTTP/3 stream", f.cause()));
                return;
            }
            stream = (QuicStreamChannel) f.getNow();
            stream.config().setAutoRead(false);
            stream.read();
            sendHead();
        });
        return result;
    }

    private void sendHead() {
        URI uri = request.uri();
        DefaultHttp3HeadersFrame frame = new DefaultHttp3HeadersFrame();
        Http3Headers h = frame.headers();
        String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
        h.method(request.method()).scheme("https").authority(uri.getHost() + ":" + uri.getPort())
                .path(uri.getRawQuery() == null ? path : path + "?" + uri.getRawQuery());
        request.headers().map().forEach((name, values) -> values.forEach(v -> h.add(name.toLowerCase(Locale.ROOT), v)));
        Optional<HttpRequest.BodyPublisher> body = request.bodyPublisher();
        long length = body.map(HttpRequest.BodyPublisher::contentLength).orElse(0L);
        if (length > 0) {
            h.setLong("content-length", length);
        }
        if (body.isEmpty() || length == 0) {
            stream.writeAndFlush(frame).addListener(QuicStreamChannel.SHUTDOWN_OUTPUT);
            return;
        }
        stream.writeAndFlush(frame);
        body.get().subscribe(new Uploader());
    }

    /** Streams the request body, one buffer at a time: the next only once QUIC took the previous one. */
    private final class Uploader implements Flow.Subscriber<ByteBuffer> {
        @Override
        public void onSubscribe(Flow.Subscription s) {
            stream.eventLoop().execute(() -> {
                upload = s;
                s.request(1);
            });
        }

        @Override
        public void onNext(ByteBuffer item) {
            ByteBuf copy = Unpooled.copiedBuffer(item);
            // The write completes once QUIC took the bytes (flow control permitting): only then ask for more.
            stream.eventLoop().execute(() -> {
                lastWrite = stream.writeAndFlush(new DefaultHttp3DataFrame(copy));
                lastWrite.addListener(f -> {
                    if (f.isSuccess()) {
                        upload.request(1);
                    } else {
                        upload.cancel();
                    }
                });
            });
        }

        @Override
        public void onError(Throwable t) {
            stream.eventLoop().execute(() -> stream.shutdown(0x102));
        }

        @Override
        public void onComplete() {
            // The JDK's publishers complete right after the last onNext, without waiting for demand, so
            // that write may still be pending for want of QUIC flow-control credit; shutting the output
            // down now would drop it (the peer then sees a FIN after a truncated body).
            stream.eventLoop().execute(() -> {
                if (lastWrite == null) {
                    stream.shutdownOutput();
                } else {
                    lastWrite.addListener(f -> stream.shutdownOutput());
                }
            });
        }
    }

    @Override
    protected void channelRead(ChannelHandlerContext ctx, Http3HeadersFrame frame) {
        Http3Headers h = frame.headers();
        if (subscriber != null) {
            return; // trailers: not exposed by the HttpResponse API
        }
        int code = Integer.parseInt(h.status().toString());
        if (code >= 100 && code < 200) {
            return;
        }
        status = code;
        Map<String, List<String>> map = new LinkedHashMap<>();
        h.forEach(e -> {
            String name = e.getKey().toString();
            if (!name.startsWith(":")) {
                map.computeIfAbsent(name, k -> new ArrayList<>()).add(e.getValue().toString());
            }
        });
        headers = HttpHeaders.of(map, (a, b) -> true);
        cancelTimer();
        subscriber = handler.apply(new Info());
        subscriber.getBody().whenComplete((body, error) -> {
            if (error != null) {
                result.completeExceptionally(error);
            } else {
                result.complete(new Response(body));
            }
        });
        subscriber.onSubscribe(new Flow.Subscription() {
            @Override
            public void request(long n) {
                stream.eventLoop().execute(() -> {
                    demand = Math.max(demand, demand + n); // saturating add
                    deliver();
                });
            }

            @Override
            public void cancel() {
                // Like a browser aborting a fetch: STOP_SENDING + RESET_STREAM with H3_REQUEST_CANCELLED.
                // A bare close() would only send FIN and leave the server streaming.
                stream.eventLoop().execute(() -> stream.shutdown(0x10c).addListener(f -> stream.close()));
            }
        });
    }

    @Override
    protected void channelRead(ChannelHandlerContext ctx, Http3DataFrame frame) {
        ByteBuf content = frame.content();
        ByteBuffer copy = ByteBuffer.allocate(content.readableBytes());
        content.readBytes(copy);
        frame.release();
        copy.flip();
        undelivered.add(copy);
        deliver();
    }

    @Override
    protected void channelInputClosed(ChannelHandlerContext ctx) {
        finReceived = true;
        deliver();
    }

    /** Hands buffered data to the subscriber as far as its demand goes; reads more only when it wants more. */
    private void deliver() {
        while (demand > 0 && !undelivered.isEmpty() && subscriber != null && !terminated) {
            demand--;
            subscriber.onNext(List.of(undelivered.poll()));
        }
        if (finReceived && undelivered.isEmpty() && subscriber != null && !terminated) {
            terminated = true;
            subscriber.onComplete();
            return;
        }
        if (!terminated && stream != null && (demand > 0 || subscriber == null)) {
            stream.read();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        fail(new IOException("HTTP/3 stream failed: " + cause, cause));
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (!finReceived) {
            fail(new IOException("HTTP/3 stream closed before the response completed"));
        }
        ctx.fireChannelInactive();
    }

    /** No response head within the request's timeout: an HttpTimeoutException, and the stream is cancelled. */
    private void timedOut(Duration timeout) {
        if (subscriber != null || terminated || result.isDone()) {
            return;
        }
        fail(new HttpTimeoutException("no HTTP/3 response head within " + timeout));
        if (stream != null) {
            stream.shutdown(Http3ErrorCode.H3_REQUEST_CANCELLED.code());
            stream.close();
        }
    }

    private void cancelTimer() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    private void fail(IOException e) {
        if (terminated) {
            return;
        }
        terminated = true;
        cancelTimer();
        if (subscriber != null) {
            subscriber.onError(e);
        }
        result.completeExceptionally(e);
    }

    private final class Info implements HttpResponse.ResponseInfo {
        @Override
        public int statusCode() {
            return status;
        }

        @Override
        public HttpHeaders headers() {
            return headers;
        }

        @Override
        public HttpClient.Version version() {
            return HttpClient.Version.HTTP_2;
        }
    }

    private final class Response implements HttpResponse<T> {
        private final T body;

        Response(T body) {
            this.body = body;
        }

        @Override
        public int statusCode() {
            return status;
        }

        @Override
        public HttpRequest request() {
            return request;
        }

        @Override
        public Optional<HttpResponse<T>> previousResponse() {
            return Optional.empty();
        }

        @Override
        public HttpHeaders headers() {
            return headers;
        }

        @Override
        public T body() {
            return body;
        }

        @Override
        public Optional<SSLSession> sslSession() {
            return Optional.empty();
        }

        @Override
        public URI uri() {
            return request.uri();
        }

        @Override
        public HttpClient.Version version() {
            return HttpClient.Version.HTTP_2;
        }
    }
}
