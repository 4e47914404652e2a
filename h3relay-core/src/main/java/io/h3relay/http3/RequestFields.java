package io.h3relay.http3;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;

/**
 * The fields of a request's HEADERS frame (or of its trailers) as they are decoded, checked and turned into the
 * HTTP/1-style request the session takes, as h2's streams give it: {@code :authority} becomes {@code Host},
 * {@code cookie} fields are joined with "; " (RFC 9114 section 4.2.1), an extended CONNECT (RFC 9220) keeps
 * {@code :path} and {@code :protocol} as {@code x-http3-path} and {@code x-http3-protocol}, and a head whose body
 * follows without a Content-Length says {@code Transfer-Encoding: chunked}.
 *
 * <p>Malformed (a stream error, H3_MESSAGE_ERROR; {@link #problem()}): any field {@link FieldChecks} refuses, a
 * pseudo-header after a regular field, in trailers, unknown or repeated, a missing one (RFC 9114 section 4.3.1:
 * {@code :method}, {@code :scheme}, {@code :path} and {@code :authority} or {@code Host}; CONNECT: {@code :method}
 * and {@code :authority} only; extended CONNECT: all five), an empty {@code :path}, {@code :protocol} without
 * CONNECT, {@code Host} fields that disagree with each other or with {@code :authority}, a Content-Length that is
 * not one decimal number. A section larger than the limit ({@link #tooLarge()}, counted as RFC 9114 section
 * 4.2.2 does: name, value and 32 per field) is the connection's error (H3_EXCESSIVE_LOAD), as Netty's codec has it.
 */
public final class RequestFields implements QpackFields.Sink {
    /** Headers without Netty's per-add validation: the fields were checked here already. */
    private static final HttpHeadersFactory HEADERS = DefaultHttpHeadersFactory.headersFactory().withValidation(false);
    private static final AsciiString X_HTTP3_PATH = AsciiString.cached("x-http3-path");
    private static final AsciiString X_HTTP3_PROTOCOL = AsciiString.cached("x-http3-protocol");
    private static final int METHOD = 1;
    private static final int SCHEME = 2;
    private static final int AUTHORITY = 4;
    private static final int PATH = 8;
    private static final int PROTOCOL = 16;

    private static final AsciiString PSEUDO_METHOD = AsciiString.cached(":method");
    private static final AsciiString PSEUDO_SCHEME = AsciiString.cached(":scheme");
    private static final AsciiString PSEUDO_AUTHORITY = AsciiString.cached(":authority");
    private static final AsciiString PSEUDO_PATH = AsciiString.cached(":path");
    private static final AsciiString PSEUDO_PROTOCOL = AsciiString.cached(":protocol");

    private final long maxSize;
    private final boolean trailers;
    /** What the session gets: filled from the first regular field on (Host first). */
    private final HttpHeaders headers = HEADERS.newHeaders();
    private long size;
    private String problem;
    private int pseudo;
    private boolean regularSeen;
    private AsciiString method;
    private AsciiString authority;
    private AsciiString path;
    private AsciiString protocol;
    private AsciiString host;
    private AsciiString contentLength;
    private AsciiString cookie;
    private StringBuilder cookies;

    /** {@code maxSize}: the largest section taken (our SETTINGS_MAX_FIELD_SECTION_SIZE). */
    public RequestFields(long maxSize, boolean trailers) {
        this.maxSize = maxSize;
        this.trailers = trailers;
    }

    @Override
    public void field(AsciiString name, AsciiString value) {
        size += name.length() + value.length() + 32L;
        if (problem != null || size > maxSize) {
            return;
        }
        String p = FieldChecks.problem(name, value);
        if (p != null) {
            problem = p;
        } else if (name.byteAt(0) == ':') {
            pseudoField(name, value);
        } else {
            if (!regularSeen) {
                regularSeen = true;
                startHeaders();
            }
            regularField(name, value);
        }
    }

    private void pseudoField(AsciiString name, AsciiString value) {
        if (trailers) {
            problem = "pseudo-header in trailers";
            return;
        }
        if (regularSeen) {
            problem = "pseudo-header " + name + " after a regular field";
            return;
        }
        int flag = PSEUDO_METHOD.contentEquals(name) ? METHOD : PSEUDO_PATH.contentEquals(name) ? PATH
                : PSEUDO_SCHEME.contentEquals(name) ? SCHEME : PSEUDO_AUTHORITY.contentEquals(name) ? AUTHORITY
                : PSEUDO_PROTOCOL.contentEquals(name) ? PROTOCOL : 0;
        if (flag == 0) {
            problem = "invalid pseudo-header " + name;
            return;
        }
        if ((pseudo & flag) != 0) {
            problem = "repeated pseudo-header " + name;
            return;
        }
        pseudo |= flag;
        switch (flag) {
            case METHOD -> method = value;
            case AUTHORITY -> authority = value;
            case PATH -> path = value;
            case PROTOCOL -> protocol = value;
            default -> { } // :scheme: the listener's TLS says what the request came over
        }
    }

