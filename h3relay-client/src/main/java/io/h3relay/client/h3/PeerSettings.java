package io.h3relay.client.h3;

import io.h3relay.client.ErrorKind;
import io.h3relay.client.RequestFailure;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http3.Http3SettingsFrame;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;

/**
 * Sits on the server's control stream and keeps what its SETTINGS frame allows: here the largest
 * request head (SETTINGS_MAX_FIELD_SECTION_SIZE; unlimited when absent) and whether extended CONNECT is
 * allowed (SETTINGS_ENABLE_CONNECT_PROTOCOL). Netty's encoder does not check
 * it, and a server sent a larger head closes the whole connection, so the client checks before sending.
 * Runs on the connection's event loop.
 */
final class PeerSettings extends ChannelInboundHandlerAdapter {
    private long maxFieldSectionSize = Long.MAX_VALUE;
    private boolean connectProtocolEnabled;
    private Promise<Void> received;
    private boolean seen;

    long maxFieldSectionSize() {
        return maxFieldSectionSize;
    }

    /** SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 9220): the server takes extended CONNECT (WebSockets). */
    boolean connectProtocolEnabled() {
        return connectProtocolEnabled;
    }

    /** Completes when the server's SETTINGS frame has arrived; fails if the connection closes first. */
    Future<Void> received(QuicChannel quic) {
        received = quic.eventLoop().newPromise();
        if (seen) {
            received.setSuccess(null);
        }
        quic.closeFuture().addListener(f -> received.tryFailure(
                new RequestFailure(ErrorKind.CLOSED, "the connection closed before the server's HTTP/3 SETTINGS arrived")));
        return received;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof Http3SettingsFrame settings) {
            maxFieldSectionSize = settings.getOrDefault(Http3SettingsFrame.HTTP3_SETTINGS_MAX_FIELD_SECTION_SIZE,
                    Long.MAX_VALUE);
            connectProtocolEnabled = settings.getOrDefault(Http3SettingsFrame.HTTP3_SETTINGS_ENABLE_CONNECT_PROTOCOL, 0) == 1;
            seen = true;
            if (received != null) {
                received.trySuccess(null);
            }
        }
        ctx.fireChannelRead(msg);
    }
}
