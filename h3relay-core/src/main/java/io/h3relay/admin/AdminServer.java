package io.h3relay.admin;

import io.h3relay.cluster.Cluster;
import io.h3relay.transport.Transport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The admin listener (HTTP/1.1, plaintext, meant for 127.0.0.1):
 * <ul>
 *   <li>{@code GET /healthz}: 200 while the process runs;</li>
 *   <li>{@code GET /readyz}: 200 when listeners are bound and the server is not draining, else 503;</li>
 *   <li>{@code GET /health}: endpoint health per cluster as JSON ({@link HealthReport}); 503 when some
 *       cluster has no healthy endpoint;</li>
 *   <li>{@code POST /drain}: starts the graceful drain (as SIGTERM does); 202, or 409 when already draining.</li>
 * </ul>
 * Other parts add their resources with {@link #endpoint} ({@code /metrics}, {@code /introspect}); those run
 * on one admin worker thread, off the event loop.
 */
public final class AdminServer {
    /** What the admin endpoints read and control of the running server. */
    public interface Control {
        boolean ready();

        /** Starts the drain in the background; false when it already runs. */
        boolean startDrain();

        Collection<Cluster> clusters();
    }

    private final Control control;
    private final Map<String, AdminEndpoint> endpoints = new ConcurrentHashMap<>();
    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "h3relay-admin");
        t.setDaemon(true);
        return t;
    });
    private Channel channel;

    public AdminServer(Control control) {
        this.control = control;
    }

    public void bind(Transport transport, EventLoopGroup group, InetSocketAddress address) throws InterruptedException {
        channel = new ServerBootstrap()
                .group(group)
                .channel(transport.serverChannelClass())
                .option(ChannelOption.AUTO_READ, false) // accepting once everything is bound (startAccepting)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(64 * 1024),
                                new AdminHandler());
                    }
                })
                .bind(address).sync().channel();
    }

    /** Everything is bound: accept connections from now on. */
    public void startAccepting() {
        channel.config().setAutoRead(true);
    }

    /** Serves {@code endpoint} at {@code path} (GET); set before {@link #bind}. */
    public AdminServer endpoint(String path, AdminEndpoint endpoint) {
        endpoints.put(path, endpoint);
        return this;
    }

    public InetSocketAddress localAddress() {
        return (InetSocketAddress) channel.localAddress();
    }

    public void close() {
        if (channel != null) {
            channel.close().syncUninterruptibly();
        }
        worker.shutdownNow();
    }

    private final class AdminHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            String path = new QueryStringDecoder(req.uri()).path();
            AdminEndpoint endpoint = endpoints.get(path);
            if (endpoint != null) {
                serveOffLoop(ctx, req, endpoint);
                return;
            }
            FullHttpResponse res = switch (path) {
                case "/healthz" -> text(HttpResponseStatus.OK, "ok\n");
                case "/readyz" -> control.ready() ? text(HttpResponseStatus.OK, "ready\n")
                        : text(HttpResponseStatus.SERVICE_UNAVAILABLE, "not ready\n");
                case "/health" -> health();
                case "/drain" -> drain(req.method());
                default -> text(HttpResponseStatus.NOT_FOUND, "not found\n");
            };
            send(ctx, res, HttpUtil.isKeepAlive(req));
        }

        private void send(ChannelHandlerContext ctx, FullHttpResponse res, boolean keepAlive) {
            HttpUtil.setKeepAlive(res, keepAlive);
            var f = ctx.writeAndFlush(res);
            if (!keepAlive) {
                f.addListener(ChannelFutureListener.CLOSE);
            }
        }

        private void serveOffLoop(ChannelHandlerContext ctx, FullHttpRequest req, AdminEndpoint endpoint) {
            boolean keepAlive = HttpUtil.isKeepAlive(req);
            var headers = req.headers().copy(); // the request is released when this method returns
            HttpMethod method = req.method();
            String uri = req.uri();
            try {
                worker.execute(() -> {
                    FullHttpResponse res;
                    try {
                        AdminEndpoint.Response r = endpoint.serve(method, uri, headers);
                        ByteBuf buf = Unpooled.wrappedBuffer(r.body());
                        res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(r.status()),
                                buf);
                        res.headers().set(HttpHeaderNames.CONTENT_TYPE, r.contentType());
                        res.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, buf.readableBytes());
                    } catch (Exception | LinkageError e) {
                        res = text(HttpResponseStatus.INTERNAL_SERVER_ERROR, "internal error: " + e + "\n");
                    }
                    send(ctx, res, keepAlive);
                });
            } catch (java.util.concurrent.RejectedExecutionException e) {
                send(ctx, text(HttpResponseStatus.SERVICE_UNAVAILABLE, "shutting down\n"), false);
            }
        }

        private FullHttpResponse health() {
            Collection<Cluster> clusters = control.clusters();
            boolean unhealthy = HealthReport.overall(clusters) == HealthReport.Status.UNHEALTHY;
            return json(unhealthy ? HttpResponseStatus.SERVICE_UNAVAILABLE : HttpResponseStatus.OK,
                    HealthReport.json(clusters, Instant.now()));
        }

        private FullHttpResponse drain(HttpMethod method) {
            if (!HttpMethod.POST.equals(method)) {
                FullHttpResponse res = text(HttpResponseStatus.METHOD_NOT_ALLOWED, "use POST /drain\n");
                res.headers().set(HttpHeaderNames.ALLOW, "POST");
                return res;
            }
            return control.startDrain()
                    ? json(HttpResponseStatus.ACCEPTED, "{\"draining\":true}\n")
                    : json(HttpResponseStatus.CONFLICT, "{\"draining\":true,\"message\":\"already draining\"}\n");
        }

        private FullHttpResponse json(HttpResponseStatus status, String body) {
            FullHttpResponse res = text(status, body);
            res.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json");
            res.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store");
            return res;
        }

        private FullHttpResponse text(HttpResponseStatus status, String body) {
            ByteBuf buf = Unpooled.copiedBuffer(body, StandardCharsets.UTF_8);
            FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, buf);
            res.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
            res.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, buf.readableBytes());
            return res;
        }
    }
}