    /** Before the regular fields: Host from :authority, an extended CONNECT's path and protocol. */
    private void startHeaders() {
        if (authority != null) {
            headers.add(HttpHeaderNames.HOST, authority);
        }
        if (protocol != null && path != null) {
            headers.add(X_HTTP3_PATH, path);
            headers.add(X_HTTP3_PROTOCOL, protocol);
        }
    }

    private void regularField(AsciiString name, AsciiString value) {
        if (HttpHeaderNames.COOKIE.contentEquals(name)) {
            if (cookie == null) {
                cookie = value;
            } else {
                if (cookies == null) {
                    cookies = new StringBuilder(cookie.length() + value.length() + 2).append(cookie);
                }
                cookies.append("; ").append(value);
            }
        } else if (HttpHeaderNames.HOST.contentEquals(name)) {
            if (host == null) {
                host = value;
                if (authority == null) {
                    headers.add(HttpHeaderNames.HOST, value);
                }
            } else if (!host.contentEqualsIgnoreCase(value)) {
                problem = "conflicting host fields";
            }
        } else if (HttpHeaderNames.CONTENT_LENGTH.contentEquals(name)) {
            if (contentLength == null) {
                contentLength = value;
                headers.add(name, value);
                if (!isDecimal(value)) {
                    problem = "content-length is not a number";
                }
            } else if (!contentLength.contentEquals(value)) {
                problem = "conflicting content-length fields";
            }
        } else if (!HttpHeaderNames.TRAILER.contentEquals(name)) {
            headers.add(name, value);
        }
    }

    private static boolean isDecimal(AsciiString value) {
        if (value.isEmpty() || value.length() > 18) {
            return false;
        }
        for (int i = 0; i < value.length(); i++) {
            byte b = value.byteAt(i);
            if (b < '0' || b > '9') {
                return false;
            }
        }
        return true;
    }

    /** Whether the section is larger than the limit: the connection's error. */
    public boolean tooLarge() {
        return size > maxSize;
    }

    /** Why the request is malformed (after the last field), or null. */
    public String problem() {
        if (problem != null || trailers) {
            return problem;
        }
        boolean connect = method != null && HttpMethod.CONNECT.asciiName().contentEquals(method);
        if (protocol != null && !connect) {
            return ":protocol without :method CONNECT";
        }
        if (authority != null && host != null && !authority.contentEqualsIgnoreCase(host)) {
            return "conflicting :authority and host";
        }
        int required = connect ? (protocol != null ? METHOD | SCHEME | AUTHORITY | PATH | PROTOCOL : METHOD | AUTHORITY)
                : METHOD | SCHEME | PATH;
        if (connect ? pseudo != required : (pseudo & required) != required) {
            return "missing or unexpected pseudo-headers";
        }
        if (path != null && path.isEmpty()) {
            return "empty :path";
        }
        if (connect && !isRequestTarget(authority)) {
            return "control character or space in the :authority of a CONNECT"; // its request target
        }
        if (!connect && authority == null && host == null
                && !(HttpMethod.OPTIONS.asciiName().contentEquals(method) && "*".contentEquals(path))) {
            return "neither :authority nor host";
        }
        return null;
    }

    private static boolean isRequestTarget(AsciiString value) {
        for (int i = 0; i < value.length(); i++) {
            int b = value.byteAt(i) & 0xFF;
            if (b <= ' ' || b == 0x7F) {
                return false;
            }
        }
        return true;
    }

    /** The declared length of the body, -1 without Content-Length (once {@link #problem()} is null). */
    public long contentLength() {
        return contentLength == null ? -1 : Long.parseLong(contentLength.toString());
    }

    /**
     * The request (once {@link #problem()} is null): whole when {@code ended} (the stream's FIN came with the
     * HEADERS frame), else a head whose body follows.
     */
    public HttpRequest request(boolean ended) {
        finishHeaders();
        boolean connect = HttpMethod.CONNECT.asciiName().contentEquals(method);
        if (!ended && contentLength == null) {
            headers.add(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        }
        HttpMethod m = method(method);
        String uri = (connect ? authority : path).toString();
        return ended ? new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, m, uri, Unpooled.EMPTY_BUFFER, headers,
                EmptyHttpHeaders.INSTANCE) : new DefaultHttpRequest(HttpVersion.HTTP_1_1, m, uri, headers);
    }

    /** The trailers (once {@link #problem()} is null) as the request's end. */
    public LastHttpContent trailers() {
        finishHeaders();
        return new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER, headers);
    }

    private void finishHeaders() {
        if (!regularSeen) {
            regularSeen = true;
            startHeaders();
        }
        if (cookie != null) {
            headers.add(HttpHeaderNames.COOKIE, cookies != null ? cookies.toString() : cookie);
        }
    }

    private static HttpMethod method(AsciiString m) {
        for (HttpMethod known : COMMON_METHODS) {
            if (known.asciiName().contentEquals(m)) {
                return known;
            }
        }
        return HttpMethod.valueOf(m.toString());
    }

    private static final HttpMethod[] COMMON_METHODS = {HttpMethod.GET, HttpMethod.POST, HttpMethod.HEAD,
        HttpMethod.PUT, HttpMethod.DELETE, HttpMethod.OPTIONS, HttpMethod.CONNECT, HttpMethod.PATCH};
}
