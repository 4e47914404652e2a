package io.h3relay.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.channel.epoll.Epoll;
import io.netty.channel.uring.IoUring;
import org.junit.jupiter.api.Test;

class TransportTest {
    @Test
    void autoTakesIoUringThenEpollThenNio() {
        String expected = IoUring.isAvailable() ? "io_uring" : Epoll.isAvailable() ? "epoll" : "nio";
        assertThat(Transport.choose("auto").name()).isEqualTo(expected);
        assertThat(Transport.choose("").name()).isEqualTo(expected);
    }

    @Test
    void eachNamedTransportHasItsOwnChannelClasses() {
        Transport nio = Transport.choose("NIO");
        assertThat(nio.name()).isEqualTo("nio");
        assertThat(nio.datagramChannelClass().getSimpleName()).isEqualTo("NioDatagramChannel");
        assertThat(nio.reusePort()).isFalse();
        assertThat(nio.segmentedDatagrams()).isFalse();
        if (IoUring.isAvailable()) {
            Transport uring = Transport.choose("io_uring");
            assertThat(uring.socketChannelClass().getSimpleName()).isEqualTo("IoUringSocketChannel");
            assertThat(uring.datagramChannelClass().getSimpleName()).isEqualTo("IoUringDatagramChannel");
            assertThat(uring.reusePort()).isTrue();
        }
        if (Epoll.isAvailable()) {
            assertThat(Transport.choose("epoll").serverChannelClass().getSimpleName())
                    .isEqualTo("EpollServerSocketChannel");
        }
    }

    @Test
    void anUnknownNameIsAClearError() {
        assertThatThrownBy(() -> Transport.choose("kqueue"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("-Dh3relay.transport: expected auto, io_uring, epoll or nio, got 'kqueue'");
    }
}
