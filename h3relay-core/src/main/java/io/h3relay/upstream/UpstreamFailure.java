package io.h3relay.upstream;

/**
 * Why an upstream stream failed, classified by what the endpoint may have done with the request, which is
 * what decides whether it may go again.
 *
 * @param kind    see {@link Kind}
 * @param message for the client's error envelope and the log: says what happened, names no internals
 * @param cause   the transport's exception, or null
 */
public record UpstreamFailure(Kind kind, String message, Throwable cause) {

    public enum Kind {
        /** The request never left (no connection, no stream): always safe to send elsewhere. */
        NEVER_SENT,
        /**
         * The endpoint refused or dropped the request before processing it, as far as the protocol can tell:
         * h1, a reused keep-alive connection closed before any response byte; h2, REFUSED_STREAM or a GOAWAY
         * below the stream. The request may go again without counting as a retry.
         */
        REFUSED,
        /** The stream or connection broke after the request went out: the endpoint may have processed it. */
        RESET,
        /** The endpoint sent something that is not a valid response. */
        INVALID_RESPONSE
    }
}
