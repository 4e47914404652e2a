package io.h3relay.policy.compression;

import io.h3relay.config.CompressionConfig;
import io.h3relay.config.CompressionConfig.Encoding;
import io.h3relay.exchange.ExchangeAttribute;
import io.h3relay.filter.Filter;
import io.h3relay.filter.FilterContext;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;

import java.util.List;
import java.util.Locale;

/**
 * Compresses response bodies (see the package comment for what is never compressed). Shared by every
 * exchange of its route; an exchange's encoder lives in an {@link ExchangeAttribute}, made in the head
 * phase only when the response is compressed, and released at the body's end or the exchange's.
 */
public final class CompressionFilter implements Filter {
    private static final ExchangeAttribute<StreamEncoder> ENCODER = ExchangeAttribute.of("compression.encoder");

    private final CompressionConfig config;
    private final String[] exact;
    private final String[] typePrefixes;
    private final String[] suffixes;

    public CompressionFilter(CompressionConfig config) {
        this.config = config;
        this.exact = config.contentTypes().stream().filter(t -> !t.contains("*")).toArray(String[]::new);
        this.typePrefixes = config.contentTypes().stream().filter(t -> t.endsWith("/*"))
                .map(t -> t.substring(0, t.length() - 1)).toArray(String[]::new);
        this.suffixes = config.contentTypes().stream().filter(t -> t.contains("/*+"))
                .map(t -> new String[] {t.substring(0, t.indexOf('/') + 1), t.substring(t.indexOf("/*+") + 2)})
                .map(p -> p[0] + "\u0000" + p[1]).toArray(String[]::new);
        for (Encoding e : config.encodings()) {
            if (e.algorithm() == CompressionConfig.Algorithm.BROTLI && !BrotliEncoder.available()) {
                throw new IllegalStateException("brotli is configured but brotli4j's native library does not load here");
            }
        }
    }

    public CompressionConfig config() {
        return config;
    }

    @Override
    public void onResponseHead(FilterContext ctx, HttpResponse head) {
        HttpHeaders h = head.headers();
        if (!compressible(ctx, head)) {
            return;
        }
        addVary(h);
        Encoding chosen = AcceptEncoding.choose(ctx.requestHeaders().getAll(HttpHeaderNames.ACCEPT_ENCODING),
                config.encodings());
        if (chosen == null) {
            return;
        }
        h.remove(HttpHeaderNames.CONTENT_LENGTH);
        h.remove(HttpHeaderNames.ACCEPT_RANGES);
        h.set(HttpHeaderNames.CONTENT_ENCODING, chosen.algorithm().token);
        String etag = h.get(HttpHeaderNames.ETAG);
        if (etag != null && etag.startsWith("\"")) {
            h.set(HttpHeaderNames.ETAG, "W/" + etag); // another representation: no longer byte-identical
        }
        ctx.attribute(ENCODER, newEncoder(chosen));
    }

    @Override
    public HttpContent onResponseBody(FilterContext ctx, HttpContent part) {
        StreamEncoder encoder = ctx.attribute(ENCODER);
        if (encoder == null) {
            return part;
        }
        boolean last = part instanceof LastHttpContent;
        if (!last && !part.content().isReadable()) {
            return part;
        }
        ByteBuf out;
        try {
            out = encoder.encode(part.content(), ctx.downstreamChannel().alloc(), last);
        } finally {
            if (last) {
                ctx.attribute(ENCODER, null);
            }
        }
        HttpContent encoded = last ? new DefaultLastHttpContent(out, ((LastHttpContent) part).trailingHeaders())
                : new DefaultHttpContent(out);
        part.release();
        return encoded;
    }

    @Override
    public void onEnd(FilterContext ctx) {
        StreamEncoder encoder = ctx.attribute(ENCODER);
        if (encoder != null) {
            ctx.attribute(ENCODER, null);
            encoder.close();
        }
    }

    private boolean compressible(FilterContext ctx, HttpResponse head) {
        int status = head.status().code();
        if (status < 200 || status == 204 || status == 206 || status == 304 || "HEAD".equals(ctx.method())) {
            return false;
        }
        HttpHeaders h = head.headers();
        String ce = h.get(HttpHeaderNames.CONTENT_ENCODING);
        if (ce != null && !ce.trim().equalsIgnoreCase("identity")) {
            return false;
        }
        if (h.contains(HttpHeaderNames.CONTENT_RANGE) || noTransform(h.getAll(HttpHeaderNames.CACHE_CONTROL))) {
            return false;
        }
        String type = h.get(HttpHeaderNames.CONTENT_TYPE);
        if (type == null || !typeMatches(mediaType(type))) {
            return false;
        }
        long length = head instanceof FullHttpResponse full ? full.content().readableBytes()
                : contentLength(h);
        return length < 0 || length >= config.minSize();
    }

    private static long contentLength(HttpHeaders h) {
        String v = h.get(HttpHeaderNames.CONTENT_LENGTH);
        if (v == null) {
            return -1;
        }
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    static String mediaType(String contentType) {
        int semi = contentType.indexOf(';');
        return (semi < 0 ? contentType : contentType.substring(0, semi)).trim().toLowerCase(Locale.ROOT);
    }

    boolean typeMatches(String media) {
        // Never, whatever the config says: event streams must not wait in an encoder, gRPC frames its own.
        if (media.equals("text/event-stream") || media.startsWith("application/grpc")) {
            return false;
        }
        for (String t : exact) {
            if (t.equals(media)) {
                return true;
            }
        }
        for (String p : typePrefixes) {
            if (media.startsWith(p)) {
                return true;
            }
        }
        for (String s : suffixes) {
            int z = s.indexOf('\u0000');
            if (media.startsWith(s.substring(0, z)) && media.endsWith(s.substring(z + 1))) {
                return true;
            }
        }
        return false;
    }

    private static boolean noTransform(List<String> cacheControl) {
        for (String v : cacheControl) {
            if (v.toLowerCase(Locale.ROOT).contains("no-transform")) {
                return true;
            }
        }
        return false;
    }

    private static void addVary(HttpHeaders h) {
        for (String v : h.getAll(HttpHeaderNames.VARY)) {
            for (String name : v.split(",")) {
                String n = name.trim();
                if (n.equals("*") || n.equalsIgnoreCase("accept-encoding")) {
                    return;
                }
            }
        }
        h.add(HttpHeaderNames.VARY, "Accept-Encoding");
    }

    private static StreamEncoder newEncoder(Encoding e) {
        return switch (e.algorithm()) {
            case GZIP -> new GzipEncoder(e.level());
            case BROTLI -> new BrotliEncoder(e.level());
            case ZSTD -> new ZstdEncoder(e.level());
        };
    }
}
