package io.h3relay.testing;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.http3.DefaultHttp3DataFrame;
import io.netty.handler.codec.http3.DefaultHttp3GoAwayFrame;
import io.netty.handler.codec.http3.DefaultHttp3Headers;
import io.netty.handler.codec.http3.DefaultHttp3HeadersFrame;
import io.netty.handler.codec.http3.Http3;
import io.netty.handler.codec.http3.Http3DataFrame;
import io.netty.handler.codec.http3.Http3ErrorCode;
import io.netty.handler.codec.http3.Http3Headers;
import io.netty.handler.codec.http3.Http3HeadersFrame;
import io.netty.handler.codec.http3.Http3ServerConnectionHandler;
import io.netty.handler.codec.http3.Http3UnknownFrame;
import io.netty.handler.codec.quic.DefaultQuicStreamFrame;
import io.netty.handler.codec.quic.InsecureQuicTokenHandler;
import io.netty.handler.codec.quic.QLogConfiguration;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicChannelOption;
import io.netty.handler.codec.quic.QuicSslContext;
import io.netty.handler.codec.quic.QuicSslContextBuilder;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An HTTP/3 endpoint for tests of h3 upstreams, on Netty's QUIC server codec (127.0.0.1, UDP port 0, the
 * certificate of a {@link TestCertificates}): it can do what a well-behaved h3relay listener never does on
 * demand, so that a client's handling of it can be tested. Each response says which connection and stream
 * carried it ({@code x-connection}, {@code x-stream}). Paths: {@code /delay/MS}, an empty 200 after MS
 * milliseconds; {@code /echo}, the request body back; anything else, 200 with body {@code ok}.
 * <ul>
 *   <li>{@link #refuseNext}: the next request streams are reset with H3_REQUEST_REJECTED (RFC 9114 §8.1:
 *       nothing of them was processed);</li>
 *   <li>{@link #goAway}: GOAWAY on every connection, with the id of the stream after the last one received
 *       (streams in flight complete); a stream at or above that id is then rejected, as RFC 9114 §5.2 lets
 *       a server do;</li>
 *   <li>a QUIC idle timeout of its own ({@code idleTimeoutMillis}): a client that sends nothing for that
 *       long loses the connection, unless it keeps it alive;</li>
 *   <li>{@link #keepAlivesReceived}: reserved (greasing) frames received on clients' control streams.</li>
 * </ul>
 */
public final class Http3TestEndpoint implements AutoCloseable {
  private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private final Channel server;
  private final List<QuicChannel> connections = new CopyOnWriteArrayList<>();
  private final Map<QuicChannel, Integer> connectionIds = new ConcurrentHashMap<>();
  /** Per connection: the GOAWAY id sent (streams at or above it are rejected). */
  private final Map<QuicChannel, Long> goAwayIds = new ConcurrentHashMap<>();
  /** Per connection: the highest request stream id received. */
  private final Map<QuicChannel, Long> lastStreamIds = new ConcurrentHashMap<>();
  private final AtomicInteger accepted = new AtomicInteger();
  private final AtomicInteger streams = new AtomicInteger();
  private final AtomicInteger refuse = new AtomicInteger();
  private final AtomicInteger refused = new AtomicInteger();
  private final AtomicInteger rejectedAfterGoAway = new AtomicInteger();
  private final AtomicInteger keepAlives = new AtomicInteger();

  private Http3TestEndpoint(TestCertificates certs, long idleTimeoutMillis, java.nio.file.Path qlogDir) {
    QuicSslContext tls = QuicSslContextBuilder.forServer(certs.leafKey(), null, certs.leafChain())
        .applicationProtocols(Http3.supportedApplicationProtocols())
        .build();
    ChannelHandler codec = Http3.newQuicServerCodecBuilder()
        .sslContext(tls)
        .maxIdleTimeout(idleTimeoutMillis, TimeUnit.MILLISECONDS)
        .initialMaxData(16 << 20)
        .initialMaxStreamDataBidirectionalLocal(1 << 20)
        .initialMaxStreamDataBidirectionalRemote(1 << 20)
        .initialMaxStreamDataUnidirectional(1 << 20)
        .initialMaxStreamsBidirectional(100)
        .initialMaxStreamsUnidirectional(16)
        .tokenHandler(InsecureQuicTokenHandler.INSTANCE)
        .option(QuicChannelOption.QLOG,
            qlogDir == null ? null : new QLogConfiguration(qlogDir.toString(), "endpoint", ""))
        .handler(new ChannelInitializer<QuicChannel>() {
          @Override
          protected void initChannel(QuicChannel ch) {
            connectionIds.put(ch, accepted.incrementAndGet());
            connections.add(ch);
            ch.closeFuture().addListener(f -> connections.remove(ch));
            ch.pipeline().addLast(new Http3ServerConnectionHandler(new ChannelInitializer<QuicStreamChannel>() {
              @Override
              protected void initChannel(QuicStreamChannel s) {
                s.pipeline().addLast(new RequestHandler(ch));
              }
            }, new ControlFrames(), null, null, true));
          }
        })
        .build();
    this.server = new Bootstrap().group(group).channel(NioDatagramChannel.class).handler(codec)
        .bind(new InetSocketAddress("127.0.0.1", 0)).syncUninterruptibly().channel();
  }

  /** An endpoint whose QUIC idle timeout is {@code idleTimeoutMillis}. */
  public static Http3TestEndpoint start(TestCertificates certs, long idleTimeoutMillis) {
    return new Http3TestEndpoint(certs, idleTimeoutMillis, null);
  }

  /**
   * An endpoint that writes quiche's qlog of each connection into the folder {@code qlogDir} (complete once the
   * connection closed).
   */
  public static Http3TestEndpoint startWithQlog(TestCertificates certs, java.nio.file.Path qlogDir) {
    return new Http3TestEndpoint(certs, 30_000, qlogDir);
  }

  /** An endpoint with a QUIC idle timeout of 30 s. */
  public static Http3TestEndpoint start(TestCertificates certs) {
    return start(certs, 30_000);
  }

  public int port() {
    return ((InetSocketAddress) server.localAddress()).getPort();
  }

  /** QUIC connections accepted so far. */
  public int connectionsAccepted() {
    return accepted.get();
  }

  /** QUIC connections open now. */
  public int openConnections() {
    return connections.size();
  }

  /** Request streams received so far, refused and rejected ones included. */
  public int streams() {
    return streams.get();
  }

  /** Streams reset with H3_REQUEST_REJECTED by {@link #refuseNext}. */
  public int refusedStreams() {
    return refused.get();
  }

  /** Streams rejected because they arrived on a connection after its GOAWAY, at or above its id. */
  public int rejectedAfterGoAway() {
    return rejectedAfterGoAway.get();
  }

  /** Reserved frame types (RFC 9114 §7.2.8) received on clients' control streams. */
  public int keepAlivesReceived() {
    return keepAlives.get();
  }

  /** The next {@code n} request streams are reset with H3_REQUEST_REJECTED instead of answered. */
  public void refuseNext(int n) {
    refuse.set(n);
  }

  /** GOAWAY on every open connection: streams received so far complete, later ones are rejected. */
  public void goAway() {
    for (QuicChannel c : connections) {
      c.eventLoop().execute(() -> {
        long last = lastStreamIds.getOrDefault(c, -4L);
        long id = last + 4;
        goAwayIds.put(c, id);
        QuicStreamChannel control = Http3.getLocalControlStream(c);
        if (control != null) {
          control.writeAndFlush(new DefaultHttp3GoAwayFrame(id));
        }
      });
    }
  }

  @Override
  public void close() {
    for (QuicChannel c : connections) {
      c.close();
    }
    server.close().syncUninterruptibly();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  /** Counts the reserved frames a client sends on its control stream (its keep-alive). */
  private final class ControlFrames extends ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof Http3UnknownFrame) {
        keepAlives.incrementAndGet();
      }
      ReferenceCountUtil.release(msg);
    }

    @Override
    public boolean isSharable() {
      return true;
    }
  }

  /** An HTTP/3 DATA frame of no bytes: type 0, length 0 (RFC 9114 §7.2.1). */
  private static final byte[] EMPTY_DATA_FRAME = {0, 0};

  private final class RequestHandler extends ChannelInboundHandlerAdapter {
    private final QuicChannel connection;
    private boolean echo;
    private boolean ignore;

    RequestHandler(QuicChannel connection) {
      this.connection = connection;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      try {
        if (ignore) {
          return;
        }
        QuicStreamChannel stream = (QuicStreamChannel) ctx.channel();
        if (msg instanceof Http3HeadersFrame h && !echo) {
          onRequest(ctx, stream, h.headers());
        } else if (msg instanceof Http3DataFrame d && echo) {
          ctx.writeAndFlush(new DefaultHttp3DataFrame(d.content().retain()));
        }
      } finally {
        ReferenceCountUtil.release(msg);
      }
    }

    private void onRequest(ChannelHandlerContext ctx, QuicStreamChannel stream, Http3Headers request) {
      int n = streams.incrementAndGet();
      long id = stream.streamId();
      lastStreamIds.merge(connection, id, Math::max);
      Long goAwayId = goAwayIds.get(connection);
      if (goAwayId != null && id >= goAwayId) {
        ignore = true;
        rejectedAfterGoAway.incrementAndGet();
        stream.shutdownOutput((int) Http3ErrorCode.H3_REQUEST_REJECTED.code());
        return;
      }
      if (refuse.getAndUpdate(v -> Math.max(0, v - 1)) > 0) {
        ignore = true;
        refused.incrementAndGet();
        stream.shutdownOutput((int) Http3ErrorCode.H3_REQUEST_REJECTED.code());
        return;
      }
      String path = String.valueOf(request.path());
      Http3Headers head = new DefaultHttp3Headers().status("200")
          .add("x-connection", String.valueOf(connectionIds.get(connection)))
          .add("x-stream", String.valueOf(n));
      if (path.startsWith("/echo")) {
        echo = true;
        ctx.writeAndFlush(new DefaultHttp3HeadersFrame(head));
      } else if (path.startsWith("/delay/")) {
        long ms = Long.parseLong(path.substring(7));
        ctx.executor().schedule(() -> {
          // written outside a read, the head leaves at once: the FIN goes on an empty DATA frame (see end())
          ctx.write(new DefaultHttp3HeadersFrame(head));
          end(ctx);
        }, ms, TimeUnit.MILLISECONDS);
      } else {
        ctx.write(new DefaultHttp3HeadersFrame(head));
        ctx.writeAndFlush(new DefaultHttp3DataFrame(Unpooled.copiedBuffer("ok", StandardCharsets.US_ASCII)))
            .addListener(QuicStreamChannel.SHUTDOWN_OUTPUT);
      }
    }

    /**
     * Ends the response with an empty DATA frame that carries the FIN, written past Netty's HTTP/3 codec as one
     * QUIC stream write (after the frames written before: Netty's stream keeps its writes in order). A bare
     * shutdownOutput() after the last bytes had left is a STREAM frame with no bytes and the FIN; quiche (Netty
     * 4.2.18's) never sends such a frame again when its packet is lost once the bytes before it are acknowledged,
     * and the proxy waited for the end of the response until the connection's idle timeout (TransportsTest's hang
     * under the full suite, seen in this endpoint's qlog).
     */
    private void end(ChannelHandlerContext ctx) {
      ctx.pipeline().firstContext().writeAndFlush(
          new DefaultQuicStreamFrame(Unpooled.wrappedBuffer(EMPTY_DATA_FRAME), true));
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof io.netty.channel.socket.ChannelInputShutdownEvent && echo) {
        end(ctx);
      }
      ReferenceCountUtil.release(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }
}
