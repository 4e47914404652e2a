package io.h3relay.grpcweb;

import io.h3relay.exchange.ExchangeAttribute;
import io.h3relay.filter.Filter;
import io.h3relay.filter.FilterChain;
import io.h3relay.filter.FilterContext;
import io.h3relay.filter.FilterResult;
import io.h3relay.grpc.Grpc;
import io.h3relay.grpc.GrpcWeb;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;

import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Translates one gRPC-Web exchange to gRPC and back (see the package comment). Stateless and shared; an
 * exchange's state (its mode, the base64 decoder's held characters, trailers moved out of a trailers-only
 * head) lives in an {@link ExchangeAttribute} made in {@link #onRequest}.
 */
public final class GrpcWebFilter implements Filter {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(GrpcWebFilter.class);
    private static final ExchangeAttribute<State> STATE = ExchangeAttribute.of("grpc-web");
    private static final AsciiString GRPC_STATUS_DETAILS = AsciiString.cached("grpc-status-details-bin");
    /** Taken out of a trailers-only head: they are the call's end, said once, in the trailer frame. */
    private static final AsciiString[] MOVED = {Grpc.GRPC_STATUS, Grpc.GRPC_MESSAGE, GRPC_STATUS_DETAILS};
    /** HTTP's own headers of a trailers-only head (and the proxy's), not gRPC metadata: not in the trailer frame. */
    private static final Set<AsciiString> NOT_METADATA = Set.of(HttpHeaderNames.CONTENT_TYPE,
            HttpHeaderNames.CONTENT_LENGTH, HttpHeaderNames.DATE, HttpHeaderNames.SERVER, HttpHeaderNames.VIA,
            HttpHeaderNames.VARY, HttpHeaderNames.CONNECTION, HttpHeaderNames.KEEP_ALIVE,
            HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderNames.CACHE_CONTROL, HttpHeaderNames.ALT_SVC,
            AsciiString.cached("x-request-id"), AsciiString.cached("grpc-encoding"),
            AsciiString.cached("grpc-accept-encoding"));
    private static final GrpcWebFilter INSTANCE = new GrpcWebFilter();
    private static final FilterChain CHAIN = FilterChain.of(List.of(INSTANCE));

    private GrpcWebFilter() {
    }

    /** {@code chain} with the translation in front of it: first to see the request, first to see the response. */
    public static FilterChain around(FilterChain chain) {
        return CHAIN.then(chain);
    }

    private static final class State {
        final GrpcWeb.Mode mode;
        final GrpcWeb.Base64Text decoder;
        /** The response is gRPC and is being translated (set by its head, cleared after its last part). */
        boolean translating;
        /** grpc-status and co. of a trailers-only head: they go out in the trailer frame. */
        HttpHeaders moved;

        State(GrpcWeb.Mode mode) {
            this.mode = mode;
            this.decoder = mode == GrpcWeb.Mode.TEXT ? new GrpcWeb.Base64Text() : null;
        }
    }

    @Override
    public FilterResult onRequest(FilterContext ctx, HttpRequest head) {
        HttpHeaders h = head.headers();
        GrpcWeb.Mode mode = GrpcWeb.modeOf(h);
        if (mode == null) {
            return FilterResult.CONTINUE;
        }
        ctx.attribute(STATE, new State(mode));
        h.set(HttpHeaderNames.CONTENT_TYPE, GrpcWeb.grpcContentType(h.get(HttpHeaderNames.CONTENT_TYPE)));
        h.set(HttpHeaderNames.TE, HttpHeaderValues.TRAILERS);
        if (mode == GrpcWeb.Mode.TEXT) {
            h.remove(HttpHeaderNames.CONTENT_LENGTH); // the decoded body is shorter
        }
        return FilterResult.CONTINUE;
    }

    @Override
    public HttpContent onRequestBody(FilterContext ctx, HttpContent part) {
        State s = ctx.attribute(STATE);
        if (s == null || s.decoder == null) {
            return part;
        }
        boolean last = part instanceof LastHttpContent;
        boolean failedBefore = s.decoder.failed();
        ByteBuf decoded = s.decoder.decode(part.content(), alloc(ctx));
        if (!failedBefore && (s.decoder.failed() || (last && !s.decoder.completeAtEnd()))) {
            // The endpoint gets the body up to here and ends it with a gRPC error of its own (a truncated message).
            LOG.debug("exchange {}: the grpc-web-text body is not base64; forwarded up to the first bad character",
                    ctx.requestId());
        }
        HttpContent out = last ? new DefaultLastHttpContent(decoded, ((LastHttpContent) part).trailingHeaders())
                : new DefaultHttpContent(decoded);
        part.release();
        return out;
    }

    @Override
    public void onResponseHead(FilterContext ctx, HttpResponse head) {
        State s = ctx.attribute(STATE);
        HttpHeaders h = head.headers();
        if (s == null || s.translating || !Grpc.isGrpc(h)) {
            return; // not gRPC (an HTTP error page, or a gRPC-Web error of ours already)
        }
        s.translating = true;
        h.set(HttpHeaderNames.CONTENT_TYPE, s.mode.responseContentType(h.get(HttpHeaderNames.CONTENT_TYPE)));
        h.remove(HttpHeaderNames.CONTENT_LENGTH);
        if (h.contains(Grpc.GRPC_STATUS)) {
            // Trailers-only: the head is the trailers. The status goes into the body's trailer frame, which a
            // browser reads without Access-Control-Expose-Headers and every gRPC-Web client reads the same way;
            // the metadata is copied there too (gRPC clients read a trailers-only head's metadata as trailers).
            HttpHeaders moved = DefaultHttpHeadersFactory.trailersFactory().newHeaders();
            for (Iterator<Map.Entry<CharSequence, CharSequence>> it = h.iteratorCharSequence(); it.hasNext(); ) {
                Map.Entry<CharSequence, CharSequence> e = it.next();
                if (!NOT_METADATA.contains(AsciiString.of(e.getKey()).toLowerCase())) {
                    moved.add(e.getKey(), e.getValue());
                }
            }
            for (AsciiString name : MOVED) {
                h.remove(name);
            }
            s.moved = moved;
        }
    }

    @Override
    public HttpContent onResponseBody(FilterContext ctx, HttpContent part) {
        State s = ctx.attribute(STATE);
        if (s == null || !s.translating) {
            return part;
        }
        boolean text = s.mode == GrpcWeb.Mode.TEXT;
        if (!(part instanceof LastHttpContent last)) {
            if (!text || !part.content().isReadable()) {
                return part;
            }
            ByteBuf encoded = GrpcWeb.Base64Text.encode(part.content(), alloc(ctx));
            part.release();
            return new DefaultHttpContent(encoded);
        }
        s.translating = false;
        HttpHeaders trailers = last.trailingHeaders();
        if (s.moved != null) {
            s.moved.add(trailers);
            trailers = s.moved;
            s.moved = null;
        }
        if (trailers.isEmpty() && !text) {
            return part;
        }
        ByteBufAllocator alloc = alloc(ctx);
        ByteBuf body = part.content().retain();
        ByteBuf whole = body;
        if (!trailers.isEmpty()) {
            CompositeByteBuf c = alloc.compositeBuffer(2);
            c.addComponent(true, body);
            c.addComponent(true, GrpcWeb.trailerFrame(alloc, trailers));
            whole = c;
        }
        part.release();
        if (text) {
            ByteBuf encoded = GrpcWeb.Base64Text.encode(whole, alloc);
            whole.release();
            whole = encoded;
        }
        return new DefaultLastHttpContent(whole); // no trailers of its own: they are in the body now
    }

    private static ByteBufAllocator alloc(FilterContext ctx) {
        io.netty.channel.Channel ch = ctx.downstreamChannel();
        return ch == null ? ByteBufAllocator.DEFAULT : ch.alloc();
    }
}
