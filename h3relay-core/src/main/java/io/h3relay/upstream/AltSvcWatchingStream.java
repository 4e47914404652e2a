package io.h3relay.upstream;

import io.h3relay.endpoint.Endpoint;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;

import java.util.function.Consumer;

/**
 * A TCP stream of a {@code protocol: auto} cluster that hands each response's {@code Alt-Svc} header to its
 * pool ({@link FallbackPool#altSvc}) before passing the response on unchanged; everything else delegates.
 */
final class AltSvcWatchingStream implements UpstreamStream, UpstreamStream.Listener {
    private final UpstreamStream delegate;
    private final Consumer<String> altSvc;
    private Listener listener;

    AltSvcWatchingStream(UpstreamStream delegate, Consumer<String> altSvc) {
        this.delegate = delegate;
        this.altSvc = altSvc;
    }

    @Override
    public Endpoint endpoint() {
        return delegate.endpoint();
    }

    @Override
    public UpstreamProtocol protocol() {
        return delegate.protocol();
    }

    @Override
    public void start(Listener l) {
        this.listener = l;
        delegate.start(this);
    }

    @Override
    public void writeHead(HttpRequest head, boolean hasBody) {
        delegate.writeHead(head, hasBody);
    }

    @Override
    public void writeBody(HttpContent content) {
        delegate.writeBody(content);
    }

    @Override
    public void flush() {
        delegate.flush();
    }

    @Override
    public boolean isWritable() {
        return delegate.isWritable();
    }

    @Override
    public void readResponse(boolean on) {
        delegate.readResponse(on);
    }

    @Override
    public boolean isReused() {
        return delegate.isReused();
    }

    @Override
    public String viaVersion() {
        return delegate.viaVersion();
    }

    @Override
    public void finish(boolean clean) {
        delegate.finish(clean);
    }

    @Override
    public void abort(String reason) {
        delegate.abort(reason);
    }

    @Override
    public void enterTunnel() {
        delegate.enterTunnel();
    }

    @Override
    public void onResponse(HttpObject msg) {
        if (msg instanceof HttpResponse res) {
            String v = res.headers().get("alt-svc");
            if (v != null) {
                altSvc.accept(v);
            }
        }
        listener.onResponse(msg);
    }

    @Override
    public void onReadComplete() {
        listener.onReadComplete();
    }

    @Override
    public void onWritabilityChanged(boolean writable) {
        listener.onWritabilityChanged(writable);
    }

    @Override
    public void onFailed(UpstreamFailure failure) {
        listener.onFailed(failure);
    }
}
