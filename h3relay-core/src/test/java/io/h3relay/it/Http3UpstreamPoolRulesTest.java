package io.h3relay.it;

import io.h3relay.testing.Http3TestEndpoint;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The pool rules of issue 13 towards an HTTP/3 endpoint that breaks them on demand (a Netty HTTP/3 server,
 * {@link Http3TestEndpoint}; h3relay's own listener never refuses a stream of a healthy connection): GOAWAY
 * drains the connection while new requests use a new one and nothing is lost; H3_REQUEST_REJECTED is sent again
 * for bodiless requests and, with a body, only under the {@code refused-stream} retry rule; an idle connection
 * outlives the endpoint's own short QUIC idle timeout (keep-alive) and closes after {@code pool.idle_timeout}.
 * The same for HTTP/2 is in {@link Http2UpstreamTest}.
 */
class Http3UpstreamPoolRulesTest {
    static Http3TestEndpoint goaway;
    static Http3TestEndpoint refusing;
    /** QUIC idle timeout 2 s. */
    static Http3TestEndpoint shortIdle;
    /** Health-checked every 200 ms (QUIC idle timeout 30 s). */
    static Http3TestEndpoint checked;
    static RelayHarness relay;

    @BeforeAll
    static void start() {
        goaway = Http3TestEndpoint.start(RelayHarness.certs());
        refusing = Http3TestEndpoint.start(RelayHarness.certs());
        shortIdle = Http3TestEndpoint.start(RelayHarness.certs(), 2_000);
        checked = Http3TestEndpoint.start(RelayHarness.certs());
        relay = RelayHarness.yaml(RelayHarness.LISTENERS + """
                routes:
                  - { name: goaway, match: { path_prefix: /goaway/ }, cluster: goaway, rewrite: { strip_prefix: /goaway } }
                  - name: refused-retry
                    match: { path_prefix: /refused-retry/ }
                    cluster: refusing
                    rewrite: { strip_prefix: /refused-retry }
                    retry: { attempts: 2, on: [refused-stream] }
                  - name: refused-many
                    match: { path_prefix: /refused-many/ }
                    cluster: refusing-unbudgeted
                    rewrite: { strip_prefix: /refused-many }
                    retry: { attempts: 2, on: [refused-stream] }
                  - { name: refused, match: { path_prefix: /refused/ }, cluster: refusing, rewrite: { strip_prefix: /refused } }
                  - { name: retire, match: { path_prefix: /retire/ }, cluster: refusing-retire, rewrite: { strip_prefix: /retire } }
                  - { name: idle, match: { path_prefix: /idle/ }, cluster: idle, rewrite: { strip_prefix: /idle } }
                clusters:
                  - name: goaway
                    protocol: http3
                    protocol_policy: exact
                    endpoints: [ { address: "localhost:@GOAWAY@" } ]
                    tls: { verify: true, ca: "@CA@" }
                  - name: refusing
                    protocol: http3
                    protocol_policy: exact
                    endpoints: [ { address: "localhost:@REFUSING@" } ]
                    tls: { verify: true, ca: "@CA@" }
                  - name: refusing-unbudgeted
                    protocol: http3
                    protocol_policy: exact
                    endpoints: [ { address: "localhost:@REFUSING@" } ]
                    tls: { verify: true, ca: "@CA@" }
                    retry_budget: { percent: 100, min_retries_per_second: 1000 }
                  - name: refusing-retire
                    protocol: http3
                    protocol_policy: exact
                    endpoints: [ { address: "localhost:@REFUSING@" } ]
                    tls: { verify: true, ca: "@CA@" }
                  - name: idle
                    protocol: http3
                    protocol_policy: exact
                    endpoints: [ { address: "localhost:@IDLE@" } ]
                    tls: { verify: true, ca: "@CA@" }
                    pool: { idle_timeout: 5s }
                  - name: checked
                    protocol: http3
                    protocol_policy: exact
                    endpoints: [ { address: "localhost:@CHECKED@" } ]
                    tls: { verify: true, ca: "@CA@" }
                    health_check: { path: /plain, interval: 200ms, timeout: 2s }
                """).with("LIMITS", "{}").with("CA", RelayHarness.certs().caCertPath())
                .with("GOAWAY", goaway.port()).with("REFUSING", refusing.port())
                .with("IDLE", shortIdle.port()).with("CHECKED", checked.port())
                .start();
    }

    @AfterAll
    static void stop() {
        if (relay != null) {
            relay.close();
        }
        for (Http3TestEndpoint e : new Http3TestEndpoint[] {goaway, refusing, shortIdle, checked}) {
            if (e != null) {
                e.close();
            }
        }
    }

    private static HttpResponse<String> get(Proto proto, String path) throws Exception {
        return relay.client(proto).send(HttpRequest.newBuilder(relay.uri(proto, path)).timeout(Duration.ofSeconds(10))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> post(Proto proto, String path, String body) throws Exception {
        return relay.client(proto).send(HttpRequest.newBuilder(relay.uri(proto, path)).timeout(Duration.ofSeconds(10))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /**
     * GOAWAY with the id after the stream in flight: that stream completes on the old connection, the next
     * request opens a new one, and the endpoint never sees a stream on the old connection after its GOAWAY
     * (it would reject it).
     */
    @ParameterizedTest
    @EnumSource(value = Proto.class, names = {"H2", "H3"})
    void goAwayDrainsTheConnectionWhileNewRequestsUseANewOne(Proto proto) throws Exception {
        HttpResponse<String> first = get(proto, "/goaway/plain");
        assertThat(first.statusCode()).isEqualTo(200);
        String oldConnection = first.headers().firstValue("x-connection").orElseThrow();
        int seen = goaway.streams();
        int accepted = goaway.connectionsAccepted();
        CompletableFuture<HttpResponse<String>> inFlight = relay.client(proto).sendAsync(HttpRequest.newBuilder(
                relay.uri(proto, "/goaway/delay/800")).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        await().atMost(Duration.ofSeconds(5)).until(() -> goaway.streams() > seen);
        goaway.goAway();
        await().pollDelay(Duration.ofMillis(100)).atMost(Duration.ofSeconds(5)).until(() -> true);

        HttpResponse<String> next = get(proto, "/goaway/plain");
        assertThat(next.statusCode()).isEqualTo(200);
        assertThat(next.headers().firstValue("x-connection")).isNotEqualTo(Optional.of(oldConnection));
        assertThat(goaway.connectionsAccepted()).isEqualTo(accepted + 1);
        HttpResponse<String> drained = inFlight.get(10, TimeUnit.SECONDS);
        assertThat(drained.statusCode()).isEqualTo(200);
        assertThat(drained.headers().firstValue("x-connection")).hasValue(oldConnection);
        assertThat(goaway.rejectedAfterGoAway()).isZero();
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void requestRejectedIsResentForBodilessRequests(Proto proto) throws Exception {
        int before = refusing.refusedStreams();
        refusing.refuseNext(1);
        HttpResponse<String> res = get(proto, "/refused/plain");
        assertThat(res.statusCode()).isEqualTo(200);
        assertThat(res.body()).isEqualTo("ok");
        assertThat(refusing.refusedStreams()).isEqualTo(before + 1);
    }

    @ParameterizedTest
    @EnumSource(Proto.class)
    void requestRejectedWithABodyIsRetriedOnlyUnderTheRefusedStreamRule(Proto proto) throws Exception {
        int before = refusing.refusedStreams();
        refusing.refuseNext(1);
        HttpResponse<String> retried = post(proto, "/refused-retry/echo", "payload");
        assertThat(retried.statusCode()).isEqualTo(200);
        assertThat(retried.body()).isEqualTo("payload");
        assertThat(refusing.refusedStreams()).isEqualTo(before + 1);

        refusing.refuseNext(1);
        HttpResponse<String> notRetried = post(proto, "/refused/echo", "payload");
        assertThat(notRetried.statusCode()).isEqualTo(502);
        assertThat(notRetried.body()).contains("upstream_reset").contains("H3_REQUEST_REJECTED");
        assertThat(refusing.refusedStreams()).isEqualTo(before + 2);
    }

    /**
     * The same, many times in a row on one connection (the retried stream's response ends with a FIN that the
     * endpoint sends after the proxy's own, in a packet of its own): every retry is answered in full. A cluster
     * with a budget that allows a retry per request.
     */
    @ParameterizedTest
    @EnumSource(Proto.class)
    void refusedUploadsAreRetriedAndAnsweredInFullManyTimesInARow(Proto proto) throws Exception {
        int before = refusing.refusedStreams();
        for (int i = 0; i < 60; i++) {
            refusing.refuseNext(1);
            HttpResponse<String> r = post(proto, "/refused-many/echo", "payload " + i);
            assertThat(r.statusCode()).as("request %d", i).isEqualTo(200);
            assertThat(r.body()).isEqualTo("payload " + i);
        }
        assertThat(refusing.refusedStreams()).isEqualTo(before + 60);
    }

    /**
     * The endpoint closes connections idle for 2 s; the pool keeps its idle connection alive with reserved
     * frames on the control stream (Netty has no QUIC PING) for longer than that, and reuses it; then
     * {@code pool.idle_timeout} (5 s) closes it, not before.
     */
    @Test
    void idleConnectionsOutliveTheEndpointsIdleTimeoutThenCloseAfterPoolIdleTimeout() throws Exception {
        HttpResponse<String> first = get(Proto.H2, "/idle/plain");
        assertThat(first.statusCode()).isEqualTo(200);
        String connection = first.headers().firstValue("x-connection").orElseThrow();
        assertThat(shortIdle.openConnections()).isEqualTo(1);
        await().during(Duration.ofMillis(3_500)).atMost(Duration.ofSeconds(5))
                .until(() -> shortIdle.openConnections() == 1);
        assertThat(shortIdle.keepAlivesReceived()).isPositive();

        HttpResponse<String> second = get(Proto.H2, "/idle/plain");
        assertThat(second.statusCode()).isEqualTo(200);
        assertThat(second.headers().firstValue("x-connection")).hasValue(connection);
        assertThat(shortIdle.connectionsAccepted()).isEqualTo(1);

        long idleFrom = System.nanoTime();
        await().atMost(Duration.ofSeconds(12)).until(() -> shortIdle.openConnections() == 0);
        assertThat(Duration.ofNanos(System.nanoTime() - idleFrom)).isGreaterThanOrEqualTo(Duration.ofMillis(4_500));
    }

    /**
     * Netty keeps each upstream stream that closed before the endpoint's FIN (here: reset with H3_REQUEST_REJECTED)
     * until its QUIC connection closes; after 1,000 of them the pooled connection is retired: the next requests go
     * over a new connection and the old one closes once its streams are done (a cluster of its own: a fresh pool).
     */
    @Test
    void aConnectionWithAThousandStreamsClosedBeforeTheirEndIsRetired() throws Exception {
        HttpResponse<String> first = get(Proto.H2, "/retire/plain"); // one client connection: one event loop
        assertThat(first.statusCode()).isEqualTo(200);
        String oldConnection = first.headers().firstValue("x-connection").orElseThrow();
        int accepted = refusing.connectionsAccepted();
        int open = refusing.openConnections();
        int refusedBefore = refusing.refusedStreams();
        refusing.refuseNext(999);
        for (int i = 0; i < 1_100 && refusing.refusedStreams() < refusedBefore + 999; i++) {
            assertThat(get(Proto.H2, "/retire/plain").statusCode()).isIn(200, 502);
        }
        assertThat(refusing.refusedStreams()).isEqualTo(refusedBefore + 999);
        HttpResponse<String> same = get(Proto.H2, "/retire/plain"); // the 999 refused, then the answered ones
        assertThat(same.statusCode()).isEqualTo(200);
        assertThat(same.headers().firstValue("x-connection")).hasValue(oldConnection);
        assertThat(refusing.connectionsAccepted()).isEqualTo(accepted);

        refusing.refuseNext(1); // the 1,000th stream closed before its end
        HttpResponse<String> next = get(Proto.H2, "/retire/plain"); // bodiless: sent again, on a new connection
        assertThat(next.statusCode()).isEqualTo(200);
        assertThat(next.headers().firstValue("x-connection")).isNotEqualTo(Optional.of(oldConnection));
        assertThat(refusing.connectionsAccepted()).isEqualTo(accepted + 1);
        await().atMost(Duration.ofSeconds(5)).until(() -> refusing.openConnections() == open);
    }

    /**
     * Each health check's QUIC connection closes when its one stream is done, and the endpoint learns it at once
     * (CONNECTION_CLOSE): closed inside the read of the check's answer, it was never sent, and every check left a
     * connection open at the endpoint until the endpoint's 30 s idle timeout.
     */
    @Test
    void eachHealthCheckConnectionIsClosedAtTheEndpointAtOnce() {
        await().atMost(Duration.ofSeconds(10)).until(() -> checked.connectionsAccepted() >= 6);
        await().atMost(Duration.ofSeconds(2)).until(() -> checked.openConnections() <= 1);
    }

    /**
     * The tests' HTTP/3 client honours {@code HttpRequest.timeout()} as the JDK's does (until the response head):
     * a request whose answer does not come fails with HttpTimeoutException instead of waiting for ever.
     */
    @Test
    void theHttp3TestClientsRequestTimeoutEndsARequestWithoutAnswer() {
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> relay.client(Proto.H3).send(HttpRequest.newBuilder(relay.uri(Proto.H3,
                "/goaway/delay/5000")).timeout(Duration.ofMillis(500)).build(), HttpResponse.BodyHandlers.ofString()))
                .isInstanceOf(java.io.IOException.class).hasRootCauseInstanceOf(java.net.http.HttpTimeoutException.class);
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(4));
    }
}
