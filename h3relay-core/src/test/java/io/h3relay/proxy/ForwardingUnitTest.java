package io.h3relay.proxy;

import io.h3relay.upstream.UpstreamFailure;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Forwarding and its relays between a fake session and fake upstream streams: what goes upstream, what
 * comes back, how the stream and the session are ended, backpressure both ways, timeouts.
 */
class ForwardingUnitTest {
    private static final String ONE_CLUSTER = ExchangeBench.oneEndpoint(", timeout: 5s");

    @Test
    void getIsForwardedWithForwardingHeadersAndTheResponseStreamsBack() throws Exception {
        ExchangeBench b = new ExchangeBench(ONE_CLUSTER);
        b.get("/a?x=1");
        FakeStream s = b.pool("127.0.0.1:9001").last();
        assertThat(s.head.uri()).isEqualTo("/a?x=1");
        assertThat(s.headHasBody).isFalse();
        assertThat(s.head.headers().get("x-forwarded-for")).isEqualTo("127.0.0.1");
        assertThat(s.head.headers().get("via")).isEqualTo("1.1 h3relay");
        assertThat(s.requestEnded).as("the end of the bodiless request went upstream").isTrue();

        s.respondHead(200);
        s.respondBody("hel");
        s.respondLast("lo");
        assertThat(b.session.status()).isEqualTo(200);
        assertThat(b.session.heads.get(0).headers().get("via")).isEqualTo("1.1 h3relay");
        assertThat(b.session.body).hasToString("hello");
        assertThat(b.session.lastWritten).isTrue();
        assertThat(b.session.finishedWithRequestComplete).isTrue();
        assertThat(s.finishedClean).as("a clean exchange gives the stream back for reuse").isTrue();
        assertThat(b.exchange.attempts()).isEqualTo(1);
    }

    @Test
    void requestBodyStreamsUpstreamAndPausesWhileTheStreamIsNotWritable() throws Exception {
        ExchangeBench b = new ExchangeBench(ONE_CLUSTER);
        b.postHead("/up", 6);
        FakeStream s = b.pool("127.0.0.1:9001").last();
        assertThat(s.headHasBody).isTrue();
        assertThat(b.session.reading).isTrue();

        s.writable = false;
        b.body("abc");
        assertThat(b.session.reading).as("downstream reads stop while upstream is full").isFalse();
        s.writable = true;
        s.listener.onWritabilityChanged(true);
        assertThat(b.session.reading).isTrue();

        b.lastBody("def");
        assertThat(s.body).hasToString("abcdef");
        assertThat(s.requestEnded).isTrue();
    }

    @Test
    void responseReadsPauseWhileDownstreamCannotTakeMore() throws Exception {
        ExchangeBench b = new ExchangeBench(ONE_CLUSTER);
        b.get("/big");
        FakeStream s = b.pool("127.0.0.1:9001").last();
        s.respondHead(200);
        b.session.canTakeMore = false;
        s.respondBody("x");
        s.listener.onReadComplete();
        assertThat(s.reading).isFalse();
        b.session.canTakeMore = true;
        b.exchange.onWritable();
        assertThat(s.reading).isTrue();
    }

    @Test
    void theEndpointAnsweringBeforeTheRequestEndedClosesAfterTheResponse() throws Exception {
        ExchangeBench b = new ExchangeBench(ONE_CLUSTER);
        b.postHead("/early", 1000);
        FakeStream s = b.pool("127.0.0.1:9001").last();
        b.body("partial");
        s.respond(413, "no");
        assertThat(b.session.status()).isEqualTo(413);
        assertThat(b.session.closeAfter).isTrue();
        assertThat(b.session.finishedWithRequestComplete).isFalse();
        assertThat(s.finishedClean).isNull();
        assertThat(s.abortReason).as("the stream is not reused: its request never ended").isNotNull();
    }

    @Test
    void aResetAfterTheResponseStartedAbortsDownstream() throws Exception {
        ExchangeBench b = new ExchangeBench(ONE_CLUSTER);
        b.get("/cut");
        FakeStream s = b.pool("127.0.0.1:9001").last();
        s.respondHead(200);
        s.respondBody("par");
        s.fail(UpstreamFailure.Kind.RESET);
        assertThat(b.session.aborted).isTrue();
        assertThat(b.session.finishedWithRequestComplete).isNull();
        assertThat(b.exchange.errorCode()).isEqualTo(io.h3relay.exchange.ErrorCode.UPSTREAM_RESET);
    }

    @Test
    void theRouteTimeoutAnswers504AndCancelsTheStream() throws Exception {
        ExchangeBench b = new ExchangeBench(ONE_CLUSTER);
        b.get("/slow");
        FakeStream s = b.pool("127.0.0.1:9001").last();
        b.advance(4_900);
        assertThat(b.session.status()).isZero();
        b.advance(200);
        assertThat(b.session.status()).isEqualTo(504);
        assertThat(b.session.localBody).contains("\"code\":\"upstream_timeout\"", "route timeout of 5000ms");
        assertThat(s.abortReason).isNotNull();
        assertThat(b.session.finishedWithRequestComplete).isTrue();
    }

    @Test
    void aConnectFailureWithoutRetryIsA502Envelope() throws Exception {
        ExchangeBench b = new ExchangeBench(ONE_CLUSTER);
        b.pool("127.0.0.1:9001").refuseConnections();
        b.get("/down");
        b.advance(1);
        assertThat(b.session.status()).isEqualTo(502);
        assertThat(b.session.localBody).contains("\"code\":\"upstream_connect_failed\"", "connection refused");
    }
    @Test
    void withoutARouteTimeoutTheResponseHeadIsAwaited60sFromTheRequestsEnd() throws Exception {
        ExchangeBench b = new ExchangeBench(ExchangeBench.oneEndpoint(""));
        b.get("/never");
        FakeStream s = b.pool("127.0.0.1:9001").last();
        ResponseHeadTimeouts list = ResponseHeadTimeouts.of(b.session.executor());
        assertThat(list).as("the loop's list keeps the wait, not a task of its own").isNotNull();
        assertThat(list.size()).isEqualTo(1);
        b.advance(59_900);
        assertThat(b.session.status()).isZero();
        b.advance(200);
        assertThat(b.session.status()).isEqualTo(504);
        assertThat(b.session.localBody).contains("\"code\":\"upstream_timeout\"", "within 60s");
        assertThat(s.abortReason).isNotNull();
        assertThat(list.size()).isZero();
    }

    @Test
    void aResponseHeadEndsTheWaitForIt() throws Exception {
        ExchangeBench b = new ExchangeBench(ExchangeBench.oneEndpoint(""));
        b.get("/slow-body");
        FakeStream s = b.pool("127.0.0.1:9001").last();
        ResponseHeadTimeouts list = ResponseHeadTimeouts.of(b.session.executor());
        assertThat(list.size()).isEqualTo(1);
        b.advance(30_000);
        s.respondHead(200);
        assertThat(list.size()).as("answered: out of the list").isZero();
        b.advance(60_000);
        assertThat(b.session.status()).isEqualTo(200);
        s.respondLast("late but fine");
        assertThat(b.session.body).hasToString("late but fine");
        assertThat(s.finishedClean).isTrue();
    }
}
