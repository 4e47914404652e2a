package io.h3relay.listener.h1;

import io.h3relay.config.LimitsConfig;
import io.h3relay.headers.TrustedNames;
import io.h3relay.listener.ListenerContext;
import io.h3relay.exchange.Http1Session;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpServerCodec;

/**
 * The HTTP/1.1 pipeline of a connection: timers and the obs-fold scanner on raw bytes, the codec with our
 * limits, then the proxy.
 * <pre>
 *   [tls] ─ h1-scanner (with the head timers) ─ h1-codec ─ session
 * </pre>
 */
public final class Http1Initializer {
    private Http1Initializer() {
    }

    public static void addHttp1Handlers(ChannelPipeline p, ListenerContext listener, long retryAfterSeconds) {
        p.addLast("h1-scanner", newScanner(listener.limits(), false));
        p.addLast("h1-codec", newCodec(listener.limits()));
        p.addLast("session", newSession(listener, retryAfterSeconds));
    }

    public static Http1Session newSession(ListenerContext listener, long retryAfterSeconds) {
        return new Http1Session(listener, listener.exchanges(), retryAfterSeconds);
    }

    /** The head scanner with the connection's keep-alive and request-head timers. */
    public static Http1HeadScanner newScanner(LimitsConfig limits, boolean cleartext) {
        return new Http1HeadScanner(cleartext,
                new Http1RequestTimeouts(limits.keepAliveTimeout(), limits.requestHeadersTimeout()));
    }

    /**
     * The decoder's own limits are looser than the configured ones (line: +64 bytes for method and version;
     * headers: ×2) so that most oversize requests reach {@code RequestChecks} and get the same JSON 414/431
     * as on h2; beyond these the decoder fails the head and we answer 414/431 all the same.
     */
    public static HttpServerCodec newCodec(LimitsConfig limits) {
        HttpDecoderConfig cfg = new HttpDecoderConfig()
                .setMaxInitialLineLength(limits.maxRequestLineSize() + 64)
                .setMaxHeaderSize((int) Math.min(Integer.MAX_VALUE, 2L * limits.maxRequestHeadersSize()))
                .setMaxChunkSize(64 * 1024)
                .setValidateHeaders(true)
                .setStrictLineParsing(true)
                .setUseRfc9112TransferEncoding(true)
                .setHeadersFactory(TrustedNames.factory()); // after setValidateHeaders, which would replace it

        return new HttpServerCodec(cfg);
    }
}
