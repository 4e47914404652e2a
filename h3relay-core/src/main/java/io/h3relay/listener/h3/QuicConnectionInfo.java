package io.h3relay.listener.h3;

import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicConnectionPathStats;
import io.netty.handler.codec.quic.QuicConnectionStats;

import java.net.SocketAddress;
import java.util.concurrent.CompletableFuture;

/**
 * One open QUIC connection as the admin API's {@code GET /quic/connections} shows it: quiche's connection
 * statistics ({@code QuicConnectionStats}: packets and bytes, loss) and those of its active path
 * ({@code QuicConnectionPathStats}: peer address, smoothed RTT, congestion window), with the connection guard's
 * open request streams and age, all read on the connection's event loop ({@link #read}).
 */
public record QuicConnectionInfo(String listener, String peer, String connectionId, double rttMillis,
                                 long congestionWindow, long bytesSent, long bytesReceived, long bytesLost,
                                 long packetsSent, long packetsReceived, long packetsLost, long paths,
                                 int openStreams, double ageSeconds, boolean resumed, int earlyDataRequests) {

    /** Total bytes both ways: what "busiest" sorts by. */
    public long bytes() {
        return bytesSent + bytesReceived;
    }

    /** Reads {@code ch} on its event loop; completes with null when it closed meanwhile. */
    public static CompletableFuture<QuicConnectionInfo> read(String listener, QuicChannel ch) {
        CompletableFuture<QuicConnectionInfo> out = new CompletableFuture<>();
        try {
            ch.eventLoop().execute(() -> {
                try {
                    out.complete(readNow(listener, ch));
                } catch (RuntimeException e) {
                    out.completeExceptionally(e);
                }
            });
        } catch (RuntimeException e) { // the loop is shutting down
            out.complete(null);
        }
        return out;
    }

    private static QuicConnectionInfo readNow(String listener, QuicChannel ch) {
        if (!ch.isOpen()) {
            return null;
        }
        // On the loop, Netty completes both futures before returning.
        QuicConnectionStats stats = ch.collectStats().getNow();
        if (stats == null) {
            return null;
        }
        QuicConnectionPathStats active = null;
        for (int i = 0; i < Math.max(1, stats.pathsCount()) && active == null; i++) {
            QuicConnectionPathStats p = ch.collectPathStats(i).getNow();
            if (p != null && (p.active() || stats.pathsCount() <= 1)) {
                active = p;
            }
        }
        Http3ConnectionGuard guard = ch.pipeline().get(Http3ConnectionGuard.class);
        SocketAddress peer = active != null ? active.peerAddress() : ch.remoteSocketAddress();
        return new QuicConnectionInfo(listener, String.valueOf(peer), connectionId(ch),
                active == null ? -1 : active.rtt() / 1e6, active == null ? -1 : active.cwnd(), stats.sentBytes(),
                stats.recvBytes(), stats.lostBytes(), stats.sent(), stats.recv(), stats.lost(), stats.pathsCount(),
                guard == null ? 0 : guard.openStreams(), guard == null ? -1 : guard.ageNanos() / 1e9,
                guard != null && guard.resumed(), guard == null ? 0 : guard.earlyRequests());
    }

    /** Our current connection id (the one the client sends to), in hex. */
    static String connectionId(QuicChannel ch) {
        String s = String.valueOf(ch.localAddress());
        int at = s.indexOf("connId=");
        return at < 0 ? "" : s.substring(at + 7, s.length() - 1);
    }
}
