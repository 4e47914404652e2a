package io.h3relay.client;

import java.net.InetSocketAddress;

/**
 * What was negotiated when a connection opened, and how long it took. Times are nanoseconds from the
 * start of the connect: {@code connectedNanos} when TCP was up (-1 for QUIC, whose connect is its
 * handshake), {@code handshakeNanos} when TLS or QUIC finished (-1 without TLS).
 */
public record ConnectionInfo(Protocol protocol, InetSocketAddress remote, String tlsVersion, String cipherSuite,
                             long connectedNanos, long handshakeNanos) {
}
