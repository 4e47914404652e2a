package io.h3relay.transport;

import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.unix.SegmentedDatagramPacket;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringDatagramChannel;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import io.netty.handler.codec.quic.SegmentedDatagramPacketAllocator;
import io.netty.util.concurrent.DefaultThreadFactory;

import java.net.InetSocketAddress;
import java.util.Locale;

/**
 * The socket transport: io_uring where the kernel offers it, epoll where io_uring is not there (an older kernel, a
 * container whose seccomp profile refuses it, {@code kernel.io_uring_disabled}), NIO where neither native library
 * loads. {@code -Dh3relay.transport=io_uring|epoll|nio} (in {@code H3RELAY_JAVA_OPTS}) asks for one; asked for and not
 * available is an error at start, not a silent fallback. io_uring hands the kernel each event-loop turn's reads and
 * writes in one submission where epoll makes a system call for each: on a relayed WebSocket message (a read and a
 * send each way) that is most of what the proxy itself spends (docs/benchmarks.md, "io_uring").
 *
 * <p>Downstream and upstream channels share one group so an exchange's upstream connection can live on its
 * downstream event loop; the HTTP/3 listeners' and the QUIC upstreams' UDP sockets are on it too.
 */
public record Transport(String name,
                        IoHandlerFactory ioHandlerFactory,
                        Class<? extends ServerSocketChannel> serverChannelClass,
                        Class<? extends SocketChannel> socketChannelClass,
                        Class<? extends DatagramChannel> datagramChannelClass) {

    /** The system property that asks for a transport: {@code auto} (the default), io_uring, epoll or nio. */
    public static final String PROPERTY = "h3relay.transport";

    /** The transport {@link #PROPERTY} asks for (the older {@code -Dh3relay.nio=true}: NIO). */
    public static Transport detect() {
        return choose(Boolean.getBoolean("h3relay.nio") ? "nio" : System.getProperty(PROPERTY, "auto"));
    }

    /** The transport {@code wanted} names; an error names what is wrong when it is unknown or not available here. */
    public static Transport choose(String wanted) {
        return switch (wanted.trim().toLowerCase(Locale.ROOT)) {
            case "auto", "" -> IoUring.isAvailable() ? ioUring() : Epoll.isAvailable() ? epoll() : nio();
            case "io_uring", "io-uring", "iouring" -> {
                if (!IoUring.isAvailable()) {
                    throw new IllegalStateException("-D" + PROPERTY + "=io_uring: io_uring is not available here ("
                            + IoUring.unavailabilityCause() + "); use epoll or auto");
                }
                yield ioUring();
            }
            case "epoll" -> {
                if (!Epoll.isAvailable()) {
                    throw new IllegalStateException("-D" + PROPERTY + "=epoll: epoll is not available here ("
                            + Epoll.unavailabilityCause() + "); use nio or auto");
                }
                yield epoll();
            }
            case "nio" -> nio();
            default -> throw new IllegalArgumentException("-D" + PROPERTY + ": expected auto, io_uring, epoll or nio, "
                    + "got '" + wanted + "'");
        };
    }

    private static Transport ioUring() {
        return new Transport("io_uring", IoUringIoHandler.newFactory(), IoUringServerSocketChannel.class,
                IoUringSocketChannel.class, IoUringDatagramChannel.class);
    }

    private static Transport epoll() {
        return new Transport("epoll", EpollIoHandler.newFactory(), EpollServerSocketChannel.class,
                EpollSocketChannel.class, EpollDatagramChannel.class);
    }

    private static Transport nio() {
        return new Transport("nio", NioIoHandler.newFactory(), NioServerSocketChannel.class,
                NioSocketChannel.class, NioDatagramChannel.class);
    }

    public EventLoopGroup newGroup(int threads, String threadPrefix) {
        return new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory(threadPrefix, true),
                ioHandlerFactory);
    }

    /** True for the native transports, which can share a UDP port between sockets ({@code SO_REUSEPORT}). */
    public boolean reusePort() {
        return !"nio".equals(name);
    }

    /** True when UDP segmentation offload (GSO: many datagrams in one send) works with this transport here. */
    public boolean segmentedDatagrams() {
        return switch (name) {
            case "io_uring" -> IoUringDatagramChannel.isSegmentedDatagramPacketSupported();
            case "epoll" -> EpollDatagramChannel.isSegmentedDatagramPacketSupported();
            default -> false;
        };
    }

    /** QUIC's packets of one send as GSO datagrams of up to {@code max} segments ({@link #segmentedDatagrams}). */
    public static SegmentedDatagramPacketAllocator segmentedAllocator(int max) {
        return new SegmentedDatagramPacketAllocator() {
            @Override
            public int maxNumSegments() {
                return max;
            }

            @Override
            public io.netty.channel.socket.DatagramPacket newPacket(ByteBuf buffer, int segmentSize,
                                                                    InetSocketAddress recipient) {
                return new SegmentedDatagramPacket(buffer, segmentSize, recipient);
            }
        };
    }
}
