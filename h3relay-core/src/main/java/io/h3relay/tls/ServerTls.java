package io.h3relay.tls;

import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandler;
import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.util.Mapping;

/**
 * The TLS side of one listener, built once at config time by {@link ServerTlsContexts} and shared by
 * all its connections. {@link #newHandler} is called per accepted connection, on its event loop.
 */
public final class ServerTls {
    /** How long an SNI-dispatching connection may take to send its ClientHello. */
    private static final long CLIENT_HELLO_TIMEOUT_MILLIS = 10_000;

    private final SslContext defaultContext;
    private final Mapping<String, SslContext> sniMapping;

    ServerTls(SslContext defaultContext, Mapping<String, SslContext> sniMapping) {
        this.defaultContext = defaultContext;
        this.sniMapping = sniMapping;
    }

    /**
     * The first handler of a TLS connection's pipeline: an {@code SslHandler} when the listener has one
     * certificate, else an {@link SniHandler} that reads the ClientHello, picks the context by server
     * name (the default one for unknown or absent names) and replaces itself with that context's
     * {@code SslHandler}. Either way, later handlers see the same handshake and ALPN events.
     */
    public ChannelHandler newHandler(ByteBufAllocator alloc) {
        if (sniMapping == null) {
            return defaultContext.newHandler(alloc);
        }
        return new SniHandler(sniMapping, CLIENT_HELLO_TIMEOUT_MILLIS);
    }

    /** The context of the main certificate; also the SNI fallback. */
    public SslContext defaultContext() {
        return defaultContext;
    }

    /** True when connections are dispatched by SNI to more than one certificate. */
    public boolean usesSni() {
        return sniMapping != null;
    }
}
