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

        /** The token changing calls need ({@code admin.auth_token} of the config in service), or null. */
        default String authToken() {
            return null;
        }

        /** The activity log {@code GET /events} streams, or null. */
        default io.h3relay.events.EventLog events() {
            return null;
        }
    }

    private record Registered(String method, String[] pattern, AdminRoute route) {}

    private final Control control;
    private final Map<String, AdminEndpoint> endpoints = new ConcurrentHashMap<>();
    private final java.util.List<Registered> routes = new java.util.concurrent.CopyOnWriteArrayList<>();
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
        bind(transport, group, address, null);
    }

    /** {@code tls} (admin.tls): every connection starts with its TLS handshake; null: plaintext. */
    public void bind(Transport transport, EventLoopGroup group, InetSocketAddress address,
                     io.h3relay.tls.ServerTls tls) throws InterruptedException {
        channel = new ServerBootstrap()
                .group(group)
                .channel(transport.serverChannelClass())
                .option(ChannelOption.AUTO_READ, false) // accepting once everything is bound (startAccepting)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (tls != null) {
                            ch.pipeline().addLast("tls", tls.newHandler(ch.alloc()));
                        }
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(4 * 1024 * 1024),
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

    /**
     * Serves {@code route} for {@code method} at {@code pattern}, e.g. {@code /clusters/{cluster}/endpoints};
     * a {@code {name}} part matches one non-empty path segment.
     */
    public AdminServer route(String method, String pattern, AdminRoute route) {
        routes.add(new Registered(method, pattern.substring(1).split("/"), route));
        return this;
    }

    private static Map<String, String> match(String[] pattern, String[] segments) {
        if (pattern.length != segments.length) {
            return null;
        }
        Map<String, String> params = new java.util.LinkedHashMap<>();
        for (int i = 0; i < pattern.length; i++) {
            String p = pattern[i];
            if (p.startsWith("{") && p.endsWith("}")) {
                if (segments[i].isEmpty()) {
                    return null;
                }
                params.put(p.substring(1, p.length() - 1),
                        QueryStringDecoder.decodeComponent(segments[i], StandardCharsets.UTF_8));
            } else if (!p.equals(segments[i])) {
                return null;
            }
        }
        return params;
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
            QueryStringDecoder qs = new QueryStringDecoder(req.uri());
            String path = qs.path();
            HttpMethod method = req.method();
            boolean keepAlive = HttpUtil.isKeepAlive(req);
            boolean change = HttpMethod.POST.equals(method) || HttpMethod.PUT.equals(method)
                    || HttpMethod.DELETE.equals(method) || HttpMethod.PATCH.equals(method);
            if (change) {
                FullHttpResponse denied = checkToken(req);
                if (denied != null) {
                    send(ctx, denied, keepAlive);
                    return;
                }
            }
            if (path.equals("/events") && control.events() != null) {
                if (!HttpMethod.GET.equals(method)) {
                    send(ctx, methodNotAllowed("GET"), keepAlive);
                } else {
                    events(ctx, req, qs);
                }
                return;
            }
            if (UiResources.serves(path)) {
                send(ctx, UiResources.response(path, method), keepAlive);
                return;
            }
            AdminEndpoint endpoint = endpoints.get(path);
            if (endpoint != null) {
                if (!endpoint.acts() && !HttpMethod.GET.equals(method) && !HttpMethod.HEAD.equals(method)) {
                    send(ctx, methodNotAllowed("GET"), keepAlive);
                    return;
                }
                serveOffLoop(ctx, req, endpoint);
                return;
            }
            FullHttpResponse res = switch (path) {
                case "/healthz" -> text(HttpResponseStatus.OK, "ok\n");
                case "/readyz" -> control.ready() ? text(HttpResponseStatus.OK, "ready\n")
                        : text(HttpResponseStatus.SERVICE_UNAVAILABLE, "not ready\n");
                case "/health" -> health();
                case "/drain" -> drain(method);
                default -> null;
            };
            if (res != null) {
                send(ctx, res, keepAlive);
                return;
            }
            String[] segments = path.length() <= 1 ? new String[] {""} : path.substring(1).split("/", -1);
            java.util.Set<String> allowed = new java.util.TreeSet<>();
            for (Registered r : routes) {
                Map<String, String> params = match(r.pattern(), segments);
                if (params == null) {
                    continue;
                }
                if (!r.method().equals(method.name())) {
                    allowed.add(r.method());
                    continue;
                }
                byte[] body = new byte[req.content().readableBytes()];
                req.content().getBytes(req.content().readerIndex(), body);
                AdminRoute.Request call = new AdminRoute.Request(method.name(), path, params, qs.parameters(),
                        req.headers().copy(), body);
                serveOffLoop(ctx, keepAlive, () -> r.route().handle(call));
                return;
            }
            if (!allowed.isEmpty()) {
                send(ctx, methodNotAllowed(String.join(", ", allowed)), keepAlive);
                return;
            }
            send(ctx, toNetty(AdminRoute.error(404, "not_found", "no admin resource " + path
                    + " (see docs/operations.md)", "")), keepAlive);
        }

        /** 401 without a bearer token, 403 with a wrong one; null when allowed (or no token is configured). */
        private FullHttpResponse checkToken(FullHttpRequest req) {
            String token = control.authToken();
            if (token == null) {
                return null;
            }
            String auth = req.headers().get(HttpHeaderNames.AUTHORIZATION);
            if (auth == null || !auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
                FullHttpResponse res = toNetty(AdminRoute.error(401, "unauthorized",
                        "this admin call changes the proxy: send Authorization: Bearer <admin.auth_token>", ""));
                res.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"h3relay-admin\"");
                return res;
            }
            byte[] given = auth.substring(7).trim().getBytes(StandardCharsets.UTF_8);
            if (!java.security.MessageDigest.isEqual(given, token.getBytes(StandardCharsets.UTF_8))) {
                return toNetty(AdminRoute.error(403, "forbidden", "the bearer token is not admin.auth_token", ""));
            }
            return null;
        }

        private FullHttpResponse methodNotAllowed(String allow) {
            FullHttpResponse res = toNetty(AdminRoute.error(405, "method_not_allowed", "use " + allow, ""));
            res.headers().set(HttpHeaderNames.ALLOW, allow);
            return res;
        }

        /**
         * {@code GET /events}: Server-Sent Events, first the kept events after {@code ?since=ID} (or
         * {@code Last-Event-ID}; all kept ones without either), then each new one as it happens. With
         * {@code Accept: application/json} instead: the kept events after {@code since} as one JSON array.
         */
        private void events(ChannelHandlerContext ctx, FullHttpRequest req, QueryStringDecoder qs) {
            long since = 0;
            String s = qs.parameters().containsKey("since") ? qs.parameters().get("since").get(0)
                    : req.headers().get("Last-Event-ID");
            if (s != null) {
                try {
                    since = Long.parseLong(s.trim());
                } catch (NumberFormatException e) {
                    send(ctx, toNetty(AdminRoute.error(400, "bad_request", "since: expected an event id (a number), got "
                            + s, "")), HttpUtil.isKeepAlive(req));
                    return;
                }
            }
            io.h3relay.events.EventLog log = control.events();
            String accept = req.headers().get(HttpHeaderNames.ACCEPT, "");
            if (accept.contains("application/json") && !accept.contains("text/event-stream")) {
                StringBuilder b = new StringBuilder("[");
                for (io.h3relay.events.Event e : log.since(since)) {
                    b.append(b.length() > 1 ? ",\n" : "").append(e.toJson());
                }
                send(ctx, json(HttpResponseStatus.OK, b.append("]\n").toString()), HttpUtil.isKeepAlive(req));
                return;
            }
            io.netty.handler.codec.http.HttpResponse head = new io.netty.handler.codec.http.DefaultHttpResponse(
                    HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
            head.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream; charset=utf-8")
                    .set(HttpHeaderNames.CACHE_CONTROL, "no-store")
                    .set(HttpHeaderNames.TRANSFER_ENCODING, io.netty.handler.codec.http.HttpHeaderValues.CHUNKED);
            Channel ch = ctx.channel();
            ch.config().setAutoRead(false); // one stream per connection: nothing more is read from it
            ch.write(head);
            java.util.function.Consumer<io.h3relay.events.Event> sink = e -> sse(ch, e);
            log.subscribe(since, backlog -> {
                StringBuilder b = new StringBuilder(": h3relay events\n\n");
                backlog.forEach(e -> b.append(frame(e)));
                ch.writeAndFlush(new io.netty.handler.codec.http.DefaultHttpContent(
                        Unpooled.copiedBuffer(b, StandardCharsets.UTF_8)));
            }, sink);
            var keepAlive = ch.eventLoop().scheduleAtFixedRate(() -> ch.writeAndFlush(
                    new io.netty.handler.codec.http.DefaultHttpContent(Unpooled.copiedBuffer(": keep-alive\n\n",
                            StandardCharsets.UTF_8))), 15, 15, java.util.concurrent.TimeUnit.SECONDS);
            ch.closeFuture().addListener(f -> {
                log.unsubscribe(sink);
                keepAlive.cancel(false);
            });
        }

        private static String frame(io.h3relay.events.Event e) {
            return "id: " + e.id() + "\nevent: " + e.type() + "\ndata: " + e.toJson() + "\n\n";
        }

        private static void sse(Channel ch, io.h3relay.events.Event e) {
            if (ch.isActive()) {
                ch.writeAndFlush(new io.netty.handler.codec.http.DefaultHttpContent(
                        Unpooled.copiedBuffer(frame(e), StandardCharsets.UTF_8)));
            }
        }

        private void send(ChannelHandlerContext ctx, FullHttpResponse res, boolean keepAlive) {
            HttpUtil.setKeepAlive(res, keepAlive);
            var f = ctx.writeAndFlush(res);
            if (!keepAlive) {
                f.addListener(ChannelFutureListener.CLOSE);
            }
        }

        private void serveOffLoop(ChannelHandlerContext ctx, FullHttpRequest req, AdminEndpoint endpoint) {
            var headers = req.headers().copy(); // the request is released when this method returns
            HttpMethod method = req.method();
            String uri = req.uri();
            serveOffLoop(ctx, HttpUtil.isKeepAlive(req), () -> endpoint.serve(method, uri, headers));
        }

        private void serveOffLoop(ChannelHandlerContext ctx, boolean keepAlive,
                                  java.util.concurrent.Callable<AdminEndpoint.Response> call) {
            try {
                worker.execute(() -> {
                    FullHttpResponse res;
                    try {
                        res = toNetty(call.call());
                    } catch (Exception | LinkageError e) {
                        res = toNetty(AdminRoute.error(500, "internal_error", String.valueOf(e), ""));
                    }
                    send(ctx, res, keepAlive);
                });
            } catch (java.util.concurrent.RejectedExecutionException e) {
                send(ctx, text(HttpResponseStatus.SERVICE_UNAVAILABLE, "shutting down\n"), false);
            }
        }

        private FullHttpResponse toNetty(AdminEndpoint.Response r) {
            ByteBuf buf = Unpooled.wrappedBuffer(r.body());
            FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                    HttpResponseStatus.valueOf(r.status()), buf);
            res.headers().set(HttpHeaderNames.CONTENT_TYPE, r.contentType());
            res.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, buf.readableBytes());
            if (r.contentType().startsWith("application/json")) {
                res.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store");
            }
            return res;
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
