package io.h3relay.telemetry;

import io.h3relay.config.HostPort;
import io.h3relay.exchange.DownstreamProtocol;
import io.h3relay.exchange.AttemptView;
import io.h3relay.exchange.ExchangeObserver;
import io.h3relay.exchange.ExchangeView;
import io.h3relay.exchange.ProxyError;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.quic.QuicChannel;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.semconv.ClientAttributes;
import io.opentelemetry.semconv.ErrorAttributes;
import io.opentelemetry.semconv.HttpAttributes;
import io.opentelemetry.semconv.NetworkAttributes;
import io.opentelemetry.semconv.ServerAttributes;
import io.opentelemetry.semconv.UrlAttributes;
import io.opentelemetry.semconv.UserAgentAttributes;

import java.net.InetAddress;

/**
 * The spans of one exchange: a SERVER span from the request head to the end, continuing the client's trace
 * when it sent {@code traceparent}, and one CLIENT span per attempt, whose context goes upstream in
 * {@code traceparent} (with the client's {@code baggage}, by {@link TraceContextFilter}). Attributes follow the HTTP semantic conventions;
 * ours are prefixed {@code h3relay.}.
 */
final class TracingObserver implements ExchangeObserver {
    static final AttributeKey<String> LISTENER = AttributeKey.stringKey("h3relay.listener");
    static final AttributeKey<String> REQUEST_ID = AttributeKey.stringKey("h3relay.request_id");
    static final AttributeKey<String> QUIC_CONNECTION_ID = AttributeKey.stringKey("h3relay.quic.connection_id");
    static final AttributeKey<String> CLUSTER = AttributeKey.stringKey("h3relay.cluster");
    /** The upstream protocol of the attempt by its ALPN name ({@code http/1.1}, {@code h2}, {@code h2c}). */
    static final AttributeKey<String> UPSTREAM_PROTOCOL = AttributeKey.stringKey("h3relay.upstream.protocol");
    static final AttributeKey<String> ENDPOINT = AttributeKey.stringKey("h3relay.endpoint");
    static final AttributeKey<Long> ATTEMPTS = AttributeKey.longKey("h3relay.attempts");
    static final AttributeKey<Long> REQUEST_BODY_SIZE = AttributeKey.longKey("http.request.body.size");
    static final AttributeKey<Long> RESPONSE_BODY_SIZE = AttributeKey.longKey("http.response.body.size");

    private final Tracer tracer;
    private Span server;
    private Context serverContext;
    private Span client;

    TracingObserver(Tracer tracer) {
        this.tracer = tracer;
    }

    @Override
    public void requestReceived(ExchangeView ex) {
        Context parent = Tracing.PROPAGATOR.extract(Context.root(), ex.requestHeaders(), Tracing.GETTER);
        DownstreamProtocol protocol = ex.protocol();
        SpanBuilder b = tracer.spanBuilder(ex.method()).setParent(parent).setSpanKind(SpanKind.SERVER)
                .setAttribute(HttpAttributes.HTTP_REQUEST_METHOD, ex.method())
                .setAttribute(UrlAttributes.URL_SCHEME, ex.isTls() ? "https" : "http")
                .setAttribute(NetworkAttributes.NETWORK_PROTOCOL_NAME, "http")
                .setAttribute(NetworkAttributes.NETWORK_PROTOCOL_VERSION, protocol.viaVersion())
                .setAttribute(NetworkAttributes.NETWORK_TRANSPORT, protocol == DownstreamProtocol.H3 ? "quic" : "tcp")
                .setAttribute(LISTENER, ex.listenerName())
                .setAttribute(REQUEST_ID, ex.requestId());
        String target = ex.target();
        if (target != null) {
            int q = target.indexOf('?');
            b.setAttribute(UrlAttributes.URL_PATH, q < 0 ? target : target.substring(0, q));
            if (q >= 0) {
                b.setAttribute(UrlAttributes.URL_QUERY, target.substring(q + 1));
            }
        }
        HostPort authority = authority(ex.authority());
        if (authority != null) {
            b.setAttribute(ServerAttributes.SERVER_ADDRESS, authority.host());
            if (authority.port() > 0) {
                b.setAttribute(ServerAttributes.SERVER_PORT, (long) authority.port());
            }
        }
        InetAddress clientAddress = ex.clientAddress();
        if (clientAddress != null) {
            b.setAttribute(ClientAttributes.CLIENT_ADDRESS, io.netty.util.NetUtil.toAddressString(clientAddress));
        }
        String agent = ex.requestHeaders().get(HttpHeaderNames.USER_AGENT);
        if (agent != null) {
            b.setAttribute(UserAgentAttributes.USER_AGENT_ORIGINAL, agent);
        }
        if (protocol == DownstreamProtocol.H3) {
            String id = quicConnectionId(ex.downstreamChannel());
            if (id != null) {
                b.setAttribute(QUIC_CONNECTION_ID, id);
            }
        }
        server = b.startSpan();
        serverContext = parent.with(server);
        ex.traceId(server.getSpanContext().getTraceId());
    }

