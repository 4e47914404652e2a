package io.h3relay.proxy;

import io.h3relay.exchange.ErrorCode;
import io.h3relay.exchange.LocalResponses;
import io.h3relay.exchange.ProxyError;
import io.h3relay.filter.Filter;
import io.h3relay.filter.FilterContext;
import io.h3relay.filter.FilterResult;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.util.CharsetUtil;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The filter chain's phases and results, run by the real Exchange between a fake session and fake streams. */
class FilterChainUnitTest {
    private static final String CONFIG = ExchangeBench.oneEndpoint("");

    /** Records the phases it sees, in order, and answers as told. */
    private static final class Recording implements Filter {
        final String name;
        final List<String> log;
        FilterResult onRequest = FilterResult.CONTINUE;
        FilterResult onRouted = FilterResult.CONTINUE;
        FilterContext context;

        Recording(String name, List<String> log) {
            this.name = name;
            this.log = log;
        }

        @Override
        public FilterResult onRequest(FilterContext ctx, HttpRequest head) {
            context = ctx;
            log.add(name + ":request");
            return onRequest;
        }

        @Override
        public FilterResult onRouted(FilterContext ctx, HttpRequest head) {
            context = ctx;
            log.add(name + ":routed " + ctx.route().name());
            return onRouted;
        }

        @Override
        public void onUpstreamRequest(FilterContext ctx, HttpRequest upstreamHead) {
            log.add(name + ":upstream");
            upstreamHead.headers().add("x-filtered-by", name);
        }

        @Override
        public void onResponseHead(FilterContext ctx, HttpResponse head) {
            log.add(name + ":response " + head.status().code());
            head.headers().add("x-seen-by", name);
        }

        @Override
        public HttpContent onRequestBody(FilterContext ctx, HttpContent part) {
            String text = part.content().toString(CharsetUtil.UTF_8).toUpperCase();
            HttpContent upper = part.replace(Unpooled.copiedBuffer(text, CharsetUtil.UTF_8));
            part.release();
            return upper;
        }
    }

    @Test
    void phasesRunInOrderListenerFiltersFirstAndMayChangeHeadersAndBodies() throws Exception {
        List<String> log = new ArrayList<>();
        Recording outer = new Recording("listener", log);
        Recording inner = new Recording("route", log);
        ExchangeBench b = new ExchangeBench(CONFIG, List.of(outer), Map.of("r", List.of(inner)));
        b.postHead("/x", 3);
        b.lastBody("abc");
        FakeStream s = b.pool("127.0.0.1:9001").last();
        s.respond(200, "ok");

        assertThat(log).containsExactly("listener:request", "listener:routed r", "route:routed r",
                "listener:upstream", "route:upstream", "listener:response 200", "route:response 200");
        assertThat(s.head.headers().getAll("x-filtered-by")).containsExactly("listener", "route");
        assertThat(s.body).as("both filters upper-cased the body (idempotent)").hasToString("ABC");
        assertThat(b.session.heads.get(0).headers().getAll("x-seen-by")).containsExactly("listener", "route");
    }

    @Test
    void aRejectAnswersWithTheEnvelopeAndNeverRoutes() throws Exception {
        List<String> log = new ArrayList<>();
        Recording gate = new Recording("gate", log);
        gate.onRequest = FilterResult.reject(new ProxyError(ErrorCode.BAD_REQUEST, "denied by test"));
        ExchangeBench b = new ExchangeBench(CONFIG, List.of(gate), Map.of());
        b.get("/x");
        assertThat(b.session.status()).isEqualTo(400);
        assertThat(b.session.localBody).contains("\"code\":\"bad_request\"", "denied by test");
        assertThat(b.streams()).isEmpty();
        assertThat(log).containsExactly("gate:request", "gate:response 400");
        assertThat(b.session.local.headers().get("x-seen-by")).as("local answers pass onResponseHead").isEqualTo("gate");
    }

    @Test
    void aRouteFilterMayAnswerItselfAfterRouting() throws Exception {
        List<String> log = new ArrayList<>();
        Recording own = new Recording("own", log);
        ExchangeBench probe = new ExchangeBench(CONFIG);
        own.onRouted = FilterResult.respond(LocalResponses.of(probe.session.alloc(), 204, ""));
        ExchangeBench b = new ExchangeBench(CONFIG, List.of(), Map.of("r", List.of(own)));
        b.get("/x");
        assertThat(b.session.status()).isEqualTo(204);
        assertThat(b.streams()).isEmpty();
        assertThat(b.session.finishedWithRequestComplete).isTrue();
    }

    @Test
    void aPauseHoldsTheRequestAndItsBodyUntilResumed() throws Exception {
        List<String> log = new ArrayList<>();
        Recording slow = new Recording("slow", log);
        slow.onRequest = FilterResult.PAUSE;
        Recording next = new Recording("next", log);
        ExchangeBench b = new ExchangeBench(CONFIG, List.of(slow, next), Map.of());
        b.postHead("/x", 6);
        assertThat(b.session.reading).as("reading stops while paused").isFalse();
        // Parts already read in the same burst wait.
        b.exchange.onRequestContent(new DefaultHttpContent(Unpooled.copiedBuffer("abc", CharsetUtil.UTF_8)));
        assertThat(b.streams()).isEmpty();
        assertThat(log).containsExactly("slow:request");

        slow.context.resume();
        b.advance(0);
        assertThat(log).startsWith("slow:request", "next:request", "slow:routed r", "next:routed r");
        FakeStream s = b.pool("127.0.0.1:9001").last();
        b.lastBody("def");
        assertThat(s.body).hasToString("ABCDEF");
        assertThat(s.requestEnded).isTrue();
    }

    @Test
    void resumingAfterTheClientLeftDoesNothing() throws Exception {
        List<String> log = new ArrayList<>();
        Recording slow = new Recording("slow", log);
        slow.onRequest = FilterResult.PAUSE;
        ExchangeBench b = new ExchangeBench(CONFIG, List.of(slow), Map.of());
        b.postHead("/x", 10);
        DefaultHttpContent held = new DefaultHttpContent(Unpooled.copiedBuffer("abc", CharsetUtil.UTF_8));
        b.exchange.onRequestContent(held);
        b.exchange.onClosed();
        assertThat(held.refCnt()).as("a held body part is released when the client leaves").isZero();
        slow.context.resume();
        b.advance(0);
        assertThat(b.streams()).isEmpty();
        assertThat(log).containsExactly("slow:request");
    }
}
