package io.h3relay.testing;

import io.h3relay.client.ClientTls;
import io.h3relay.client.Connector;
import io.h3relay.client.Protocol;
import io.h3relay.client.Target;
import io.h3relay.client.Transports;
import io.h3relay.client.h3.Http3Connection;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.ChannelInputShutdownReadComplete;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameDecoder;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameEncoder;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http3.DefaultHttp3DataFrame;
import io.netty.handler.codec.http3.DefaultHttp3Headers;
import io.netty.handler.codec.http3.DefaultHttp3HeadersFrame;
import io.netty.handler.codec.http3.Http3DataFrame;
import io.netty.handler.codec.http3.Http3ErrorCode;
import io.netty.handler.codec.http3.Http3Headers;
import io.netty.handler.codec.http3.Http3HeadersFrame;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.util.ReferenceCountUtil;

import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A WebSocket client over one HTTP/2 (RFC 8441) or HTTP/3 (RFC 9220) stream: an extended CONNECT with
 * {@code :protocol websocket}, then WebSocket frames (Netty's RFC 6455 codec, client side: masked) in
 * DATA frames. Exposes what the tests assert on: the server's SETTINGS_ENABLE_CONNECT_PROTOCOL, the
 * response status and headers, text messages, the close frame, the end (END_STREAM / FIN) and a reset
 * of the stream; and can half-close or reset the stream itself.
 *
 * <pre>
 *   stream: [h2/h3 codec] ─ frames (DATA ⇄ bytes, HEADERS, END_STREAM, RST) ─ ws-decoder ─ ws-encoder ─ messages
 * </pre>
 * h3 goes through h3relay-client's {@link Http3Connection} (the suite's own HTTP/3 client).
 */
public final class WebSocketStreamClient implements AutoCloseable {
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    public enum Version { H2, H3 }

    private final EventLoopGroup group = Transports.nio().newGroup(1, "ws-stream-client");
    private final Version version;
    private Channel connection;
    private Http3Connection h3;
    private Channel stream;
    /** SETTINGS_ENABLE_CONNECT_PROTOCOL as the server sent it. */
    private final CompletableFuture<Boolean> connectProtocol = new CompletableFuture<>();
    private final CompletableFuture<Integer> status = new CompletableFuture<>();
    private final Map<String, String> responseHeaders = new TreeMap<>();
    private final BlockingQueue<String> messages = new LinkedBlockingQueue<>();
    private final CompletableFuture<CloseWebSocketFrame> closeFrame = new CompletableFuture<>();
    /** The server ended its side of the stream (END_STREAM / FIN). */
    public final CompletableFuture<Void> ended = new CompletableFuture<>();
    /** The server reset the stream (RST_STREAM / RESET_STREAM), or the stream closed without an end. */
    public final CompletableFuture<String> reset = new CompletableFuture<>();
    /** The stream channel closed, for whatever reason. */
    public final CompletableFuture<Void> closed = new CompletableFuture<>();

    private WebSocketStreamClient(Version version) {
        this.version = version;
    }

    /** Connects to {@code https://localhost:port} over {@code version}, trusting {@code ca}. */
    public static WebSocketStreamClient connect(Version version, int port, X509Certificate ca) throws Exception {
        WebSocketStreamClient c = new WebSocketStreamClient(version);
        try {
            if (version == Version.H2) {
                c.connectH2(port, ca);
            } else {
                c.connectH3(port, ca);
            }
        } catch (Exception e) {
            c.close();
            throw e;
        }
        return c;
    }

