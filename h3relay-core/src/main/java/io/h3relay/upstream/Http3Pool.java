package io.h3relay.upstream;

import io.h3relay.config.ClusterConfig;
import io.h3relay.endpoint.Endpoint;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;

/**
 * The multiplexed HTTP/3 {@link UpstreamPool} ({@code protocol: http3}): a {@link MultiplexedPool} (which see:
 * per event loop, many streams per connection, a new connection when full, GOAWAY drains) of
 * {@link Http3UpstreamConnection}s, each a QUIC connection on the caller's loop ({@link QuicUpstreamConnector}:
 * its own UDP socket). The endpoint's limit is its bidirectional stream credit, raised by MAX_STREAMS as
 * streams close. Failed handshakes are {@link QuicUpstreamConnector.QuicConnectException}s, which
 * {@link FallbackPool} reads.
 */
public final class Http3Pool extends MultiplexedPool<Http3UpstreamConnection> {
    private final QuicUpstreamConnector connector;

    public Http3Pool(Endpoint endpoint, ClusterConfig.Pool config, QuicUpstreamConnector connector,
                     CircuitBreakers breakers) {
        super(endpoint, config, breakers);
        this.connector = connector;
    }

    /** The cluster's connect_timeout: bounds the QUIC handshake and the wait for the endpoint's SETTINGS. */
    java.time.Duration connectTimeout() {
        return connector.config().connectTimeout();
    }

    /** Our side's QUIC idle timeout (see {@link QuicUpstreamConnector#quicIdleTimeoutMillis}). */
    long quicIdleTimeoutMillis() {
        return connector.quicIdleTimeoutMillis();
    }

    @Override
    public UpstreamProtocol protocol() {
        return UpstreamProtocol.HTTP_3;
    }

    @Override
    Http3UpstreamConnection newConnection(Promise<MultiplexedConnection> ready, boolean pooled) {
        return new Http3UpstreamConnection(this, ready, pooled);
    }

    @Override
    Future<QuicChannel> connect(EventLoop loop, Http3UpstreamConnection conn) {
        return connector.connect(loop, endpoint(), conn::addHandlers);
    }
}
