package io.h3relay.proxy;

import io.h3relay.upstream.UpstreamFailure;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Retry decisions driven through the real Forwarding with fake streams: which failures go again, where, how often. */
class RetriesUnitTest {
    private static final String TWO_ENDPOINTS = """
            routes:
              - name: r
                match: { path_prefix: / }
                cluster: c
                retry: { attempts: 3, on: [connect-failure, reset, 503], replay_limit: 8 }
            clusters:
              - name: c
                load_balancer: round_robin
                endpoints: [ { address: 127.0.0.1:9001 }, { address: 127.0.0.1:9002 } ]
            """;
    private static final String NO_RETRY = ExchangeBench.oneEndpoint("");

    @Test
    void aResetBeforeTheResponseGoesToTheOtherEndpoint() throws Exception {
        ExchangeBench b = new ExchangeBench(TWO_ENDPOINTS);
        b.get("/r");
        FakeStream first = b.streams().get(0);
        first.fail(UpstreamFailure.Kind.RESET);
        b.advance(300); // back-off
        assertThat(b.streams()).hasSize(2);
        FakeStream second = b.streams().get(1);
        assertThat(second.endpoint).isNotEqualTo(first.endpoint);
        assertThat(first.abortReason).isNotNull();
        second.respond(200, "ok");
        assertThat(b.session.status()).isEqualTo(200);
        assertThat(b.exchange.attempts()).isEqualTo(2);
    }

    @Test
    void aListedStatusIsRetriedAndTheLastAnswerPassesWhenTriesRunOut() throws Exception {
        ExchangeBench b = new ExchangeBench(TWO_ENDPOINTS);
        b.get("/s");
        for (int i = 0; i < 3; i++) {
            b.advance(300);
            b.streams().get(i).respond(503, "busy " + i);
        }
        assertThat(b.streams()).hasSize(3);
        assertThat(b.session.status()).isEqualTo(503);
        assertThat(b.session.body).hasToString("busy 2");
        assertThat(b.exchange.attempts()).isEqualTo(3);
    }

    @Test
    void aBodyLargerThanTheReplayLimitIsNotRetriedOnceItWentUpstream() throws Exception {
        ExchangeBench b = new ExchangeBench(TWO_ENDPOINTS);
        b.postHead("/p", 12);
        b.lastBody("0123456789ab"); // 12 bytes > replay_limit 8
        b.streams().get(0).fail(UpstreamFailure.Kind.RESET);
        b.advance(300);
        assertThat(b.streams()).hasSize(1);
        assertThat(b.session.status()).isEqualTo(502);
        assertThat(b.session.localBody).contains("\"code\":\"upstream_reset\"");
    }

    @Test
    void aBodyWithinTheReplayLimitIsSentAgainWhole() throws Exception {
        ExchangeBench b = new ExchangeBench(TWO_ENDPOINTS);
        b.postHead("/p", 6);
        b.lastBody("abcdef");
        b.streams().get(0).fail(UpstreamFailure.Kind.RESET);
        b.advance(300);
        assertThat(b.streams()).hasSize(2);
        assertThat(b.streams().get(1).body).hasToString("abcdef");
        assertThat(b.streams().get(1).requestEnded).isTrue();
    }

    @Test
    void aRefusedBodilessRequestIsSentAgainWithoutAPolicyAndWithoutCountingATry() throws Exception {
        ExchangeBench b = new ExchangeBench(NO_RETRY);
        b.pool("127.0.0.1:9001").reused = true;
        b.get("/stale");
        b.streams().get(0).fail(UpstreamFailure.Kind.REFUSED);
        b.streams().get(1).fail(UpstreamFailure.Kind.REFUSED);
        assertThat(b.streams()).hasSize(3);
        b.streams().get(2).fail(UpstreamFailure.Kind.REFUSED);
        assertThat(b.streams()).as("at most two re-sends").hasSize(3);
        assertThat(b.session.status()).isEqualTo(502);
        assertThat(b.exchange.attempts()).isEqualTo(3);
    }

    @Test
    void aResetWithoutRetryPolicyIsNotRetried() throws Exception {
        ExchangeBench b = new ExchangeBench(NO_RETRY);
        b.get("/once");
        b.streams().get(0).fail(UpstreamFailure.Kind.RESET);
        b.advance(300);
        assertThat(b.streams()).hasSize(1);
        assertThat(b.session.status()).isEqualTo(502);
    }

    @Test
    void connectFailuresAreRetriedOnTheOtherEndpoint() throws Exception {
        ExchangeBench b = new ExchangeBench(TWO_ENDPOINTS);
        b.pool("127.0.0.1:9001").refuseConnections();
        b.get("/c");
        b.advance(300);
        b.advance(300);
        assertThat(b.pool("127.0.0.1:9002").streams).hasSize(1);
        b.pool("127.0.0.1:9002").last().respond(200, "fine");
        assertThat(b.session.status()).isEqualTo(200);
    }
}
