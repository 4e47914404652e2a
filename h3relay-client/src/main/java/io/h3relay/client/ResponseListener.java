package io.h3relay.client;

import io.netty.buffer.ByteBuf;

import java.util.List;
import java.util.Map;

/**
 * Receives one response. Every call comes on the connection's event loop, in order: {@link #onHead}
 * once (interim 1xx responses are skipped), {@link #onData} per body chunk, then exactly one of
 * {@link #onComplete} and {@link #onFailure} (a failure can also come before the head).
 */
public interface ResponseListener {

    /** The final response head. Header names are lower case on h2/h3, as received on h1. */
    void onHead(int status, HeaderList headers);

    /** One chunk of body; the buffer is released after the call returns (copy what must be kept). */
    default void onData(ByteBuf data) {
    }

    /** The response ended; {@code trailers} is empty when there were none. */
    void onComplete(List<Map.Entry<String, String>> trailers);

    void onFailure(RequestFailure failure);

    /** Response headers, converted to strings only when asked for (the load generator never does). */
    interface HeaderList {
        List<Map.Entry<String, String>> all();

        /** The first value of {@code name} (case-insensitive), or null. */
        default String get(String name) {
            for (Map.Entry<String, String> e : all()) {
                if (e.getKey().equalsIgnoreCase(name)) {
                    return e.getValue();
                }
            }
            return null;
        }
    }
}
