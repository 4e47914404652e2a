package io.h3relay.listener.h3;

import io.h3relay.exchange.Http3StreamSession;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.ChannelInputShutdownReadComplete;
import io.netty.handler.codec.http3.Http3DataFrame;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a complete early answer standing: once the proxy has sent its whole response (FIN) and stopped the
 * rest of the request (the session's {@code stopUnfinishedRequest}), the request's remaining DATA frames and
 * its end of input pass Netty's request-stream validation by, so its {@code content-length} check cannot reset
 * the stream any more.
 *
 * <p>Why (docs/security.md, the h3 fuzz finding): a POST answered at once (400 for a bad {@code :authority})
 * whose FIN then shows fewer DATA bytes than its {@code content-length} was answered with the 400 and FIN and,
 * a moment later, with RESET_STREAM (H3_MESSAGE_ERROR, Netty's {@code Http3RequestStreamValidationHandler} at
 * the end of input). RFC 9114 section 4.1.2 says a complete response stands when the server stops the rest of
 * the request; and a quiche client that gets the RESET_STREAM after the whole response and FIN, before its
 * application read them, never learns of either: quiche drops the buffered data and, since the final size is
 * already known, does not queue the empty "reset" marker, so the stream is no longer readable and no error is
 * reported (a stream with no byte, no FIN and no reset: the hang). It takes both packets in one read, which
 * happened on a new connection's first stream (2 to 4 in 10). nginx answers the same way: the response, no reset.
 *
 * <p>What is skipped: only the content-length checks of a request nobody reads any more (the session drops
 * its remaining messages). Netty's QPACK "stream cancellation", sent from the same handler at the end of input
 * when the dynamic table is on, is skipped for such streams too: their field section was decoded (and
 * acknowledged) already. Put directly in front of Netty's validation handler when the session stops the rest of
 * the request (through the installer {@link Http3StreamInitializer} gives each {@link Http3StreamSession}); when
 * that handler is not found (Netty's internals changed), nothing is installed and one warning says so.
 */
final class Http3AnsweredRequestGuard extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(Http3AnsweredRequestGuard.class);
    /** Netty's request-stream validation handler (package-private there), or null when Netty has none by that name. */
    private static final Class<? extends ChannelHandler> VALIDATOR = validatorClass();
    private static final AtomicBoolean WARNED = new AtomicBoolean();

    /** Netty's validation handler: events fired from its context go to the handler after it. */
    private final ChannelHandlerContext validator;

    private Http3AnsweredRequestGuard(ChannelHandlerContext validator) {
        this.validator = validator;
    }

    /**
     * Puts the guard in front of Netty's request-stream validation handler of {@code pipeline}, once the session has
     * abandoned the rest of the request (not for every stream: each handler of a stream's pipeline costs every h3
     * request its set-up, removal and walks).
     */
    static void install(ChannelPipeline pipeline) {
        // By class, a walk of the contexts (iterating the pipeline would copy it into a map)
        ChannelHandlerContext validator = VALIDATOR == null ? null : pipeline.context(VALIDATOR);
        if (validator != null) {
            if (pipeline.get(Http3AnsweredRequestGuard.class) == null) {
                pipeline.addBefore(validator.name(), "h3-answered", new Http3AnsweredRequestGuard(validator));
            }
            return;
        }
        if (WARNED.compareAndSet(false, true)) {
            LOG.warn("Netty's HTTP/3 request stream validation handler not found (Netty's internals differ): a request "
                    + "answered before its body ended may be reset after its complete response");
        }
    }

    private static Class<? extends ChannelHandler> validatorClass() {
        try {
            return Class.forName("io.netty.handler.codec.http3.Http3RequestStreamValidationHandler")
                    .asSubclass(ChannelHandler.class);
        } catch (ClassNotFoundException | ClassCastException e) {
            return null;
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof Http3DataFrame) {
            validator.fireChannelRead(msg); // past the content-length count: the session drops it
            return;
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt == ChannelInputShutdownReadComplete.INSTANCE) {
            validator.fireUserEventTriggered(evt); // past the content-length check at the end of input
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }
}
