package io.h3relay.policy.compression;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * One response body's encoder: fed the body part by part, each call returns what can be sent now (the
 * encoder is flushed after every part, so a streamed response keeps streaming). Not thread-safe: one
 * exchange, on its event loop.
 */
interface StreamEncoder {

    /**
     * Encodes {@code in} (read entirely, not released) and returns the encoded bytes; {@code last}: the body
     * ends here, the coding's end is written and the encoder's native state released.
     */
    ByteBuf encode(ByteBuf in, ByteBufAllocator alloc, boolean last);

    /** Releases the encoder's state when the body does not end normally (client gone). Idempotent. */
    void close();
}
