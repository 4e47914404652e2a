package io.h3relay.listener.h3;

import io.netty.handler.codec.quic.QuicSslContext;

import java.util.List;

/**
 * A listener's QUIC TLS: the context handshakes start with ({@code main}; with SNI entries it picks among the
 * others) and every context a handshake can end on ({@code all}), which each need the session ticket keys.
 */
public record QuicServerTls(QuicSslContext main, List<QuicSslContext> all) {
}
