package io.h3relay.listener;

import io.h3relay.exchange.DownstreamProtocol;
import io.netty.channel.Channel;
import io.netty.handler.codec.quic.QuicChannel;

/**
 * What listeners report about downstream connections (metrics implement it). Called on the connection's
 * event loop; implementations must not block.
 */
public interface ConnectionObserver {
    ConnectionObserver NONE = new ConnectionObserver() {
    };

    /**
     * A TCP connection is ready to carry {@code protocol} (after TLS and ALPN on a TLS listener). An h1
     * connection reports {@link DownstreamProtocol#HTTP_1_1} whatever its requests' versions.
     */
    default void connectionOpened(Channel connection, DownstreamProtocol protocol) {
    }

    /** A connection switched protocol in place (h2c: prior knowledge or {@code Upgrade: h2c}). */
    default void connectionUpgraded(Channel connection, DownstreamProtocol protocol) {
    }

    /** A TLS handshake over TCP failed (QUIC handshakes are seen by {@link #quicConnectionCreated}). */
    default void tlsHandshakeFailed() {
    }

    /**
     * The QUIC codec created a connection (its handshake is still running). The observer may add handlers
     * to the connection's pipeline to follow the handshake and read its statistics.
     */
    default void quicConnectionCreated(QuicChannel connection) {
    }

    /** A QUIC Retry packet was sent (address validation). */
    default void quicRetrySent() {
    }

    /** A QUIC handshake completed by resuming a TLS session (a session ticket). */
    default void quicSessionResumed() {
    }

    /**
     * A request arrived in 0-RTT early data; {@code outcome}: {@code forwarded} (safe method, with
     * {@code Early-Data: 1}), {@code rejected} (425) or {@code held} (until the handshake completed).
     */
    default void earlyDataRequest(String outcome) {
    }
}
