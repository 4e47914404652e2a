package io.h3relay.transport;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelOutboundHandler;
import io.netty.channel.ChannelOutboundInvoker;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.unix.Socket;

import java.io.IOException;
import java.util.Map;

/**
 * Writes of a relayed tunnel (a WebSocket over plaintext HTTP/1.1, after the 101) that go to the socket at
 * once, with one {@code send(2)}, when nothing waits in the channel's outbound buffer: what nginx does with
 * a buffer it just read. The pipeline's write and flush, the outbound buffer's entry and its pending-bytes
 * accounting are skipped for the common case of a small message relayed as it arrives; they were most of
 * the relay's own CPU per WebSocket message (docs/benchmarks.md, "WebSocket echo").
 *
 * <p>Only where the bytes need nothing on the way: an epoll socket with no outbound handler between the
 * writer and the socket (no TLS, no codec). Anything else, bytes the socket does not take at once, and any
 * write while older bytes still wait, go the ordinary way ({@code write}, flushed by the caller), so the
 * order of bytes is kept and backpressure, failures and closes are handled as for any other write. A send
 * that fails (EPIPE, ECONNRESET) also goes the ordinary way, which then fails as any write does.
 */
public final class DirectSend {
    private DirectSend() {
    }

    /**
     * The socket that writes made at {@code ctx} (or, {@code ctx} null, at the pipeline's tail) may send to
     * directly, or null when they must go through the pipeline: not an epoll socket, or an outbound handler
     * (TLS, a codec) on the way.
     */
    public static Socket socketFor(Channel channel, ChannelHandlerContext ctx) {
        if (!(channel instanceof EpollSocketChannel epoll) || !(epoll.fd() instanceof Socket socket)) {
            return null;
        }
        ChannelPipeline p = channel.pipeline();
        for (Map.Entry<String, io.netty.channel.ChannelHandler> e : p) {
            if (ctx != null && e.getValue() == ctx.handler()) {
                break; // writes at ctx start below it
            }
            if (e.getValue() instanceof ChannelOutboundHandler) {
                return null;
            }
        }
        return socket;
    }

    /**
     * Writes {@code bytes} (owned from here on): sent now when {@code socket} is not null, the caller is on
     * the channel's event loop (the only thread that writes to its socket), the channel is open and nothing
     * waits in its outbound buffer; otherwise, and for what the socket did not take, written
     * through {@code via} for the next flush. Returns true when all of it went out now.
     */
    public static boolean write(Channel channel, ChannelOutboundInvoker via, Socket socket, ByteBuf bytes) {
        if (socket != null && bytes.hasMemoryAddress() && channel.eventLoop().inEventLoop() && nothingWaits(channel)
                && channel.isActive()) {
            try {
                int n = socket.sendAddress(bytes.memoryAddress(), bytes.readerIndex(), bytes.writerIndex());
                if (n == bytes.readableBytes()) {
                    bytes.release();
                    return true;
                }
                bytes.skipBytes(Math.max(0, n)); // 0: the socket's buffer is full (EAGAIN)
            } catch (IOException e) {
                // The ordinary write meets the same failure and handles it as any failed write.
            }
        }
        via.write(bytes, channel.voidPromise());
        return false;
    }

    /** True when nothing waits in the channel's outbound buffer (written or flushed): a flush has nothing to do. */
    public static boolean nothingWaits(Channel channel) {
        ChannelOutboundBuffer out = channel.unsafe().outboundBuffer();
        return out != null && out.totalPendingWriteBytes() == 0;
    }
}
