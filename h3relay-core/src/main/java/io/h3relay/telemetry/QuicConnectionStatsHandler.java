package io.h3relay.telemetry;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicConnectionPathStats;
import io.netty.handler.codec.quic.QuicConnectionStats;
import io.netty.handler.codec.quic.QuicPathEvent;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.concurrent.Future;

/**
 * Follows one QUIC connection for {@link QuicMetrics}: times its handshake and turns quiche's cumulative
 * counters into counter increments. Everything runs on the connection's event loop, so the last-read
 * values are plain fields.
 */
final class QuicConnectionStatsHandler extends ChannelInboundHandlerAdapter {
    private final QuicMetrics.ListenerSeries metrics;
    private final Runnable onEstablished;
    private final long createdNanos = System.nanoTime();
    private QuicChannel channel;
    private boolean handshakeDone;
    private boolean handshakeFailed;
    private long sent;
    private long received;
    private long lost;
    private long sentBytes;
    private long receivedBytes;
    private long lostBytes;

    QuicConnectionStatsHandler(QuicMetrics.ListenerSeries metrics, Runnable onEstablished) {
        this.metrics = metrics;
        this.onEstablished = onEstablished;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        channel = (QuicChannel) ctx.channel();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof SslHandshakeCompletionEvent e && !handshakeDone && !handshakeFailed) {
            if (e.isSuccess()) {
                handshakeDone = true;
                metrics.handshakeSuccess.inc();
                metrics.handshakeSeconds.observe((System.nanoTime() - createdNanos) / 1e9);
                onEstablished.run();
                sample();
            } else {
                handshakeFailed();
            }
        } else if (evt instanceof QuicPathEvent e) {
            metrics.pathEvent(e);
        }
        ctx.fireUserEventTriggered(evt);
    }

    private void handshakeFailed() {
        handshakeFailed = true;
        metrics.handshakeFailure.inc();
        metrics.tlsFailures.inc();
    }

    /** Adds what changed since the last read; samples the RTT while the connection is open. */
    void sample() {
        Future<QuicConnectionStats> stats = channel.collectStats();
        if (stats.isDone() && stats.isSuccess()) {
            add(stats.getNow());
        }
        if (channel.isActive()) {
            Future<QuicConnectionPathStats> path = channel.collectPathStats(0);
            if (path.isDone() && path.isSuccess()) {
                metrics.rttSeconds.observe(path.getNow().rtt() / 1e9); // quiche reports nanoseconds
            }
        }
    }

    /** The connection closed: Netty kept its final stats, which hold what the last scrape did not see. */
    void closed(QuicChannel ch) {
        if (!handshakeDone && !handshakeFailed) {
            handshakeFailed(); // closed (timed out, refused) before the handshake finished
        }
        ch.collectStats().addListener(f -> {
            if (f.isSuccess()) {
                add((QuicConnectionStats) f.getNow());
            }
        });
    }

    private void add(QuicConnectionStats s) {
        metrics.packetsSent.inc(Math.max(0, s.sent() - sent));
        metrics.packetsReceived.inc(Math.max(0, s.recv() - received));
        metrics.packetsLost.inc(Math.max(0, s.lost() - lost));
        metrics.bytesSent.inc(Math.max(0, s.sentBytes() - sentBytes));
        metrics.bytesReceived.inc(Math.max(0, s.recvBytes() - receivedBytes));
        metrics.bytesLost.inc(Math.max(0, s.lostBytes() - lostBytes));
        sent = Math.max(sent, s.sent());
        received = Math.max(received, s.recv());
        lost = Math.max(lost, s.lost());
        sentBytes = Math.max(sentBytes, s.sentBytes());
        receivedBytes = Math.max(receivedBytes, s.recvBytes());
        lostBytes = Math.max(lostBytes, s.lostBytes());
    }
}
