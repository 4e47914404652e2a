package io.h3relay.listener.h1;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.LastHttpContent;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The scanner alone, fed in pieces of every size so that state across reads is exercised. */
class Http1HeadScannerTest {
    private static final String GOOD = "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n\r\n b\r\n"
            + "POST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
            + "6;ext=1\r\n\r\n x\r\n\r\n0\r\nX-T: 1\r\n\r\n"
            + "GET /c HTTP/1.1\r\nHost: x\r\n\r\n";

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 7, 1000})
    void validTrafficPassesUnchanged(int piece) {
        Result r = feed(new EmbeddedChannel(new Http1HeadScanner(false)), GOOD, piece);

        assertThat(r.bytes).isEqualTo(GOOD);
        assertThat(r.failed).isNull();
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 5, 1000})
    void foldInALaterHeadPassesEarlierRequestsThenFails(int piece) {
        String bad = "GET /d HTTP/1.1\r\nHost: x\r\nX-F: a\r\n\tb\r\n\r\n";
        Result r = feed(new EmbeddedChannel(new Http1HeadScanner(false)), GOOD + bad + "GET /e HTTP/1.1\r\n", piece);

        assertThat(GOOD + bad).startsWith(r.bytes);
        assertThat(r.bytes).startsWith(GOOD);
        assertThat(r.failed).isInstanceOf(FullHttpRequest.class);
        assertThat(r.failed.decoderResult().isFailure()).isTrue();
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 4, 1000})
    void foldInTrailersFailsTheBody(int piece) {
        String req = "POST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nz\r\n0\r\nX-T: 1\r\n 2\r\n\r\n";
        Result r = feed(new EmbeddedChannel(new Http1HeadScanner(false)), req, piece);

        assertThat(r.failed).isInstanceOf(LastHttpContent.class);
        assertThat(r.failed.decoderResult().isFailure()).isTrue();
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 1000})
    void h2cPrefaceEndsScanningOnCleartextOnly(int piece) {
        String preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\n \n \u0000";
        assertThat(feed(new EmbeddedChannel(new Http1HeadScanner(true)), preface, piece).failed).isNull();
        assertThat(feed(new EmbeddedChannel(new Http1HeadScanner(false)), preface, piece).failed).isNotNull();
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 1000})
    void h2cPrefaceAfterUpgradeEndsScanning(int piece) {
        String upgrade = "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                + "HTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\nPRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\n \n ";
        assertThat(feed(new EmbeddedChannel(new Http1HeadScanner(true)), upgrade, piece).failed).isNull();
    }

    private record Result(String bytes, HttpObject failed) {
    }

    private static Result feed(EmbeddedChannel ch, String input, int piece) {
        byte[] all = input.getBytes(StandardCharsets.ISO_8859_1);
        for (int i = 0; i < all.length; i += piece) {
            ch.writeInbound(Unpooled.copiedBuffer(all, i, Math.min(piece, all.length - i)));
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        HttpObject failed = null;
        Object m;
        while ((m = ch.readInbound()) != null) {
            if (m instanceof ByteBuf b) {
                byte[] bytes = new byte[b.readableBytes()];
                b.readBytes(bytes);
                out.writeBytes(bytes);
                b.release();
            } else {
                assertThat(failed).as("one failed message at most").isNull();
                failed = (HttpObject) m;
            }
        }
        ch.finishAndReleaseAll();
        return new Result(out.toString(StandardCharsets.ISO_8859_1), failed);
    }
}
