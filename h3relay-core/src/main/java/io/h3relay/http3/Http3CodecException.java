package io.h3relay.http3;

import io.netty.handler.codec.http3.Http3ErrorCode;

/**
 * Client bytes on a request stream that are an HTTP/3 connection error (RFC 9114 section 8): the connection is
 * closed with {@link #code()}. Made without a stack trace: any client can cause one.
 */
public final class Http3CodecException extends Exception {
    private static final long serialVersionUID = 1L;
    private final transient Http3ErrorCode code;

    public Http3CodecException(Http3ErrorCode code, String message) {
        super(message, null, false, false);
        this.code = code;
    }

    public Http3ErrorCode code() {
        return code;
    }
}
