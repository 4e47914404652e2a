package io.h3relay.proxy;

import io.h3relay.endpoint.Endpoint;
import io.h3relay.upstream.UpstreamPool;
import io.h3relay.upstream.UpstreamStream;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;

import java.util.ArrayList;
import java.util.List;

/**
 * An {@link UpstreamPool} whose streams are {@link FakeStream}s, handed out at once ({@link #tryAcquire}),
 * or, once {@link #refuseConnections} is set, failing with a connect error.
 */
final class FakePool implements UpstreamPool {
    final Endpoint endpoint;
    final List<FakeStream> streams = new ArrayList<>();
    Throwable connectFailure;
    /** Streams handed out are "reused keep-alive connections". */
    boolean reused;

    /** Every stream of every pool of the bench, in the order they were handed out. */
    private final List<FakeStream> all;

    FakePool(Endpoint endpoint, List<FakeStream> all) {
        this.endpoint = endpoint;
        this.all = all;
    }

    void refuseConnections() {
        connectFailure = new java.net.ConnectException("Connection refused");
    }

    FakeStream last() {
        return streams.get(streams.size() - 1);
    }

    @Override
    public Endpoint endpoint() {
        return endpoint;
    }

    @Override
    public UpstreamStream tryAcquire(EventLoop loop) {
        if (connectFailure != null) {
            return null;
        }
        FakeStream s = new FakeStream(endpoint, reused);
        streams.add(s);
        all.add(s);
        return s;
    }

    @Override
    public Future<UpstreamStream> acquire(EventLoop loop) {
        return loop.newFailedFuture(connectFailure);
    }

    @Override
    public Future<UpstreamStream> openDedicated(EventLoop loop) {
        return loop.newFailedFuture(new UnsupportedOperationException("no health checks in unit tests"));
    }

    @Override
    public int connectionCount() {
        return streams.size();
    }

    @Override
    public int idleCount() {
        return 0;
    }

    @Override
    public int pendingCount() {
        return 0;
    }

    @Override
    public void close() {
    }
}
