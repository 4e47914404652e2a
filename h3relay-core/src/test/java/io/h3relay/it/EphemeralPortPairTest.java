package io.h3relay.it;

import io.h3relay.server.RelayServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Isolated;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A listener on port 0 with HTTP/3 gets its number from the kernel for TCP, then needs the same number for UDP,
 * which another socket may hold (a parallel test, another process). h3relay binds the pair again on a new number
 * instead of failing to start. Here many UDP numbers are held on purpose, so that without that retry at least one
 * of the listeners below would fail to start with all but negligible probability (computed in the test); with it
 * every listener starts with equal TCP and UDP numbers. Isolated: the held numbers would disturb other tests.
 */
@Isolated
class EphemeralPortPairTest {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    private static final int LISTENERS = 8;
    private static final int SERVERS = 4;
    /** The kernel's default ephemeral range is 32768-60999. */
    private static final int EPHEMERAL_RANGE = 60999 - 32768 + 1;

    @Test
    void portZeroListenersWithHttp3StartWhenTheirTcpNumberIsTakenForUdp() throws Exception {
        var os = (com.sun.management.UnixOperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long spare = os.getMaxFileDescriptorCount() - os.getOpenFileDescriptorCount();
        int hold = (int) Math.min(10_000, spare / 2);
        assertThat(hold).as("file descriptors to hold UDP numbers with (limit %s)", os.getMaxFileDescriptorCount())
                .isGreaterThanOrEqualTo(2_000);
        List<DatagramChannel> held = new ArrayList<>(hold);
        try {
            for (int i = 0; i < hold; i++) {
                DatagramChannel ch = DatagramChannel.open();
                held.add(ch);
                ch.bind(new InetSocketAddress(LOOPBACK, 0));
            }
            // Each listener's first TCP number is also a held UDP number with probability p; without the retry,
            // all SERVERS x LISTENERS starts would succeed with probability (1 - p)^(SERVERS x LISTENERS).
            double p = (double) hold / EPHEMERAL_RANGE;
            double allPassWithoutRetry = Math.pow(1 - p, SERVERS * LISTENERS);
            assertThat(allPassWithoutRetry).as("chance this test passes without the retry").isLessThan(0.05);

            StringBuilder yaml = new StringBuilder("listeners:\n");
            for (int i = 0; i < LISTENERS; i++) {
                yaml.append("  - name: l").append(i).append("\n")
                        .append("    address: 127.0.0.1:0\n")
                        .append("    protocols: [http1, http2, http3]\n")
                        .append("    tls: { certificate: \"@CERT@\", private_key: \"@KEY@\" }\n")
                        .append("    routes: [r]\n");
            }
            yaml.append("""
                    routes:
                      - { name: r, match: { path_prefix: / }, respond: { status: 200, body: ok } }
                    admin: { address: 127.0.0.1:0 }
                    """);
            for (int s = 0; s < SERVERS; s++) {
                try (RelayServer server = RelayServer.start(RelayHarness.yaml(yaml.toString()).config())) {
                    for (int i = 0; i < LISTENERS; i++) {
                        int tcp = server.listenerAddress("l" + i).getPort();
                        assertThat(server.http3Address("l" + i).getPort()).as("listener l%d", i).isEqualTo(tcp);
                        assertUdpTaken(tcp);
                    }
                }
            }
        } finally {
            for (DatagramChannel ch : held) {
                ch.close();
            }
        }
    }

    /** The listener's UDP socket holds its number. */
    private static void assertUdpTaken(int port) throws IOException {
        try (DatagramChannel probe = DatagramChannel.open()) {
            boolean bound;
            try {
                probe.bind(new InetSocketAddress(LOOPBACK, port));
                bound = true;
            } catch (java.net.BindException expected) {
                bound = false;
            }
            assertThat(bound).as("udp %d free although the listener is up", port).isFalse();
        }
    }
}
