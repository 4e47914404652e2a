package io.h3relay.upstream;

import io.h3relay.endpoint.Endpoint;
import io.h3relay.transport.DirectSend;
import io.h3relay.transport.HalfClose;
import io.h3relay.transport.TunnelReadBuffer;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One pooled HTTP/1.1 connection to an endpoint, leased whole to one exchange at a time: the connection is
 * its {@link UpstreamStream}. What is HTTP/1.1 about the upstream request lives here: chunked framing of a
 * body without a length, no {@code TE} (a hop-by-hop header h1 does not use towards endpoints), keep-alive
 * from the response head, and the stale-connection rule (a reused connection that closes before any
 * response byte refused the request rather than failed it). On its own event loop only.
 */
final class Http1Connection implements UpstreamStream {
    private static final Logger LOG = LoggerFactory.getLogger(Http1Connection.class);

    private final Channel channel;
    private final Http1Pool pool;
    private final Http1ConnectionHandler handler;
    /** False for a dedicated (health check) connection: closed when its stream ends. */
    private final boolean pooled;
    private long requests;
    private boolean inUse;
    private ScheduledFuture<?> idleTimer;
    private long idleSince;
    // Per lease:
    private boolean responseSeen;
    private boolean keepAlive;
    private HttpVersion responseVersion = HttpVersion.HTTP_1_1;
    private boolean tunnel;
    /** In a tunnel on a plaintext epoll socket: its bytes are sent at once (see DirectSend); else null. */
    private io.netty.channel.unix.Socket directSocket;
    /**
     * The request went out whole with its head (no body): the empty end of message that follows it is not
     * written again (one write and encode less per bodiless request).
     */
    private boolean headEnded;

    Http1Connection(Channel channel, Http1Pool pool, Http1ConnectionHandler handler, boolean pooled) {
        this.channel = channel;
        this.pool = pool;
        this.handler = handler;
        this.pooled = pooled;
        handler.connection(this);
    }

    Channel channel() {
        return channel;
    }

    @Override
    public Endpoint endpoint() {
        return pool.endpoint();
    }

    @Override
    public UpstreamProtocol protocol() {
        return UpstreamProtocol.HTTP_1_1;
    }

    @Override
    public void start(Listener listener) {
        responseSeen = false;
        keepAlive = false;
        responseVersion = HttpVersion.HTTP_1_1;
        headEnded = false;
        handler.bind(listener);
        requests++;
    }

    @Override
    public void writeHead(HttpRequest head, boolean hasBody) {
        head.headers().remove(HttpHeaderNames.TE);
        if (hasBody && !head.headers().contains(HttpHeaderNames.CONTENT_LENGTH)) {
            head.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        }
        if (!hasBody && !(head instanceof HttpContent) && !HttpMethod.CONNECT.equals(head.method())
                && !head.headers().contains(HttpHeaderNames.UPGRADE)) {
            // Nothing but an empty end of message follows: head and end in one message, one encode. Not for an
            // upgrade or CONNECT, whose tunnel bytes may follow the head.
            headEnded = true;
            channel.write(new DefaultFullHttpRequest(head.protocolVersion(), head.method(), head.uri(),
                    Unpooled.EMPTY_BUFFER, head.headers(), EmptyHttpHeaders.INSTANCE), channel.voidPromise());
            return;
        }
        channel.write(head, channel.voidPromise());
    }

    @Override
    public void writeBody(HttpContent content) {
        if (!tunnel) {
            if (headEnded && content instanceof LastHttpContent last && !last.content().isReadable()
                    && last.trailingHeaders().isEmpty()) {
                last.release(); // its end went with the head
                return;
            }
            channel.write(content, channel.voidPromise());
            return;
        }
        ByteBuf bytes = content.content();
        boolean last = content instanceof LastHttpContent;
        if (bytes.isReadable()) {
            DirectSend.write(channel, channel, directSocket, bytes);
        } else {
            bytes.release();
        }
        if (last && channel instanceof DuplexChannel duplex) {
            HalfClose.afterWrites(channel, duplex); // the client ended its side of the tunnel: so do we
        }
    }

    @Override
    public void writeTunnelBytes(ByteBuf bytes) {
        if (tunnel) {
            DirectSend.write(channel, channel, directSocket, bytes);
        } else {
            UpstreamStream.super.writeTunnelBytes(bytes);
        }
    }

