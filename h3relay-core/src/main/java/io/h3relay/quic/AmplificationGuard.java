package io.h3relay.quic;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.DatagramPacket;
import java.net.InetSocketAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * RFC 9000 section 8.1 on the UDP socket, for listeners without Retry: until a connection from an address
 * completed its handshake, h3relay sends that address at most three times the bytes it received from it.
 * quiche applies that limit to its handshake flight, but not to its probe timeouts: a client that sent one
 * Initial (1200 bytes) and never answered got 5,247 bytes back in 5 s, 4.4x, from a server without Retry
 * (found by {@code it/QuicInitialFloodTest}). With Retry, an unvalidated address only ever gets a Retry.
 *
 * <p>An address is tracked from its first datagram holding a v1 Initial (a new connection; a migrated path
 * never sends one, and quiche validates it itself) until {@link #validated} (the connection's handshake
 * completed) or {@link #TRACK_NANOS} later. What would go beyond the budget is dropped, as a lost packet would
 * be. At most {@link #MAX_TRACKED} addresses are tracked; beyond that (a flood of spoofed sources), Initials from
 * new addresses are dropped until older entries expire.
 */
@ChannelHandler.Sharable
public final class AmplificationGuard extends ChannelDuplexHandler {
    static final int FACTOR = 3;
    static final long TRACK_NANOS = 30_000_000_000L;
    static final int MAX_TRACKED = 100_000;

    private static final class Budget {
        final long since = System.nanoTime();
        long received;
        long sent;
    }

    private final ConcurrentHashMap<InetSocketAddress, Budget> unvalidated = new ConcurrentHashMap<>();
    private final LongAdder dropped = new LongAdder();

    /** Datagrams (out) and Initials (in) dropped so far. */
    public long dropped() {
        return dropped.sum();
    }

    /** Addresses tracked now (tests). */
    int tracked() {
        return unvalidated.size();
    }

    /** A connection from {@code address} completed its handshake: no limit for it any more. */
    public void validated(java.net.SocketAddress address) {
        if (address instanceof InetSocketAddress a) {
            unvalidated.remove(a);
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof DatagramPacket p && p.sender() != null) {
            Budget b = unvalidated.get(p.sender());
            if (b == null && isInitial(p.content())) {
                if (unvalidated.size() >= MAX_TRACKED && !purge()) {
                    dropped.increment();
                    p.release();
                    return;
                }
                b = unvalidated.computeIfAbsent(p.sender(), a -> new Budget());
            }
            if (b != null) {
                synchronized (b) {
                    b.received += p.content().readableBytes();
                }
            }
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
        if (msg instanceof DatagramPacket p && p.recipient() != null) {
            Budget b = unvalidated.get(p.recipient());
            if (b != null) {
                if (System.nanoTime() - b.since > TRACK_NANOS) {
                    unvalidated.remove(p.recipient(), b);
                } else {
                    int n = p.content().readableBytes();
                    boolean allowed;
                    synchronized (b) {
                        allowed = b.sent + n <= FACTOR * b.received;
                        if (allowed) {
                            b.sent += n;
                        }
                    }
                    if (!allowed) {
                        dropped.increment();
                        p.release();
                        promise.trySuccess(); // as if lost on the way
                        return;
                    }
                }
            }
        }
        ctx.write(msg, promise);
    }

    /** Removes expired entries; whether there is room now. */
    private boolean purge() {
        long now = System.nanoTime();
        unvalidated.values().removeIf(b -> now - b.since > TRACK_NANOS);
        return unvalidated.size() < MAX_TRACKED;
    }

    /** A datagram starting with a QUIC v1 long-header Initial packet. */
    static boolean isInitial(ByteBuf d) {
        if (d.readableBytes() < 5) {
            return false;
        }
        int first = d.getUnsignedByte(d.readerIndex());
        return (first & 0x80) != 0 && (first & 0x30) == 0 && d.getInt(d.readerIndex() + 1) == 1;
    }
}
