package io.h3relay.exchange;

import io.h3relay.endpoint.Endpoint;
import io.h3relay.route.Route;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.HttpHeaders;

import java.net.InetAddress;

/**
 * What an {@link ExchangeObserver} may read of an exchange. Values change as the phases go by (status is 0
 * before the response, the byte counts grow); read them on the exchange's event loop only.
 */
public interface ExchangeView {
    String listenerName();

    DownstreamProtocol protocol();

    /** True when the downstream connection is TLS (https) or QUIC. */
    boolean isTls();

    /** The request method as received, e.g. {@code GET}. */
    String method();

    /** The Host header (h1) or :authority (h2/h3), or null. */
    String authority();

    /** The request target as received: path and query (or absolute-form for h1 proxy requests). */
    String target();

    HttpHeaders requestHeaders();

    InetAddress clientAddress();

    String requestId();

    /** The matched route, or null before routing or when none matched. */
    Route route();

    /** The response status sent (or being sent) downstream; 0 before the response; 499 when the client left. */
    int status();

    /** The error this proxy answered or cut the exchange with, or null. */
    ErrorCode errorCode();

    /**
     * The exchange became a WebSocket (its upgrade was accepted: a tunnel carries its bytes); the body byte
     * counts are then the bytes relayed each way.
     */
    default boolean isWebSocket() {
        return false;
    }

    /** Why h3relay ended a WebSocket itself (idle or duration limit), or null. */
    default String tunnelClosedBy() {
        return null;
    }

    long requestBodyBytes();

    long responseBodyBytes();

    /** {@link System#nanoTime()} when the request head arrived. */
    long startNanos();

    /** Wall-clock time when the request head arrived, in milliseconds since the epoch. */
    long startEpochMillis();

    /** Upstream attempts made so far. */
    int attempts();

    /** The endpoint of the latest attempt, or null. */
    Endpoint lastEndpoint();

    /** The protocol of the latest attempt towards its endpoint ({@code h2}, {@code http/1.1}, ...), or null. */
    default String upstreamProtocol() {
        return null;
    }

    /** The downstream channel: an h1 connection, an h2 stream's connection, or an h3 (QUIC) stream. */
    Channel downstreamChannel();

    /** The trace id the tracing observer gave this exchange, or null when tracing is off. */
    String traceId();

    /** Set by the tracing observer in {@link ExchangeObserver#requestReceived}, for the others to log. */
    void traceId(String traceId);

    /** The value in {@code key}'s slot, or null. */
    <T> T attribute(ExchangeAttribute<T> key);

    /** Fills {@code key}'s slot (what one part of the pipeline leaves for another). */
    <T> void attribute(ExchangeAttribute<T> key, T value);
}