    @Override
    public void flush() {
        if (tunnel && directSocket != null && DirectSend.nothingWaits(channel)) {
            return; // the tunnel's bytes went out as they came, nothing waits: no walk down the pipeline per message
        }
        // Otherwise always, even with nothing new written: a flush retries what a full socket holds back, and so
        // finds a write that fails (the endpoint closed), which lets the connection read the endpoint's answer
        // before the close (Http1ConnectionHandler; EarlyResponseTest failed on h1 without it). (A TLS tunnel's
        // bytes wait in the SslHandler, not in the outbound buffer, until this flush.)
        channel.flush();
    }

    @Override
    public boolean isWritable() {
        return channel.isWritable();
    }

    @Override
    public void readResponse(boolean on) {
        if (handler.isBound() && channel.config().isAutoRead() != on) {
            channel.config().setAutoRead(on);
        }
    }

    /** True when this connection served a request before the current one (a keep-alive race is possible). */
    @Override
    public boolean isReused() {
        return requests > 1;
    }

    @Override
    public String viaVersion() {
        if (responseVersion == HttpVersion.HTTP_1_1) {
            return "1.1"; // the common case, without a new string per response
        }
        return responseVersion == HttpVersion.HTTP_1_0 ? "1.0"
                : responseVersion.majorVersion() + "." + responseVersion.minorVersion();
    }

    /** The connection handler saw a response head go by (before the listener gets it). */
    void onResponseHead(HttpResponse res) {
        responseSeen = true;
        if (res.status().code() >= 200) {
            keepAlive = HttpUtil.isKeepAlive(res);
            responseVersion = res.protocolVersion();
        }
    }

    /** Anything of a response arrived: a close from now on is a reset, not a refusal. */
    void onResponseBytes() {
        responseSeen = true;
    }

    /** Classifies a close (or transport failure) that happened while a stream was bound. */
    UpstreamFailure closedFailure(Throwable cause) {
        String why = cause == null ? "closed the connection" : "failed: " + cause.getMessage();
        String message = "endpoint " + endpoint() + " " + why + " before the response completed";
        UpstreamFailure.Kind kind = !responseSeen && isReused() ? UpstreamFailure.Kind.REFUSED
                : UpstreamFailure.Kind.RESET;
        return new UpstreamFailure(kind, message, cause);
    }

    boolean inTunnel() {
        return tunnel;
    }

    @Override
    public void enterTunnel() {
        tunnel = true;
        keepAlive = false;
        // After a 101 Netty's decoder passes the bytes that follow as they are; without the codec they reach
        // the connection handler as plain buffers, and writes go out unframed.
        if (channel.pipeline().get(UpstreamConnector.CODEC) != null) {
            channel.pipeline().remove(UpstreamConnector.CODEC);
        }
        directSocket = DirectSend.socketFor(channel, null);
        if (directSocket != null) {
            TunnelReadBuffer.install(channel); // reads into the loop's reused buffer
        }
    }

    @Override
    public void finish(boolean clean) {
        handler.unbind();
        boolean reusable = clean && keepAlive && !tunnel && pooled && !handler.writeFailed();
        if (!pooled) {
            channel.close();
            return;
        }
        pool.release(this, reusable);
    }

    @Override
    public void abort(String reason) {
        LOG.debug("upstream connection {} aborted: {}", channel, reason);
        handler.unbind();
        if (pooled) {
            pool.release(this, false);
        } else {
            channel.close();
        }
    }

    long requests() {
        return requests;
    }

    void inUse(boolean value) {
        this.inUse = value;
    }

    /**
     * Back in the pool: closes after {@code idleNanos} without use. The timer is lazy: one per connection,
     * re-armed for the remaining time when it finds the connection was used meanwhile, so a request costs
     * no timer scheduling or cancelling.
     */
    void idleFrom(long now, long idleNanos) {
        idleSince = now;
        if (idleTimer == null && idleNanos > 0) {
            armIdleTimer(idleNanos, idleNanos);
        }
    }

    private void armIdleTimer(long delayNanos, long idleNanos) {
        idleTimer = channel.eventLoop().schedule(() -> {
            idleTimer = null;
            if (inUse || !channel.isActive()) {
                return; // the next release arms it again
            }
            long left = idleSince + idleNanos - System.nanoTime();
            if (left <= 0) {
                channel.close();
            } else {
                armIdleTimer(left, idleNanos);
            }
        }, delayNanos, java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    static void release(Object msg) {
        ReferenceCountUtil.release(msg);
    }
}
