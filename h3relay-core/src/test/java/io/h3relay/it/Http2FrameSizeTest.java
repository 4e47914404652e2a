package io.h3relay.it;

import io.h3relay.testing.ExternalTool;
import io.h3relay.testing.TestEndpoint;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Many responses at once on one h2 connection leave in DATA frames of the size the client allows, not in
 * slivers: Netty's flow controller shares what it may write among the streams with data queued, by default
 * 1 KiB per stream and turn, which cut each 64 KiB response into about 63 frames of 1 KiB under 100 concurrent
 * streams (each with its own header, promises and TLS copy). {@code transport.Http2Codecs} hands a stream a
 * whole frame per turn. nghttp (a client we did not write) fetches 50 responses of 64 KiB at once with large
 * windows, as h2load does, and its log of received frames is counted.
 */
class Http2FrameSizeTest {
    private static final int STREAMS = 50;
    private static final int SIZE = 64 * 1024;
    private static final Pattern DATA = Pattern.compile("recv DATA frame <length=(\\d+), flags=0x(\\p{XDigit}+)");

    static TestEndpoint endpoint;
    static RelayHarness relay;

    @BeforeAll
    static void start() {
        endpoint = TestEndpoint.start("frames");
        relay = RelayHarness.singleCluster(endpoint.address(), "{}");
    }

    @AfterAll
    static void stop() {
        relay.close();
        endpoint.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {"h2-tls", "h2c-prior-knowledge"})
    void concurrentResponsesLeaveInFullSizeFrames(String mode) {
        var nghttp = ExternalTool.require("nghttp");
        String path = "/bytes?n=" + SIZE;
        String url = mode.equals("h2-tls") ? relay.tlsUrl(path) : relay.plainUrl(path);
        ExternalTool.Result r = ExternalTool.run(Duration.ofSeconds(60), nghttp.toString(), "-n", "-v",
                "-m", Integer.toString(STREAMS), "-w", "30", "-W", "30", url);
        assertThat(r.exitCode()).as(r.stderr()).isZero();

        long frames = 0;
        long bytes = 0;
        long fullSize = 0;
        long ends = 0;
        Matcher m = DATA.matcher(r.stdoutString());
        while (m.find()) {
            int length = Integer.parseInt(m.group(1));
            frames++;
            bytes += length;
            if (length == 16_384) {
                fullSize++;
            }
            if ((Integer.parseInt(m.group(2), 16) & 0x1) != 0) {
                ends++;
            }
        }
        assertThat(ends).as("responses completed").isEqualTo(STREAMS);
        assertThat(bytes).as("body bytes").isEqualTo((long) STREAMS * SIZE);
        // 64 KiB is 4 frames of 16 KiB (4-5 measured); where the endpoint's writes (16 KiB each) reach us in
        // pieces, a stream's share of a turn is what it has, so the bounds leave room for a busy machine.
        // With Netty's 1 KiB share per turn this was about 63 frames per response and no full-size frame.
        assertThat(frames).as("DATA frames for %d responses of 64 KiB", STREAMS).isLessThanOrEqualTo(16L * STREAMS);
        assertThat(fullSize).as("frames of the default maximum size (16 KiB)").isGreaterThanOrEqualTo(STREAMS);
    }
}
