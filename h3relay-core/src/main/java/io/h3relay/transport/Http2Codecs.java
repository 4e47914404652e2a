package io.h3relay.transport;

import io.netty.handler.codec.http2.DefaultHttp2Connection;
import io.netty.handler.codec.http2.DefaultHttp2RemoteFlowController;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.WeightedFairQueueByteDistributor;

/**
 * Netty's {@code Http2FrameCodecBuilder} with one change to how the DATA of concurrent streams is cut into frames.
 *
 * <p>The remote flow controller shares the bytes it may write in one go (the connection window and the channel's
 * room below its write-buffer high-water mark) among the streams with queued DATA; its default distributor hands
 * each stream {@value #NETTY_DEFAULT_QUANTUM} bytes per turn. With many streams answering at once (100 streams of 64
 * KiB responses on one connection) every DATA frame was about 1 KiB: 63 frames for a 64 KiB response where HAProxy
 * sends 5, and each frame has its own header buffer, data slice, promise aggregator and listener, and is copied
 * into the TLS record by the {@code SslHandler}'s coalescing queue in small pieces. Here each stream is handed
 * {@value #QUANTUM} bytes (one frame at the default SETTINGS_MAX_FRAME_SIZE) per turn: frames as large as the
 * peer allows, still shared fairly among the streams by weight.
 */
public final class Http2Codecs {
    /** Netty's default allocation quantum ({@code WeightedFairQueueByteDistributor}). */
    static final int NETTY_DEFAULT_QUANTUM = 1024;
    /** Bytes a stream gets per turn of the distributor: one frame of the default maximum size. */
    public static final int QUANTUM = Http2CodecUtil.DEFAULT_MAX_FRAME_SIZE;
    // Measurement switch (issue 19): -Dh3relay.h2.allocationQuantum=1024 puts Netty's default back in one JVM,
    // for paired runs of one build (bench/regress.sh --this-tree --base-opts).
    private static final int CONFIGURED_QUANTUM = Integer.getInteger("h3relay.h2.allocationQuantum", QUANTUM);

    private Http2Codecs() {
    }

    /** A server-side frame codec builder (the listeners). */
    public static Http2FrameCodecBuilder forServer() {
        return new Builder(true);
    }

    /** A client-side frame codec builder (h2 upstream connections). */
    public static Http2FrameCodecBuilder forClient() {
        return new Builder(false);
    }

    /** The quantum in effect (the switch above, else {@link #QUANTUM}). */
    public static int allocationQuantum() {
        return Math.max(1, CONFIGURED_QUANTUM);
    }

    private static final class Builder extends Http2FrameCodecBuilder {
        Builder(boolean server) {
            // The side comes with the connection (the builder refuses both server() and connection()).
            DefaultHttp2Connection connection = new DefaultHttp2Connection(server, maxReservedStreams());
            WeightedFairQueueByteDistributor distributor = new WeightedFairQueueByteDistributor(connection);
            distributor.allocationQuantum(allocationQuantum());
            connection.remote().flowController(new DefaultHttp2RemoteFlowController(connection, distributor));
            connection(connection);
        }
    }
}