    @Override
    public void routeChosen(ExchangeView ex) {
        server.updateName(ex.method() + " " + ex.route().name());
        server.setAttribute(HttpAttributes.HTTP_ROUTE, ex.route().name());
    }

    @Override
    public void upstreamRequest(ExchangeView ex, AttemptView attempt) {
        endClient(); // a previous attempt always ends first; this only guards the order
        HostPort address = attempt.endpoint().address();
        SpanBuilder b = tracer.spanBuilder(ex.method()).setParent(serverContext).setSpanKind(SpanKind.CLIENT)
                .setAttribute(HttpAttributes.HTTP_REQUEST_METHOD, ex.method())
                .setAttribute(ServerAttributes.SERVER_ADDRESS, address.host().isEmpty() ? "127.0.0.1" : address.host())
                .setAttribute(ServerAttributes.SERVER_PORT, (long) address.port())
                .setAttribute(NetworkAttributes.NETWORK_PROTOCOL_NAME, "http")
                .setAttribute(NetworkAttributes.NETWORK_PROTOCOL_VERSION, attempt.protocol().version())
                .setAttribute(UPSTREAM_PROTOCOL, attempt.protocol().alpn())
                .setAttribute(CLUSTER, attempt.clusterName())
                .setAttribute(ENDPOINT, attempt.endpoint().toString());
        if (attempt.number() > 1) {
            b.setAttribute(HttpAttributes.HTTP_REQUEST_RESEND_COUNT, (long) attempt.number() - 1);
        }
        client = b.startSpan();
        // Sent upstream by TraceContextFilter: observers watch, filters act.
        ex.attribute(TraceContextFilter.UPSTREAM_CONTEXT, serverContext.with(client));
    }

    @Override
    public void upstreamResponse(ExchangeView ex, AttemptView attempt) {
        if (client != null) {
            client.setAttribute(HttpAttributes.HTTP_RESPONSE_STATUS_CODE, (long) attempt.status());
            // as negotiated, now that the attempt has its stream
            client.setAttribute(NetworkAttributes.NETWORK_PROTOCOL_VERSION, attempt.protocol().version());
            client.setAttribute(UPSTREAM_PROTOCOL, attempt.protocol().alpn());
            if (attempt.status() >= 400) { // client spans: 4xx is an error too (semantic conventions)
                client.setStatus(StatusCode.ERROR);
                client.setAttribute(ErrorAttributes.ERROR_TYPE, Integer.toString(attempt.status()));
            }
        }
    }

    @Override
    public void attemptEnded(ExchangeView ex, AttemptView attempt) {
        ProxyError failure = attempt.failure();
        if (client != null && failure != null) {
            client.setStatus(StatusCode.ERROR, failure.getMessage());
            client.setAttribute(ErrorAttributes.ERROR_TYPE, failure.code().code());
        }
        endClient();
    }

    @Override
    public void response(ExchangeView ex) {
        server.setAttribute(HttpAttributes.HTTP_RESPONSE_STATUS_CODE, (long) ex.status());
    }

    @Override
    public void complete(ExchangeView ex) {
        endClient();
        if (ex.errorCode() != null) {
            server.setAttribute(ErrorAttributes.ERROR_TYPE, ex.errorCode().code());
        } else if (ex.status() >= 500) {
            server.setAttribute(ErrorAttributes.ERROR_TYPE, Integer.toString(ex.status()));
        } else if (ex.status() == 499) {
            server.setAttribute(ErrorAttributes.ERROR_TYPE, "client_closed_request");
        }
        if (ex.status() >= 500) { // server spans: only 5xx is the server's error
            server.setStatus(StatusCode.ERROR);
        }
        server.setAttribute(ATTEMPTS, (long) ex.attempts());
        server.setAttribute(REQUEST_BODY_SIZE, ex.requestBodyBytes());
        server.setAttribute(RESPONSE_BODY_SIZE, ex.responseBodyBytes());
        server.end();
    }

    private void endClient() {
        if (client != null) {
            client.end();
            client = null;
        }
    }

    /** {@code host}, {@code host:port}, {@code [v6]:port}; port 0 when absent or unreadable. */
    static HostPort authority(String value) {
        if (value == null || value.isEmpty()) {
            return null;
        }
        int colon = value.lastIndexOf(':');
        int bracket = value.lastIndexOf(']');
        if (colon < 0 || colon < bracket) {
            return new HostPort(strip(value), 0);
        }
        int port = 0;
        try {
            port = Integer.parseInt(value.substring(colon + 1));
        } catch (NumberFormatException e) {
            // an odd Host header: keep the host, drop the port
        }
        return new HostPort(strip(value.substring(0, colon)), port);
    }

    private static String strip(String host) {
        return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    }

    /** The server's QUIC connection id, hex; Netty exposes it only through the address's text. */
    static String quicConnectionId(Channel stream) {
        Channel ch = stream;
        while (ch != null && !(ch instanceof QuicChannel)) {
            ch = ch.parent();
        }
        if (ch == null || ch.localAddress() == null) {
            return null;
        }
        String s = ch.localAddress().toString();
        int at = s.indexOf("connId=");
        int end = s.lastIndexOf('}');
        return at < 0 || end < at ? null : s.substring(at + 7, end);
    }
}
