package io.h3relay.cluster;

import io.netty.handler.codec.http.HttpObject;

/**
 * The attempt currently using an {@link UpstreamConnection}. All calls arrive on the connection's event
 * loop, which is also the downstream channel's loop.
 */
public interface UpstreamListener {

    /** A response head or body chunk; the listener owns (and must release) {@code msg}. */
    void onResponse(HttpObject msg);

    /** A read burst ended: flush downstream, and read again only if downstream can take more. */
    void onReadComplete();

    /** The connection's write buffer crossed a water mark: request body reads pause or resume. */
    void onWritabilityChanged(boolean writable);

    /** The connection closed (or failed) while this listener was bound. */
    void onClosed(Throwable cause);
}
