package io.h3relay.client;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;

/** The socket transport of the client: epoll where the native library loads, NIO otherwise. */
public record Transports(String name, IoHandlerFactory ioHandlerFactory,
                         Class<? extends SocketChannel> socketChannel,
                         Class<? extends DatagramChannel> datagramChannel) {

    public static Transports detect() {
        if (Epoll.isAvailable() && !Boolean.getBoolean("h3relay.nio")) {
            return new Transports("epoll", EpollIoHandler.newFactory(), EpollSocketChannel.class,
                    EpollDatagramChannel.class);
        }
        return nio();
    }

    public static Transports nio() {
        return new Transports("nio", NioIoHandler.newFactory(), NioSocketChannel.class, NioDatagramChannel.class);
    }

    /** Daemon threads: a client must never keep the JVM alive by itself. */
    public EventLoopGroup newGroup(int threads, String prefix) {
        return new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory(prefix, true), ioHandlerFactory);
    }
}
