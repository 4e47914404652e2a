package io.h3relay.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.h3relay.client.ClientTls;
import io.h3relay.client.h3.QuicClients;
import io.h3relay.testing.TestEndpoint;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.http3.Http3ClientConnectionHandler;
import io.netty.handler.codec.quic.QuicChannel;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code limits.max_connections_per_client}: connections from one client address are counted per listener,
 * TCP (h1, h2, h2c) and QUIC together; one over the limit is closed at once, other addresses are not
 * affected, and a closed connection gives its place back. Clients come from 127.0.0.1 and 127.0.0.2 (the
 * loopback range, so two client addresses on one machine).
 */
class ClientConnectionLimitTest {
    private static final InetAddress A = address("127.0.0.1");
    private static final InetAddress B = address("127.0.0.2");

    private static TestEndpoint endpoint;
    private static RelayHarness relay;
    private static EventLoopGroup group;

    @BeforeAll
    static void start() {
        endpoint = TestEndpoint.start("per-client");
        relay = RelayHarness.singleCluster(endpoint.address(), "{ max_connections_per_client: 2 }");
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    }

    @AfterAll
    static void stop() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        relay.close();
        endpoint.close();
    }

    private static InetAddress address(String s) {
        try {
            return InetAddress.getByName(s);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void plaintextH1OverTheLimitIsClosedOtherClientsAreServed() throws Exception {
        List<Socket> open = new ArrayList<>();
        try {
            for (int i = 0; i < 2; i++) {
                Socket s = new Socket(A, relay.plainPort(), A, 0);
                open.add(s);
                assertThat(get(s)).isEqualTo(200);
            }
            try (Socket third = new Socket(A, relay.plainPort(), A, 0)) {
                assertThat(refused(third)).as("a third connection from 127.0.0.1").isTrue();
            }
            try (Socket other = new Socket(A, relay.plainPort(), B, 0)) {
                assertThat(get(other)).as("a connection from 127.0.0.2").isEqualTo(200);
            }
            assertThat(get(open.get(0))).as("the first two are unaffected").isEqualTo(200);
            // A place given back: once one closes (the proxy sees it), a new connection is accepted.
            open.remove(0).close();
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
                try (Socket again = new Socket(A, relay.plainPort(), A, 0)) {
                    assertThat(get(again)).isEqualTo(200);
                }
            });
        } finally {
            for (Socket s : open) {
                s.close();
            }
        }
    }

    /** On the TLS listener, h1 and h2 over TCP and h3 over QUIC share one count per client address. */
    @Test
    void tcpAndQuicShareTheCount() throws Exception {
        List<Socket> open = new ArrayList<>();
        Channel udp = QuicClients.bind(group, NioDatagramChannel.class,
                QuicClients.codec(ClientTls.trusting(RelayHarness.certs().caCert()).quic())).sync().channel();
        try {
            open.add(tls(A, "h2"));
            open.add(tls(A, "http/1.1"));
            assertThat(get(open.get(1))).isEqualTo(200);
            // A QUIC connection from the same address is the third.
            assertThat(quicServed(udp)).as("QUIC from 127.0.0.1 with two TCP connections open").isFalse();
            open.remove(0).close();
            await().atMost(Duration.ofSeconds(10)).until(() -> quicServed(udp));
        } finally {
            udp.close().sync();
            for (Socket s : open) {
                s.close();
            }
        }
    }

    /** Whether a QUIC connection from {@code udp}'s address completes its handshake and stays open. */
    private static boolean quicServed(Channel udp) {
        QuicChannel quic;
        try {
            quic = QuicChannel.newBootstrap(udp).handler(new Http3ClientConnectionHandler())
                    .remoteAddress(new InetSocketAddress("localhost", relay.tlsPort()))
                    .connect().get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            return false;
        }
        try {
            // A refused connection is closed by the server right after it was created.
            return !quic.closeFuture().await(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } finally {
            quic.close();
        }
    }

    private static Socket tls(InetAddress from, String alpn) throws IOException {
        SSLSocket s = (SSLSocket) RelayHarness.certs().trustingSslContext().getSocketFactory()
                .createSocket(new Socket(A, relay.tlsPort(), from, 0), "localhost", relay.tlsPort(), true);
        var params = s.getSSLParameters();
        params.setApplicationProtocols(new String[] {alpn});
        s.setSSLParameters(params);
        s.startHandshake();
        return s;
    }

    /** One GET on {@code s}; the status. */
    private static int get(Socket s) throws IOException {
        s.setSoTimeout(10_000);
        s.getOutputStream().write("GET /x HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
        InputStream in = s.getInputStream();
        String line = RawHttp1.readLine(in);
        assertThat(line).as("status line").isNotNull();
        int status = Integer.parseInt(line.split(" ")[1]);
        long length = 0;
        for (String h = RawHttp1.readLine(in); h != null && !h.isEmpty(); h = RawHttp1.readLine(in)) {
            if (h.toLowerCase().startsWith("content-length:")) {
                length = Long.parseLong(h.substring(15).trim());
            }
        }
        in.readNBytes((int) length);
        return status;
    }

    /** The connection is closed by the proxy without an answer. */
    private static boolean refused(Socket s) throws IOException {
        s.setSoTimeout(5_000);
        try {
            s.getOutputStream().write("GET /x HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            return s.getInputStream().read() < 0;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset
        }
    }
}