    private void connectH2(int port, X509Certificate ca) throws Exception {
        SslContext ssl = SslContextBuilder.forClient().trustManager(ca)
                .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, ApplicationProtocolNames.HTTP_2))
                .build();
        connection = new Bootstrap().group(group).channel(NioSocketChannel.class)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) TIMEOUT.toMillis())
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(ssl.newHandler(ch.alloc(), "localhost", port));
                        ch.pipeline().addLast(Http2FrameCodecBuilder.forClient().build());
                        ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                            @Override
                            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                if (msg instanceof Http2SettingsFrame s) {
                                    Boolean on = s.settings().connectProtocolEnabled();
                                    connectProtocol.complete(on != null && on);
                                }
                                ctx.fireChannelRead(msg);
                            }
                        });
                        ch.pipeline().addLast(new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
                    }
                })
                .connect("127.0.0.1", port).sync().channel();
        connectProtocol.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    }

    private void connectH3(int port, X509Certificate ca) throws Exception {
        Connector connector = new Connector(ClientTls.trusting(ca), Transports.nio(), TIMEOUT);
        h3 = (Http3Connection) connector.connect(group.next(), Target.parse("https://localhost:" + port + "/"),
                Protocol.HTTP_3).get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        connectProtocol.complete(h3.extendedConnectEnabled());
    }

    /** SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 in the server's SETTINGS. */
    public boolean serverEnablesConnectProtocol() throws Exception {
        return connectProtocol.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    }

    /**
     * Sends the extended CONNECT for {@code path} ({@code protocol} is normally {@code websocket}) and waits
     * for the response head; returns its status.
     */
    public int open(String path, String protocol, Map<String, String> extraHeaders) throws Exception {
        ChannelInitializer<Channel> init = new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                if (ch instanceof QuicStreamChannel q) {
                    q.config().setAllowHalfClosure(true);
                }
                ch.pipeline().addLast("frames", new Frames());
                ch.pipeline().addLast("ws-decoder", new WebSocket13FrameDecoder(false, true, 1 << 20));
                ch.pipeline().addLast("ws-encoder", new WebSocket13FrameEncoder(true));
                ch.pipeline().addLast("messages", new Messages());
            }
        };
        if (version == Version.H2) {
            stream = new Http2StreamChannelBootstrap(connection).handler(init).open().get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            Http2Headers h = new DefaultHttp2Headers().method("CONNECT").scheme("https").path(path)
                    .authority("localhost");
            h.set(Http2Headers.PseudoHeaderName.PROTOCOL.value(), protocol);
            h.set("sec-websocket-version", "13");
            extraHeaders.forEach(h::set);
            stream.writeAndFlush(new DefaultHttp2HeadersFrame(h, false));
        } else {
            stream = h3.openStream(init).get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            Http3Headers h = new DefaultHttp3Headers().method("CONNECT").scheme("https").path(path)
                    .authority("localhost");
            h.protocol(protocol);
            h.set("sec-websocket-version", "13");
            extraHeaders.forEach(h::set);
            stream.writeAndFlush(new DefaultHttp3HeadersFrame(h));
        }
        stream.closeFuture().addListener(f -> {
            if (!ended.isDone()) {
                reset.complete("closed without an end of stream");
            }
            closed.complete(null);
        });
        return status.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    }

    public Map<String, String> responseHeaders() {
        return responseHeaders;
    }

    public void sendText(String text) {
        stream.writeAndFlush(new TextWebSocketFrame(text));
    }

    /** The next text message, or null after the timeout. */
    public String nextMessage(Duration timeout) throws InterruptedException {
        return messages.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Sends a WebSocket close frame (the WebSocket's own end; the stream's end is separate). */
    public void sendClose(int code, String reason) {
        stream.writeAndFlush(new CloseWebSocketFrame(code, reason));
    }

    /** The close frame the server sent, waiting for it. */
    public CloseWebSocketFrame closeFrame() throws Exception {
        return closeFrame.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    }

    /** Ends our side of the stream: an empty DATA with END_STREAM (h2), a FIN (h3). */
    public void endStream() {
        if (version == Version.H2) {
            stream.writeAndFlush(new DefaultHttp2DataFrame(true));
        } else {
            ((QuicStreamChannel) stream).shutdownOutput();
        }
    }

    /** Resets the stream: RST_STREAM CANCEL (h2), RESET_STREAM + STOP_SENDING H3_REQUEST_CANCELLED (h3). */
    public void resetStream() {
        if (version == Version.H2) {
            stream.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.CANCEL));
        } else {
            ((QuicStreamChannel) stream).shutdown(Http3ErrorCode.H3_REQUEST_CANCELLED.code());
        }
    }

    @Override
    public void close() {
        if (connection != null) {
            connection.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        }
        if (h3 != null) {
            h3.close();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
    }

    /** HEADERS, DATA, END_STREAM and resets of the stream, in both protocols, to and from bytes. */
    private final class Frames extends ChannelDuplexHandler {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof Http2HeadersFrame hf) {
                hf.headers().forEach(e -> responseHeaders.put(e.getKey().toString(), e.getValue().toString()));
                status.complete(Integer.parseInt(hf.headers().status().toString()));
                if (hf.isEndStream()) {
                    ended.complete(null);
                }
            } else if (msg instanceof Http3HeadersFrame hf) {
                hf.headers().forEach(e -> responseHeaders.put(e.getKey().toString(), e.getValue().toString()));
                status.complete(Integer.parseInt(hf.headers().status().toString()));
            } else if (msg instanceof Http2DataFrame df) {
                boolean end = df.isEndStream();
                if (opened()) {
                    ctx.fireChannelRead(df.content().retain()); // WebSocket frames only after a 200
                }
                df.release();
                if (end) {
                    ended.complete(null);
                }
            } else if (msg instanceof Http3DataFrame df) {
                if (opened()) {
                    ctx.fireChannelRead(df.content().retain());
                }
                df.release();
            } else if (msg instanceof Http2ResetFrame rf) {
                reset.complete("RST_STREAM " + rf.errorCode());
            } else {
                ReferenceCountUtil.release(msg);
            }
        }

        private boolean opened() {
            return status.isDone() && status.join() == 200;
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof ChannelInputShutdownEvent || evt == ChannelInputShutdownReadComplete.INSTANCE) {
                ended.complete(null); // h3: the server's FIN
            }
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            reset.complete(String.valueOf(cause));
            ctx.close();
        }

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            if (msg instanceof ByteBuf bytes) {
                ctx.write(version == Version.H2 ? new DefaultHttp2DataFrame(bytes) : new DefaultHttp3DataFrame(bytes),
                        promise);
            } else {
                ctx.write(msg, promise);
            }
        }
    }

    private final class Messages extends SimpleChannelInboundHandler<WebSocketFrame> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame frame) {
            if (frame instanceof TextWebSocketFrame text) {
                messages.add(text.text());
            } else if (frame instanceof CloseWebSocketFrame close) {
                closeFrame.complete(close.retainedDuplicate());
            } else if (frame instanceof PingWebSocketFrame ping) {
                ctx.writeAndFlush(new PongWebSocketFrame(ping.content().retain()));
            }
        }
    }
}
