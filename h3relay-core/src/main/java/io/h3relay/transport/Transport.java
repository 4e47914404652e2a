package io.h3relay.transport;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollChannelOption;
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
 * The socket transport: io_uring where the kernel offers it, epoll where only epoll's native library loads, NIO
 * otherwise ({@code auto}, the default). {@code -Dh3relay.transport=auto|io_uring|epoll|nio} (in
 * {@code H3RELAY_JAVA_OPTS}) chooses; one asked for and not available here (io_uring: an older kernel,
 * {@code kernel.io_uring_disabled}, a container's seccomp profile) is an error at start, not a silent fallback.
 * io_uring hands the kernel each event-loop turn's reads and writes in one submission where epoll makes a system
 * call for each: 26% less proxy CPU per h1 request, 16% per h2 request, 12% per relayed WebSocket message here
 * (docs/benchmarks.md, "io_uring").
 *
 * <p>Downstream and upstream channels share one group so an exchange's upstream connection can live on its
 * downstream event loop. Under io_uring the HTTP/3 listeners' UDP sockets are the exception: they run on epoll
 * ({@link #quic()}), in a group of their own, with the upstream connections of their requests.
 */
public record Transport(String name,
                        Class<? extends IoHandler> ioHandlerClass,
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
        return new Transport("io_uring", IoUringIoHandler.class, IoUringIoHandler.newFactory(),
                IoUringServerSocketChannel.class, IoUringSocketChannel.class, IoUringDatagramChannel.class);
    }

    private static Transport epoll() {
        return new Transport("epoll", EpollIoHandler.class, EpollIoHandler.newFactory(), EpollServerSocketChannel.class,
                EpollSocketChannel.class, EpollDatagramChannel.class);
    }

    private static Transport nio() {
        return new Transport("nio", NioIoHandler.class, NioIoHandler.newFactory(), NioServerSocketChannel.class,
                NioSocketChannel.class, NioDatagramChannel.class);
    }

    /**
     * The transport of the HTTP/3 listeners' UDP sockets: epoll under io_uring where epoll loads, this one
     * otherwise. QUIC over io_uring's datagram channel cost 18% more CPU per h3 request than over epoll's (one
     * {@code recvmsg} in the ring per datagram, each its own round trip through the ring; docs/benchmarks.md,
     * "io_uring"), so those sockets and the upstream connections of their requests get an
     * epoll group of their own ({@code RelayServer}) while TCP stays on io_uring.
     */
    public Transport quic() {
        return "io_uring".equals(name) && Epoll.isAvailable() ? epoll() : this;
    }

    /**
     * The transport of channels opened on {@code loop}: this one, or {@link #quic()}'s for a loop of the QUIC
     * group (an upstream connection opened for a request that came over HTTP/3 lives on its event loop).
     */
    public Transport on(EventLoop loop) {
        if (loop instanceof IoEventLoop io && !io.isIoType(ioHandlerClass)) {
            Transport quic = quic();
            if (io.isIoType(quic.ioHandlerClass)) {
                return quic;
            }
        }
        return this;
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

    /**
     * A UDP socket's reads in datagrams of at most {@code datagramSize} bytes, {@code perRead} of them per system
     * call where the transport can ({@code recvmmsg} on epoll, {@code Native.IS_SUPPORTING_RECVMMSG}); one per
     * call otherwise (into a buffer of {@code datagramSize}, so the limit is the same everywhere). A larger datagram
     * is cut to the limit, and QUIC drops it: listeners advertise the limit as max_udp_payload_size.
     */
    public void datagramReads(Bootstrap b, int datagramSize, int perRead) {
        if ("epoll".equals(name)) {
            b.option(EpollChannelOption.MAX_DATAGRAM_PAYLOAD_SIZE, datagramSize)
                    .option(ChannelOption.RCVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(datagramSize * perRead));
        } else {
            b.option(ChannelOption.RCVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(datagramSize));
        }
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
