package io.h3relay.proxy;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.h3relay.config.LimitsConfig;
import io.h3relay.exchange.DownstreamExchange;
import io.h3relay.exchange.DownstreamSession;
import io.h3relay.exchange.Http1Session;
import io.h3relay.exchange.ListenerState;
import io.h3relay.exchange.LocalResponses;
import io.h3relay.exchange.ProxyError;
import io.h3relay.listener.h1.Http1Initializer;
import io.h3relay.websocket.WebSocketUpgrade;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseDecoder;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Fuzz target (issue 18): any bytes on an h1 connection, through the real h1 pipeline pieces (request
 * timers, head scanner, the codec with our limits, {@link Http1Session}) and an exchange that applies the
 * real {@link RequestChecks} and answers locally. Whatever arrives: no exception reaches the pipeline's
 * tail (EmbeddedChannel rethrows it), what goes out parses as HTTP/1.1 responses, never more responses
 * than requests, and a refused request (4xx) ends the connection. The first input byte picks how the rest
 * is split into reads, so heads split across TCP segments are covered.
 */
@org.junit.jupiter.api.parallel.Isolated("Jazzer's hooks (e.g. its network-connection sanitizer) watch the whole JVM while it runs")
class Http1HeadFuzzTest {
    /** Small limits so the fuzzer reaches 414 / 431 with short inputs. */
    static final LimitsConfig LIMITS = new LimitsConfig(1024, 256, 512, Duration.ofMinutes(2), Duration.ofSeconds(15),
            16, 100, Duration.ofMinutes(5), Duration.ZERO, Duration.ofMinutes(5));

    private static final ListenerState PLAIN = new ListenerState() {
        @Override
        public boolean isDraining() {
            return false;
        }

        @Override
        public String altSvc() {
            return null;
        }
    };

    /** The stand-in for the proxy's exchange: the real request checks, then a local answer. */
    static final class CheckingExchange implements DownstreamExchange {
        private final DownstreamSession session;
        private final int[] starts;
        private boolean answered;

        CheckingExchange(DownstreamSession session, int[] starts) {
            this.session = session;
            this.starts = starts;
        }

        @Override
        public void start(HttpRequest head) {
            starts[0]++;
            ProxyError e = RequestChecks.decoderFailure(head.decoderResult());
            if (e == null) {
                e = RequestChecks.check(head, session.protocol(), LIMITS,
                        head.headers().getAll(HttpHeaderNames.HOST).size(), WebSocketUpgrade.of(head));
            }
            if (e == null) {
                long declared; // as Exchange does
                try {
                    declared = HttpUtil.getContentLength(head, -1L);
                } catch (NumberFormatException nfe) {
                    declared = -2;
                }
                e = RequestChecks.checkLength(declared, LIMITS);
            }
            if (e != null) {
                refuse(e, head instanceof LastHttpContent);
            } else if (head instanceof LastHttpContent) {
                ok();
            }
            ReferenceCountUtil.release(head);
        }

        private void refuse(ProxyError e, boolean complete) {
            answered = true;
            session.closeAfterResponse();
            session.writeResponse(LocalResponses.error(session.alloc(), e.code(), e.getMessage(), "fuzz"));
            session.exchangeFinished(complete);
        }

        private void ok() {
            answered = true;
            session.writeResponse(LocalResponses.of(session.alloc(), 200, "ok"));
            session.exchangeFinished(true);
        }

        @Override
        public void onRequestContent(HttpContent content) {
            try {
                if (answered) {
                    return;
                }
                ProxyError e = RequestChecks.bodyDecoderFailure(content.decoderResult());
                if (e != null) {
                    refuse(e, false);
                } else if (content instanceof LastHttpContent) {
                    ok();
                }
            } finally {
                content.release();
            }
        }

        @Override
        public void onReadComplete() {
        }

        @Override
        public void onWritable() {
        }

        @Override
        public void onClosed() {
        }
    }

    @FuzzTest(maxDuration = "10m")
    void anyBytesGiveResponsesOrAClose(byte[] data) {
        if (data.length == 0) {
            return;
        }
        int split = 1 + (data[0] & 0xff);
        int[] starts = new int[1];
        EmbeddedChannel ch = new EmbeddedChannel();
        ch.pipeline().addLast("h1-scanner", Http1Initializer.newScanner(LIMITS, false));
        ch.pipeline().addLast("h1-codec", Http1Initializer.newCodec(LIMITS));
        ch.pipeline().addLast("session", new Http1Session(PLAIN, s -> new CheckingExchange(s, starts), 1));
        ch.pipeline().fireChannelActive();
        try {
            for (int off = 1; off < data.length && ch.isOpen(); off += split) {
                int len = Math.min(split, data.length - off);
                ch.writeInbound(Unpooled.copiedBuffer(data, off, len));
                ch.runPendingTasks();
            }
            ch.runPendingTasks();
            ch.checkException();
            List<HttpResponse> responses = responses(ch);
            assertThat(responses.size()).as("responses vs requests").isLessThanOrEqualTo(starts[0]);
            for (int i = 0; i < responses.size(); i++) {
                int status = responses.get(i).status().code();
                assertThat(status).isIn(200, 400, 405, 413, 414, 431);
                if (status >= 400) {
                    assertThat(i).as("a refusal is the last response").isEqualTo(responses.size() - 1);
                    assertThat(ch.isOpen()).as("a refusal closes the connection").isFalse();
                }
            }
        } finally {
            ch.finishAndReleaseAll();
        }
    }

    private static List<HttpResponse> responses(EmbeddedChannel ch) {
        EmbeddedChannel client = new EmbeddedChannel(new HttpResponseDecoder());
        List<HttpResponse> out = new ArrayList<>();
        try {
            ByteBuf b;
            while ((b = ch.readOutbound()) != null) {
                client.writeInbound(b);
            }
            Object o;
            while ((o = client.readInbound()) != null) {
                if (o instanceof HttpObject obj) {
                    assertThat(obj.decoderResult().isSuccess()).as("well-formed response: %s", obj).isTrue();
                }
                if (o instanceof HttpResponse r) {
                    out.add(r);
                }
                ReferenceCountUtil.release(o);
            }
        } finally {
            client.finishAndReleaseAll();
        }
        return out;
    }
}
