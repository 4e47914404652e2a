package io.h3relay.upstream;

import io.h3relay.endpoint.Endpoint;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.Headers;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.util.AsciiString;
import io.netty.util.concurrent.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Iterator;
import java.util.Map;

/**
 * What the streams of a {@link MultiplexedConnection} share ({@link Http2UpstreamStream}, {@link
 * Http3UpstreamStream}): the listener and the request/response state the forwarding drives, the end of the
 * stream ({@link #finish}/{@link #abort}, then the protocol's reset or close in {@link #ended}), and the
 * request head and trailers as HTTP/2 or HTTP/3 fields (the same rules: pseudo-headers first, names
 * lower-cased, connection headers out, only {@code te: trailers}). The stream is the last handler of its
 * channel's pipeline; on the connection's event loop only.
 */
abstract class MultiplexedStream extends ChannelInboundHandlerAdapter implements UpstreamStream {
    private static final Logger LOG = LoggerFactory.getLogger(MultiplexedStream.class);
    private static final AsciiString METHOD = AsciiString.cached(":method");
    private static final AsciiString SCHEME = AsciiString.cached(":scheme");
    private static final AsciiString PATH = AsciiString.cached(":path");
    private static final AsciiString AUTHORITY = AsciiString.cached(":authority");

    final MultiplexedConnection connection;
    private final boolean reused;
    Listener listener;
    boolean requestEnded;
    boolean responseSeen;
    boolean responseEnded;
    /** The endpoint's response could not be decoded (bad :status, invalid header). */
    boolean invalid;
    boolean done;

    MultiplexedStream(MultiplexedConnection connection) {
        this.connection = connection;
        this.reused = connection.reused();
    }

    /** Opens the stream's channel on the connection, this stream last in its pipeline. */
    abstract Future<? extends Channel> open();

    /** The stream's channel; null until {@link #open} registered it. */
    abstract Channel channel();

    /**
     * The exchange is done with the stream: the listener is unbound; {@code resetReason} non-null when the
     * stream did not end both ways and must be reset (the reason is logged by {@link #abort}).
     */
    abstract void ended(String resetReason);

    /** Whether the endpoint refused the stream (it processed none of it: safe to send again). */
    abstract boolean refusedByEndpoint();

    /** Why the stream closed before its response ended, as in "endpoint E <i>why</i> before ...". */
    abstract String whyClosed(boolean refused);

    @Override
    public final Endpoint endpoint() {
        return connection.pool().endpoint();
    }

    @Override
    public final UpstreamProtocol protocol() {
        return connection.pool().protocol();
    }

    @Override
    public final void start(Listener l) {
        this.listener = l;
    }

    @Override
    public final void readResponse(boolean on) {
        if (!done) {
            channel().config().setAutoRead(on);
        }
    }

    @Override
    public final boolean isReused() {
        return reused;
    }

    @Override
    public final void finish(boolean clean) {
        end(clean && requestEnded && responseEnded ? null : "exchange finished");
    }

    @Override
    public final void abort(String reason) {
        LOG.debug("upstream stream {} aborted: {}", channel(), reason);
        end(reason);
    }

    /**
     * The stream's channel closed: a listener still waiting for the response learns why, as a refusal
     * ({@link UpstreamFailure.Kind#REFUSED}, before any response), an invalid response or a reset.
     */
    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        Listener l = listener;
        listener = null;
        if (l != null && !responseEnded) {
            boolean refused = refusedByEndpoint();
            UpstreamFailure.Kind kind = refused && !responseSeen ? UpstreamFailure.Kind.REFUSED
                    : invalid ? UpstreamFailure.Kind.INVALID_RESPONSE : UpstreamFailure.Kind.RESET;
            l.onFailed(new UpstreamFailure(kind, "endpoint " + endpoint() + " " + whyClosed(refused)
                    + " before the response completed", null));
        }
    }

    private void end(String resetReason) {
        if (done) {
            return;
        }
        done = true;
        listener = null;
        ended(resetReason);
    }

    /**
     * The request head as HTTP/2 or HTTP/3 fields into {@code out}: {@code :method}, {@code :scheme},
     * {@code :path} and {@code :authority} (from Host, or from an absolute-form target, whose authority wins
     * over Host: RFC 9112 §3.2.2), then the header fields, names lower-cased, connection-specific ones left
     * out and {@code te} only as {@code trailers} (RFC 9113 §8.2.2, RFC 9114 §4.2).
     */
    static <H extends Headers<CharSequence, CharSequence, H>> H requestFields(HttpRequest head, AsciiString scheme,
                                                                             H out) {
        HttpHeaders in = head.headers();
        out.set(METHOD, head.method().asciiName());
        out.set(SCHEME, scheme);
        String uri = head.uri();
        String authority = in.get(HttpHeaderNames.HOST);
        int schemeEnd = uri.indexOf("://");
        if (schemeEnd > 0 && uri.charAt(0) != '/') {
            int pathStart = uri.indexOf('/', schemeEnd + 3);
            authority = uri.substring(schemeEnd + 3, pathStart < 0 ? uri.length() : pathStart);
            uri = pathStart < 0 ? "/" : uri.substring(pathStart);
        }
        out.set(PATH, uri);
        if (authority != null) {
            out.set(AUTHORITY, authority);
        }
        for (Iterator<Map.Entry<CharSequence, CharSequence>> it = in.iteratorCharSequence(); it.hasNext(); ) {
            Map.Entry<CharSequence, CharSequence> e = it.next();
            AsciiString name = AsciiString.of(e.getKey()).toLowerCase();
            if (name.contentEquals(HttpHeaderNames.HOST) || name.contentEquals(HttpHeaderNames.CONNECTION)
                    || name.contentEquals(HttpHeaderNames.TRANSFER_ENCODING)
                    || name.contentEquals(HttpHeaderNames.KEEP_ALIVE) || name.contentEquals(HttpHeaderNames.UPGRADE)
                    || name.contentEquals(HttpHeaderNames.PROXY_CONNECTION)) {
                continue;
            }
            if (name.contentEquals(HttpHeaderNames.TE)
                    && !HttpHeaderValues.TRAILERS.contentEqualsIgnoreCase(AsciiString.of(e.getValue()).trim())) {
                continue;
            }
            out.add(name, e.getValue());
        }
        return out;
    }

    /** Request trailers as HTTP/2 or HTTP/3 fields (names lower-cased) into {@code out}. */
    static <H extends Headers<CharSequence, CharSequence, H>> H trailerFields(HttpHeaders trailers, H out) {
        for (Iterator<Map.Entry<CharSequence, CharSequence>> it = trailers.iteratorCharSequence(); it.hasNext(); ) {
            Map.Entry<CharSequence, CharSequence> e = it.next();
            out.add(AsciiString.of(e.getKey()).toLowerCase(), e.getValue());
        }
        return out;
    }
}
