package io.h3relay.proxy;

import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.LastHttpContent;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * Copies of the request body parts already sent upstream, kept so that another attempt can send them
 * again, up to the route's replay limit. Past the limit the copies are dropped and the request can no
 * longer be replayed: a retry then is only possible if nothing went upstream yet. The copies share the
 * buffers (retained duplicates), so keeping them costs references, not bytes.
 */
final class RequestReplay {
    private final long limit;
    /** Made at the first part kept (a bodiless request's empty end keeps nothing). */
    private List<HttpContent> sent;
    private long bytes;
    private boolean overflowed;
    /** The request ended with the shared empty last part, which was sent (after every kept part). */
    private boolean emptyEnd;

    RequestReplay(long limit) {
        this.limit = limit;
    }

    /** {@code c} is about to be written upstream (the write consumes {@code c} itself). */
    void sending(HttpContent c) {
        if (overflowed) {
            return;
        }
        bytes += c.content().readableBytes();
        if (bytes > limit) {
            overflowed = true;
            release();
            return;
        }
        if (c == LastHttpContent.EMPTY_LAST_CONTENT) {
            // A constant, nothing to hold: a replay sends it again as the last part (see replayInto).
            emptyEnd = true;
            return;
        }
        if (sent == null) {
            sent = new ArrayList<>(2);
        }
        sent.add(c.retainedDuplicate());
    }

    /** Everything sent so far is still held. */
    boolean isIntact() {
        return !overflowed;
    }

    /** Body bytes sent so far (a bodiless request: 0). */
    long bytes() {
        return bytes;
    }

    /** Moves the copies to the front of {@code pending}, in order, for the next attempt. */
    void replayInto(ArrayDeque<HttpContent> pending) {
        if (emptyEnd) {
            pending.addFirst(LastHttpContent.EMPTY_LAST_CONTENT);
            emptyEnd = false;
        }
        if (sent != null) {
            for (int i = sent.size() - 1; i >= 0; i--) {
                pending.addFirst(sent.get(i));
            }
            sent.clear();
        }
        bytes = 0;
    }

    void release() {
        if (sent != null) {
            for (HttpContent c : sent) {
                c.release();
            }
            sent.clear();
        }
        emptyEnd = false;
    }
}
