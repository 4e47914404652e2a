package io.h3relay.listener.h3;

import io.h3relay.quic.StreamsClosedBeforeFin;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http3.Http3HeadersFrame;
import io.netty.util.ReferenceCountUtil;

/**
 * h3relay's one guard on an HTTP/3 request stream, right behind Netty's frame codec and validators and in front of
 * its frame-to-HttpObject adapter. It does, with one handler per stream instead of five, what each of these
 * explains:
 * <ul>
 *   <li>{@link Http3FrameDecodeFailures}: the codec failing on client bytes without an HTTP/3 error closes the
 *   connection, and the stream's later messages are dropped;</li>
 *   <li>{@link Http3HeadTimeout}: no whole HEADERS frame within {@code request_headers_timeout}, or before the
 *   client's FIN, resets the stream;</li>
 *   <li>{@link Http3MalformedRequestGuard}: a malformed request is reset (H3_MESSAGE_ERROR) before it becomes a
 *   request, and the stream's later messages are dropped;</li>
 *   <li>{@link Http3StreamStopDetector}: a stream the client stopped is closed;</li>
 *   <li>{@link Http3StreamErrors}: the HTTP/3 errors Netty's codec has answered already end here, quietly;</li>
 *   <li>a stream that closes before its FIN was read is reported to the connection's guard
 *   ({@link Http3ConnectionGuard#streamClosedBeforeFin}), which bounds how many of them Netty keeps.</li>
 * </ul>
 * Why one handler: every handler of a stream's pipeline is added and removed per request and walked by every
 * event, and an h3 request is a stream; the five separate handlers were a measurable part of an h3 request's
 * CPU (docs/benchmarks.md, issue 19).
 */
final class Http3RequestStreamGuard extends ChannelInboundHandlerAdapter {
    private final Http3StreamWatch watch;
    /** The codec failed on client bytes: the connection is closing. */
    private boolean decodeFailed;
    /** The codec failed, or the request was malformed and the stream reset: what else arrives is dropped. */
    private boolean dropping;

    Http3RequestStreamGuard(long headTimeoutNanos, Http3ConnectionGuard connection) {
        this.watch = new Http3StreamWatch(headTimeoutNanos, connection);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        watch.added(ctx);
    }

    @Override
    public boolean isSharable() {
        return false; // without asking Netty's per-thread cache, once per stream
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        watch.readComplete();
        ctx.fireChannelReadComplete();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (dropping) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof Http3HeadersFrame headers) {
            watch.headDone();
            String problem = Http3MalformedRequestGuard.problem(headers);
            if (problem != null) {
                ReferenceCountUtil.release(msg);
                refuse(ctx, problem);
                return;
            }
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (StreamsClosedBeforeFin.isFin(evt)) {
            watch.finRead();
            watch.inputEnded(); // before a whole HEADERS frame, the request can never complete
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (Http3FrameDecodeFailures.isDecodeFailure(cause)) {
            dropping = true;
            if (!decodeFailed) { // the codec failing again on the rest of the stream: the connection is closing
                decodeFailed = true;
                Http3FrameDecodeFailures.closeConnection(ctx, cause);
            }
            return;
        }
        if (Http3MalformedRequestGuard.isMalformed(cause)) {
            refuse(ctx, String.valueOf(cause.getMessage()));
            return;
        }
        if (!Http3StreamErrors.quiet(ctx, cause)) {
            ctx.fireExceptionCaught(cause);
        }
    }

    private void refuse(ChannelHandlerContext ctx, String why) {
        if (!dropping) {
            dropping = true;
            Http3MalformedRequestGuard.refuse(ctx, why);
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (!watch.writabilityChanged(ctx)) {
            ctx.fireChannelWritabilityChanged();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        watch.inactive();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        watch.removed();
    }
}
