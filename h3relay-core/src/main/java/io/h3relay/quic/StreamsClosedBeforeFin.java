package io.h3relay.quic;

import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.ChannelInputShutdownReadComplete;

/**
 * Counts, for one QUIC connection, the streams that closed before the peer's FIN was read, and says when the
 * connection should take no new stream. Netty 4.2.18 removes a QUIC stream from its connection's stream map only
 * once the stream's FIN was read; a stream that closes before that (a request answered early with the rest of its
 * upload stopped, a request cancelled by either side, a stream reset) stays in the map, its channel and pipeline
 * objects included (about 0.8 KB), until the connection closes, while quiche frees the stream's credit so the peer
 * may open the next one. Bounded per connection by draining it after {@value #LIMIT} of them: the HTTP/3 listener
 * sends GOAWAY ({@code Http3ConnectionGuard}), the upstream pool retires the connection
 * ({@code Http3UpstreamConnection}); docs/security.md, "Streams closed before their FIN". Event loop only.
 */
public final class StreamsClosedBeforeFin {
    /** Such streams after which a connection is drained (under 1 MB of what Netty keeps). */
    public static final int LIMIT = 1_000;
    private int count;

    /** True for the events Netty fires on a stream whose FIN was read (both come; either tells). */
    public static boolean isFin(Object evt) {
        return evt instanceof ChannelInputShutdownEvent || evt instanceof ChannelInputShutdownReadComplete;
    }

    /** One more stream closed before its FIN: true exactly once, when the count reaches {@link #LIMIT}. */
    public boolean add() {
        return ++count == LIMIT;
    }
}
