package io.h3relay.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.socket.ChannelInputShutdownReadComplete;
import io.netty.handler.codec.http3.Http3ClientConnectionHandler;
import io.netty.handler.codec.quic.DefaultQuicStreamFrame;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicConnectionCloseEvent;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.handler.codec.quic.QuicStreamType;
import io.netty.util.AttributeKey;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A raw HTTP/3 request stream for attack and fuzz tests: the test writes the stream's bytes itself (hand-made
 * frames and QPACK field sections, with or without FIN) on a Netty QUIC connection, and reads back what the
 * server sent on the stream and how the stream ended: with FIN, reset, or with its connection.
 *
 * <p>{@link #connect} opens the connection with Netty's HTTP/3 client handler (control and QPACK streams) and
 * records the server's CONNECTION_CLOSE ({@link #peerClose}), so a test can check an HTTP/3 connection error's
 * code.
 */
public final class RawHttp3Stream {
    private static final AttributeKey<CompletableFuture<QuicConnectionCloseEvent>> PEER_CLOSE =
            AttributeKey.valueOf(RawHttp3Stream.class, "peerClose");

    private final QuicStreamChannel stream;
    private final CompletableFuture<Outcome> outcome;

    /**
     * How a request stream ended. {@code received}: every byte the server sent on it; {@code fin}: it ended
     * with FIN (else a reset, or the connection went); {@code connectionOpen}: the connection was still
     * active when the stream ended.
     */
    public record Outcome(byte[] received, boolean fin, boolean connectionOpen) {
        /** The server answered: bytes, then FIN. */
        public boolean answered() {
            return fin && received.length > 0;
        }

        /** FIN without a byte: what every stream of a closing connection sees, never an answer. */
        public boolean emptyFin() {
            return fin && received.length == 0;
        }
    }

    private RawHttp3Stream(QuicStreamChannel stream, CompletableFuture<Outcome> outcome) {
        this.stream = stream;
        this.outcome = outcome;
    }

    /** A new QUIC connection to {@code server} over the client's {@code udp} channel (Netty's QUIC codec on it). */
    public static QuicChannel connect(Channel udp, InetSocketAddress server) throws Exception {
        CompletableFuture<QuicConnectionCloseEvent> peerClose = new CompletableFuture<>();
        var bootstrap = QuicChannel.newBootstrap(udp);
        String qlogDir = System.getProperty("h3relay.rawh3.qlog");
        if (qlogDir != null) {
            bootstrap.option(io.netty.handler.codec.quic.QuicChannelOption.QLOG, new io.netty.handler.codec.quic.QLogConfiguration(
                    qlogDir + "/client-" + System.currentTimeMillis() + "-" + System.nanoTime() + ".qlog", "client", "client"));
        }
        QuicChannel quic = bootstrap.handler(new ChannelInitializer<QuicChannel>() {
                    @Override
                    protected void initChannel(QuicChannel ch) {
                        ch.attr(PEER_CLOSE).set(peerClose);
                        ch.pipeline().addLast(new Http3ClientConnectionHandler(), new ChannelInboundHandlerAdapter() {
                            @Override
                            public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                                if (evt instanceof QuicConnectionCloseEvent close) {
                                    peerClose.complete(close);
                                }
                                ctx.fireUserEventTriggered(evt);
                            }
                        });
                    }
                })
                .remoteAddress(server).connect().get(10, TimeUnit.SECONDS);
        return quic;
    }

    /**
     * The server's CONNECTION_CLOSE on a connection from {@link #connect}, once it arrives (never completes when
     * the connection was closed by this side, or timed out).
     */
    public static CompletableFuture<QuicConnectionCloseEvent> peerClose(QuicChannel quic) {
        CompletableFuture<QuicConnectionCloseEvent> f = quic.attr(PEER_CLOSE).get();
        if (f == null) {
            throw new IllegalArgumentException("not a connection from RawHttp3Stream.connect: " + quic);
        }
        return f;
    }

    /** Opens a bidirectional stream on {@code quic}, reading what comes back. */
    public static RawHttp3Stream open(QuicChannel quic) throws Exception {
        CompletableFuture<Outcome> outcome = new CompletableFuture<>();
        QuicStreamChannel s = quic.createStream(QuicStreamType.BIDIRECTIONAL, reader(quic, outcome))
                .get(10, TimeUnit.SECONDS);
        return new RawHttp3Stream(s, outcome);
    }

    /** Opens a stream, writes {@code bytes} in one write (with FIN when {@code fin}) and waits for its end. */
    public static Outcome exchange(QuicChannel quic, byte[] bytes, boolean fin, Duration timeout) throws Exception {
        RawHttp3Stream s = open(quic);
        s.write(bytes, 0, bytes.length, fin);
        return s.outcome().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    public QuicStreamChannel channel() {
        return stream;
    }

    /** Writes and flushes {@code length} bytes of {@code bytes} from {@code offset} as one STREAM write. */
    public ChannelFuture write(byte[] bytes, int offset, int length, boolean fin) {
        return stream.writeAndFlush(new DefaultQuicStreamFrame(Unpooled.wrappedBuffer(bytes, offset, length), fin));
    }

    /** Completes when the stream ends: FIN, reset, an exception, or its connection closing. */
    public CompletableFuture<Outcome> outcome() {
        return outcome;
    }

    private static ChannelInboundHandlerAdapter reader(QuicChannel quic, CompletableFuture<Outcome> outcome) {
        ByteArrayOutputStream received = new ByteArrayOutputStream();
        return new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                ByteBuf b = (ByteBuf) msg;
                try {
                    byte[] bytes = new byte[b.readableBytes()];
                    b.readBytes(bytes);
                    synchronized (received) {
                        received.writeBytes(bytes);
                    }
                } finally {
                    b.release();
                }
            }

            @Override
            public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                if (evt instanceof ChannelInputShutdownReadComplete) {
                    complete(true);
                }
                ctx.fireUserEventTriggered(evt);
            }

            @Override
            public void channelInactive(ChannelHandlerContext ctx) {
                complete(false);
            }

            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                complete(false);
            }

            private void complete(boolean fin) {
                byte[] all;
                synchronized (received) {
                    all = received.toByteArray();
                }
                outcome.complete(new Outcome(all, fin, quic.isActive()));
            }
        };
    }
}
