package io.h3relay.client.h3;

import io.h3relay.client.ErrorKind;
import io.h3relay.client.RequestFailure;
import io.h3relay.client.ResponseListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http3.Http3DataFrame;
import io.netty.handler.codec.http3.Http3ErrorCode;
import io.netty.handler.codec.http3.Http3Headers;
import io.netty.handler.codec.http3.Http3HeadersFrame;
import io.netty.handler.codec.http3.Http3RequestStreamInboundHandler;
import io.netty.handler.codec.quic.QuicException;
import io.netty.handler.codec.quic.QuicStreamChannel;

import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The response side of one HTTP/3 request stream, handing frames to a {@link ResponseListener}. */
final class Http3ResponseHandler extends Http3RequestStreamInboundHandler {
    private final ResponseListener listener;
    private final Runnable onEnd;
    private QuicStreamChannel stream;
    private boolean head;
    private boolean done;
    private List<Map.Entry<String, String>> trailers = List.of();

    Http3ResponseHandler(ResponseListener listener, Runnable onEnd) {
        this.listener = listener;
        this.onEnd = onEnd;
    }

    void stream(QuicStreamChannel stream) {
        this.stream = stream;
    }

    /** Abandons the request: STOP_SENDING + RESET_STREAM with H3_REQUEST_CANCELLED, as a browser does. */
    void cancel() {
        if (!done) {
            fail(new RequestFailure(ErrorKind.TIMEOUT, "cancelled"));
            if (stream != null) {
                stream.shutdown(Http3ErrorCode.H3_REQUEST_CANCELLED.code()).addListener(f -> stream.close());
            }
        }
    }

    @Override
    protected void channelRead(ChannelHandlerContext ctx, Http3HeadersFrame frame) {
        Http3Headers h = frame.headers();
        if (head) {
            trailers = list(h);
            return;
        }
        int status;
        try {
            status = Integer.parseInt(String.valueOf(h.status()));
        } catch (NumberFormatException e) {
            fail(new RequestFailure(ErrorKind.PROTOCOL, "bad :status " + h.status()));
            ctx.close();
            return;
        }
        if (status >= 100 && status < 200) {
            return;
        }
        head = true;
        listener.onHead(status, () -> list(h));
    }

    @Override
    protected void channelRead(ChannelHandlerContext ctx, Http3DataFrame frame) {
        try {
            if (!done && frame.content().isReadable()) {
                listener.onData(frame.content());
            }
        } finally {
            frame.release();
        }
    }

    @Override
    protected void channelInputClosed(ChannelHandlerContext ctx) {
        if (!head) {
            fail(new RequestFailure(ErrorKind.PROTOCOL, "stream ended without a response"));
        } else if (!done) {
            done = true;
            onEnd.run();
            listener.onComplete(trailers);
        }
        ctx.close();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        fail(cause instanceof QuicException || String.valueOf(cause.getMessage()).contains("reset")
                ? new RequestFailure(ErrorKind.RESET, "stream reset: " + cause.getMessage(), cause)
                : RequestFailure.classify(cause, ErrorKind.PROTOCOL));
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        if (!done) { // every stream ends here: no failure (an exception, with its stack) for one that completed
            fail(new RequestFailure(ErrorKind.CLOSED, "stream closed before the response ended"));
        }
        super.channelInactive(ctx);
    }

    void fail(RequestFailure f) {
        if (!done) {
            done = true;
            onEnd.run();
            listener.onFailure(f);
        }
    }

    private static List<Map.Entry<String, String>> list(Http3Headers h) {
        List<Map.Entry<String, String>> all = new ArrayList<>();
        h.forEach(e -> {
            String name = e.getKey().toString();
            if (!name.startsWith(":")) {
                all.add(new AbstractMap.SimpleImmutableEntry<>(name, e.getValue().toString()));
            }
        });
        return all;
    }
}
