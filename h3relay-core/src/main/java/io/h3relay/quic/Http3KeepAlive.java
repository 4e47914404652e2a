package io.h3relay.quic;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http3.DefaultHttp3UnknownFrame;
import io.netty.handler.codec.http3.Http3;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicConnectionStats;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Keeps an idle HTTP/3 connection alive: on the listener, {@code http3.keep_alive_interval} (the NAT bindings of
 * an idle client); towards an endpoint, the upstream pool's connections past the endpoint's own QUIC idle
 * timeout (until {@code pool.idle_timeout} closes them). Netty 4.2.18's QUIC
 * codec cannot send a PING frame (quiche's {@code send_ack_eliciting} is not bound), so the keep-alive is a
 * reserved HTTP/3 frame (type 0x40, RFC 9114 §7.2.8, empty) on our control stream: a STREAM frame, which
 * is ack-eliciting like a PING, so the client answers with an ACK and its NAT sees outbound traffic. Peers
 * ignore reserved frame types by rule.
 *
 * <pre>
 *   every interval:  packets received since the last tick?
 *                      more than the ACK of our keep-alive ─► busy: nothing to do
 *                      none, or only that ACK               ─► idle: send a keep-alive
 *                    our last keep-alive not answered yet  ─► send nothing more
 * </pre>
 * The last rule is what keeps a silent peer from being kept alive: quiche restarts its idle timer only for
 * the first ack-eliciting packet after one received (RFC 9000 §10.1), and once a keep-alive goes unanswered
 * no other follows, so the connection still closes {@code idle_timeout} after the peer fell silent (plus at
 * most one interval). Runs on the connection's event loop; quiche's packet counters are read there at once.
 */
public final class Http3KeepAlive extends ChannelInboundHandlerAdapter {
    /** A reserved frame type, 0x1f * N + 0x21 with N = 1 (Netty's frame refuses N = 0). */
    static final long RESERVED_FRAME_TYPE = 0x40;

    private final long intervalNanos;
    private QuicChannel connection;
    private ScheduledFuture<?> timer;
    private long lastReceived = -1;
    private boolean awaitingAnswer;

    public Http3KeepAlive(Duration interval) {
        this.intervalNanos = interval.toNanos();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        connection = (QuicChannel) ctx.channel();
        timer = ctx.executor().scheduleAtFixedRate(this::tick, intervalNanos, intervalNanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        stop();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        stop();
    }

    private void stop() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    private void tick() {
        if (!connection.isActive()) {
            stop();
            return;
        }
        Future<QuicConnectionStats> f = connection.collectStats();
        if (!f.isDone() || !f.isSuccess()) {
            return; // on the connection's own loop this completes at once; if not, try at the next tick
        }
        long received = f.getNow().recv();
        boolean idle;
        if (awaitingAnswer) {
            if (received == lastReceived) {
                return; // unanswered: a silent peer gets no more keep-alives, and idle_timeout runs out
            }
            awaitingAnswer = false;
            idle = received == lastReceived + 1; // the ACK of our keep-alive and nothing else
        } else {
            idle = received == lastReceived;
        }
        lastReceived = received;
        if (idle) {
            send();
        }
    }

    private void send() {
        QuicStreamChannel control = Http3.getLocalControlStream(connection);
        if (control == null || !control.isActive()) {
            return; // before the HTTP/3 handshake completed, or while closing
        }
        awaitingAnswer = true;
        control.writeAndFlush(new DefaultHttp3UnknownFrame(RESERVED_FRAME_TYPE, Unpooled.EMPTY_BUFFER));
    }
}
