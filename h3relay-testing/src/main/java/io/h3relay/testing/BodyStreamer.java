package io.h3relay.testing;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpContent;

/**
 * Writes {@code length} bytes of {@link BodyPattern} content as response body chunks, only while the
 * channel is writable, so a 100 MiB body costs a few chunks of memory however slow the reader is.
 *
 * <pre>
 *   pump() ──writes chunks while isWritable()──▶ outbound buffer over high water mark: return
 *      ▲                                                                   │
 *      └──────────── channelWritabilityChanged (handler calls pump) ◀──────┘
 * </pre>
 *
 * When all bytes are written it runs {@code onDone} once, which ends the message (last content) or,
 * for truncation tests, closes the connection. All calls happen on the channel's event loop.
 */
final class BodyStreamer {

  private final ChannelHandlerContext ctx;
  private final Runnable onDone;
  private long offset;
  private final long length;
  private boolean done;

  BodyStreamer(ChannelHandlerContext ctx, long length, Runnable onDone) {
    this.ctx = ctx;
    this.length = length;
    this.onDone = onDone;
  }

  /** Writes as much as the channel accepts now; call again when it becomes writable. */
  void pump() {
    if (done) {
      return;
    }
    // An inactive channel is never writable, so a client that went away simply stops the loop.
    while (offset < length && ctx.channel().isWritable()) {
      int n = (int) Math.min(BodyPattern.CHUNK, length - offset);
      ByteBuf buf = ctx.alloc().buffer(n);
      BodyPattern.write(buf, offset, n);
      offset += n;
      ctx.writeAndFlush(new DefaultHttpContent(buf));
    }
    if (offset >= length && ctx.channel().isActive()) {
      done = true;
      onDone.run();
    }
  }

  boolean done() {
    return done;
  }
}
