package io.h3relay.cli.demo;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * A small HTTP/1.1 endpoint for {@code h3relay demo}: it says which endpoint answered and what it
 * received (method, target, the forwarding headers the proxy added), as HTML for {@code /} and plain
 * text elsewhere. Request bodies up to 1 MiB are echoed back on {@code POST /echo}.
 */
public final class DemoEndpoint implements AutoCloseable {
    private final String name;
    private Channel channel;
    private EventLoopGroup group;
    private Class<? extends io.netty.channel.ServerChannel> channelClass;
    /** The port of the first start: a restart binds it again, so the proxy's config stays true. */
    private int port;
    /** Connections accepted: a stop closes them too, as a crashed process would. */
    private final io.netty.channel.group.ChannelGroup connections =
            new io.netty.channel.group.DefaultChannelGroup(io.netty.util.concurrent.GlobalEventExecutor.INSTANCE);

    public DemoEndpoint(String name) {
        this.name = name;
    }

    public DemoEndpoint start(EventLoopGroup group, Class<? extends io.netty.channel.ServerChannel> channelClass)
            throws InterruptedException {
        this.group = group;
        this.channelClass = channelClass;
        bind(0);
        port = ((InetSocketAddress) channel.localAddress()).getPort();
        return this;
    }

    private synchronized void bind(int onPort) throws InterruptedException {
        channel = new ServerBootstrap().group(group).channel(channelClass)
                .option(io.netty.channel.ChannelOption.SO_REUSEADDR, true)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        connections.add(ch);
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(1 << 20), new Handler());
                    }
                })
                .bind(new InetSocketAddress("127.0.0.1", onPort)).sync().channel();
    }

    public String name() {
        return name;
    }

    public int port() {
        return port;
    }

    /** Listening now (not stopped from the control center). */
    public synchronized boolean running() {
        return channel != null && channel.isOpen();
    }

    /** Stops listening and closes its connections, as if the process had died (the demo's failover button). */
    public synchronized void stop() {
        if (channel != null) {
            channel.close().syncUninterruptibly();
        }
        connections.close().awaitUninterruptibly();
    }

    /** Listens again on the same port. */
    public synchronized void restart() throws InterruptedException {
        if (!running()) {
            bind(port);
        }
    }

    @Override
    public void close() {
        stop();
    }

    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            boolean html = req.uri().equals("/") || req.uri().startsWith("/?");
            StringBuilder b = new StringBuilder();
            String contentType;
            ByteBuf body;
            if (req.uri().startsWith("/echo")) {
                body = req.content().retainedDuplicate();
                contentType = req.headers().get(HttpHeaderNames.CONTENT_TYPE, "application/octet-stream");
            } else if (html) {
                b.append("<!doctype html><html><head><meta charset=utf-8><title>h3relay demo</title></head><body>")
                        .append("<h1>Hello from ").append(name).append("</h1><p>through h3relay. Request:</p><pre>")
                        .append(escape(describe(req))).append("</pre></body></html>\n");
                body = Unpooled.copiedBuffer(b, StandardCharsets.UTF_8);
                contentType = "text/html; charset=utf-8";
            } else {
                b.append("Hello from ").append(name).append('\n').append(describe(req));
                body = Unpooled.copiedBuffer(b, StandardCharsets.UTF_8);
                contentType = "text/plain; charset=utf-8";
            }
            FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, body);
            res.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
            res.headers().set("x-endpoint", name);
            HttpUtil.setContentLength(res, body.readableBytes());
            boolean keepAlive = HttpUtil.isKeepAlive(req);
            HttpUtil.setKeepAlive(res, keepAlive);
            var f = ctx.writeAndFlush(res);
            if (!keepAlive) {
                f.addListener(ChannelFutureListener.CLOSE);
            }
        }

        private String describe(FullHttpRequest req) {
            StringBuilder b = new StringBuilder();
            b.append(req.method()).append(' ').append(req.uri()).append(' ').append(req.protocolVersion()).append('\n');
            for (Map.Entry<String, String> h : req.headers()) {
                b.append(h.getKey()).append(": ").append(h.getValue()).append('\n');
            }
            return b.toString();
        }

        private String escape(String s) {
            return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
        }
    }
}
