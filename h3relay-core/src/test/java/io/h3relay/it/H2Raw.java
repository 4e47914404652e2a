package io.h3relay.it;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2ConnectionHandlerBuilder;
import io.netty.handler.codec.http2.Http2Flags;
import io.netty.handler.codec.http2.Http2FrameAdapter;
import io.netty.handler.codec.http2.Http2FrameWriter;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2Settings;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An h2c (prior knowledge) client that writes whatever frames a test asks for, through Netty's
 * {@link Http2FrameWriter} directly (so nothing on this side checks stream states or limits), and records
 * what the server answers: GOAWAY, RST_STREAM per stream, response status per stream, DATA bytes, and the
 * close. With {@code read == false} the client never reads after connecting (a peer that lets the server's
 * writes pile up), on a small receive buffer.
 */
final class H2Raw implements AutoCloseable {
    final Channel ch;
    final Http2ConnectionHandler h2;
    final ChannelHandlerContext ctx;
    final CompletableFuture<Long> goAway = new CompletableFuture<>();
    final Map<Integer, Long> resets = new ConcurrentHashMap<>();
    final Map<Integer, Integer> statuses = new ConcurrentHashMap<>();
    final Map<Integer, Boolean> ended = new ConcurrentHashMap<>();
    final AtomicLong dataBytes = new AtomicLong();
    /** Bytes this client wrote (frames), for "cut off after at most N bytes". */
    final AtomicLong written = new AtomicLong();
    /** {@link #written} when the GOAWAY arrived (-1: none yet). */
    final AtomicLong writtenAtGoAway = new AtomicLong(-1);
    /** Bytes of frames whose write completed (handed to the kernel: at most a small send buffer ahead of the server). */
    final AtomicLong sent = new AtomicLong();
    final AtomicLong pingAcks = new AtomicLong();

    private H2Raw(Channel ch, Http2ConnectionHandler h2) {
        this.ch = ch;
        this.h2 = h2;
        this.ctx = ch.pipeline().context(h2);
    }

    static H2Raw connect(EventLoopGroup group, int port, boolean read, Http2Settings settings) throws Exception {
        H2Raw[] self = new H2Raw[1];
        Http2FrameAdapter listener = new Http2FrameAdapter() {
            @Override
            public void onGoAwayRead(ChannelHandlerContext ctx, int lastStreamId, long errorCode, ByteBuf debug) {
                self[0].writtenAtGoAway.compareAndSet(-1, self[0].written.get());
                self[0].goAway.complete(errorCode);
            }

            @Override
            public void onPingAckRead(ChannelHandlerContext ctx, long data) {
                self[0].pingAcks.incrementAndGet();
            }

            @Override
            public void onRstStreamRead(ChannelHandlerContext ctx, int streamId, long errorCode) {
                self[0].resets.put(streamId, errorCode);
            }

            @Override
            public void onHeadersRead(ChannelHandlerContext ctx, int streamId, Http2Headers headers, int padding,
                                      boolean endStream) {
                if (headers.status() != null) {
                    self[0].statuses.putIfAbsent(streamId, Integer.parseInt(headers.status().toString()));
                }
                if (endStream) {
                    self[0].ended.put(streamId, true);
                }
            }

            @Override
            public void onHeadersRead(ChannelHandlerContext ctx, int streamId, Http2Headers headers, int dependency,
                                      short weight, boolean exclusive, int padding, boolean endStream) {
                onHeadersRead(ctx, streamId, headers, padding, endStream);
            }

            @Override
            public int onDataRead(ChannelHandlerContext ctx, int streamId, ByteBuf data, int padding,
                                  boolean endOfStream) {
                self[0].dataBytes.addAndGet(data.readableBytes());
                if (endOfStream) {
                    self[0].ended.put(streamId, true);
                }
                return data.readableBytes() + padding;
            }
        };
        Http2ConnectionHandlerBuilder b = new Http2ConnectionHandlerBuilder().server(false).frameListener(listener)
                .gracefulShutdownTimeoutMillis(0);
        if (settings != null) {
            b.initialSettings(settings);
        }
        Http2ConnectionHandler h2 = b.build();
        Bootstrap boot = new Bootstrap().group(group).channel(NioSocketChannel.class).handler(h2);
        boot.option(ChannelOption.SO_SNDBUF, 16 * 1024);
        if (!read) {
            boot.option(ChannelOption.AUTO_READ, false).option(ChannelOption.SO_RCVBUF, 4096);
        }
        Channel ch = boot.connect(new InetSocketAddress("127.0.0.1", port)).sync().channel();
        self[0] = new H2Raw(ch, h2);
        if (read) {
            self[0].settle();
        }
        return self[0];
    }

    /** Runs {@code frames} on the event loop with the frame writer, then flushes; false once the connection is gone. */
    @FunctionalInterface
    interface Frames {
        void write(Http2FrameWriter w, ChannelHandlerContext ctx) throws Exception;
    }

    boolean write(Frames frames) throws Exception {
        if (!ch.isActive()) {
            return false;
        }
        ch.eventLoop().submit(() -> {
            frames.write(h2.encoder().frameWriter(), ctx);
            ctx.flush();
            return null;
        }).sync();
        return ch.isActive();
    }

    /**
     * Waits for a PING's ACK: by then this side has read the server's SETTINGS and written its ACK, so no
     * frame of Netty's own comes between the frames a test writes (a SETTINGS ACK inside a header block is a
     * protocol error).
     */
    void settle() throws Exception {
        long acks = pingAcks.get();
        write((w, c) -> w.writePing(c, false, 7L, c.newPromise()));
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(() -> pingAcks.get() > acks);
    }

    /** Writes a raw frame of any type. */
    void frame(Http2FrameWriter w, ChannelHandlerContext ctx, byte type, int stream, Http2Flags flags, byte[] payload) {
        long n = 9L + payload.length;
        written.addAndGet(n);
        w.writeFrame(ctx, type, stream, flags, Unpooled.wrappedBuffer(payload), ctx.newPromise())
                .addListener(f -> {
                    if (f.isSuccess()) {
                        sent.addAndGet(n);
                    }
                });
    }

    /** Stream {@code id} becomes known to this side, so the server's answers on it are read, not refused. */
    void openLocally(int id) throws Exception {
        ch.eventLoop().submit(() -> h2.connection().local().createStream(id, false)).sync();
    }

    boolean closedWithin(Duration d) throws InterruptedException {
        return ch.closeFuture().await(d.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
        ch.close().syncUninterruptibly();
    }
}
