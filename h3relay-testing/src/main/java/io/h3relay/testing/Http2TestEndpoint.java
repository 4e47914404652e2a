package io.h3relay.testing;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2GoAwayFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An HTTP/2 endpoint for tests of h2 upstreams: TLS with ALPN h2 ({@link #startTls}) or h2c by prior
 * knowledge ({@link #startH2c}), on 127.0.0.1 port 0, on Netty's frame codec (no HttpObject adapter, so
 * what arrives is what the proxy framed). Each response says which connection and stream carried it
 * ({@code x-connection}, {@code x-stream}) and what the request looked like ({@code x-seen-authority},
 * {@code x-seen-scheme}, {@code x-seen-te}, {@code x-seen-path}). Paths:
 * <ul>
 *   <li>{@code /echo...}: the request body streamed back as it arrives; request trailers come back as
 *       response trailers (plus {@code x-echo-trailers: n});</li>
 *   <li>{@code /delay/MS}: an empty 200 after MS milliseconds;</li>
 *   <li>{@code /status/NNN...}: status NNN with a small text body (not a gRPC response);</li>
 *   <li>{@code /big/N}: N bytes of {@link BodyPattern}, written as the stream's window allows;
 *       {@link #bytesSent()} tells how far it got;</li>
 *   <li>anything else: 200 with body {@code ok}.</li>
 * </ul>
 * {@link #refuseNext} answers the next streams with RST_STREAM REFUSED_STREAM; {@link #goAway} sends GOAWAY
 * on every connection (streams in flight complete).
 */
public final class Http2TestEndpoint implements AutoCloseable {
  private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private final Channel server;
  private final int maxConcurrentStreams;
  private final List<Channel> connections = new CopyOnWriteArrayList<>();
  private final AtomicInteger streams = new AtomicInteger();
  private final AtomicInteger refuse = new AtomicInteger();
  private final AtomicInteger refused = new AtomicInteger();
  private final AtomicInteger resetsReceived = new AtomicInteger();
  private final AtomicLong bytesSent = new AtomicLong();
  private final AtomicInteger pings = new AtomicInteger();
  private final Map<Channel, Integer> connectionIds = new ConcurrentHashMap<>();

  private Http2TestEndpoint(SslContext tls, int maxConcurrentStreams) {
    this.maxConcurrentStreams = maxConcurrentStreams;
    ServerBootstrap b = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            connectionIds.put(ch, connectionIds.size() + 1);
            connections.add(ch);
            ch.closeFuture().addListener(f -> connections.remove(ch));
            if (tls != null) {
              ch.pipeline().addLast(tls.newHandler(ch.alloc()));
            }
            Http2Settings settings = Http2Settings.defaultSettings().maxConcurrentStreams(maxConcurrentStreams)
                .initialWindowSize(256 * 1024);
            ch.pipeline().addLast(Http2FrameCodecBuilder.forServer().initialSettings(settings).build());
            ch.pipeline().addLast(new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
              @Override
              protected void initChannel(Http2StreamChannel s) {
                s.pipeline().addLast(new StreamHandler(connectionIds.get(ch)));
              }
            }));
            ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
              @Override
              public void channelRead(ChannelHandlerContext ctx, Object msg) {
                if (msg instanceof io.netty.handler.codec.http2.Http2PingFrame p && !p.ack()) {
                  pings.incrementAndGet(); // the codec has answered it already
                }
                ReferenceCountUtil.release(msg);
              }
            });
          }
        });
    this.server = b.bind(new InetSocketAddress("127.0.0.1", 0)).syncUninterruptibly().channel();
  }

  /** h2 over TLS (ALPN h2 only) with the certificate of {@code certs}. */
  public static Http2TestEndpoint startTls(TestCertificates certs, int maxConcurrentStreams) {
    try {
      SslContext ctx = SslContextBuilder.forServer(certs.leafKey(), certs.leafChain())
          .sslProvider(SslProvider.JDK)
          .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
              ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
              ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, "h2"))
          .build();
      return new Http2TestEndpoint(ctx, maxConcurrentStreams);
    } catch (javax.net.ssl.SSLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** h2c by prior knowledge. */
  public static Http2TestEndpoint startH2c(int maxConcurrentStreams) {
    return new Http2TestEndpoint(null, maxConcurrentStreams);
  }

  public String address() {
    return "127.0.0.1:" + port();
  }

  public int port() {
    return ((InetSocketAddress) server.localAddress()).getPort();
  }

  /** Connections accepted so far. */
  public int connectionsAccepted() {
    return connectionIds.size();
  }

  /** Connections open now. */
  public int openConnections() {
    return connections.size();
  }

  /** Streams (requests) received so far, refused ones included. */
  public int streams() {
    return streams.get();
  }

  public int refusedStreams() {
    return refused.get();
  }

  /** RST_STREAM frames received from the client. */
  public int resetsReceived() {
    return resetsReceived.get();
  }

  /** PING frames received (not acknowledgements). */
  public int pingsReceived() {
    return pings.get();
  }

  /** Body bytes written by {@code /big} responses so far. */
  public long bytesSent() {
    return bytesSent.get();
  }

  /** The next {@code n} streams get RST_STREAM REFUSED_STREAM instead of a response. */
  public void refuseNext(int n) {
    refuse.set(n);
  }

  /** GOAWAY (NO_ERROR) with the highest stream id seen on each connection: streams in flight complete. */
  public void goAway() {
    for (Channel c : connections) {
      c.eventLoop().execute(() -> c.writeAndFlush(new DefaultHttp2GoAwayFrame(Http2Error.NO_ERROR)));
    }
  }

  @Override
  public void close() {
    server.close().syncUninterruptibly();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  private final class StreamHandler extends ChannelInboundHandlerAdapter {
    private final int connection;
    private String path;
    private Http2Headers request;
    private boolean echo;
    private boolean refusedThis;
    private long bigLeft;
    private ChannelHandlerContext ctx;

    StreamHandler(int connection) {
      this.connection = connection;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      this.ctx = ctx;
      try {
        if (refusedThis) {
          return;
        }
        if (msg instanceof Http2HeadersFrame h && request == null) {
          onRequest(ctx, h);
        } else if (msg instanceof Http2HeadersFrame trailers) {
          if (echo) {
            Http2Headers out = new DefaultHttp2Headers();
            trailers.headers().forEach(e -> out.add(e.getKey(), e.getValue()));
            out.add("x-echo-trailers", String.valueOf(trailers.headers().size()));
            ctx.writeAndFlush(new DefaultHttp2HeadersFrame(out, true));
          }
        } else if (msg instanceof Http2DataFrame d) {
          if (echo) {
            boolean end = d.isEndStream();
            ctx.writeAndFlush(new DefaultHttp2DataFrame(d.content().retain(), end));
          }
        }
      } finally {
        ReferenceCountUtil.release(msg);
      }
    }

    private void onRequest(ChannelHandlerContext ctx, Http2HeadersFrame h) {
      request = h.headers();
      int n = streams.incrementAndGet();
      if (refuse.getAndUpdate(v -> Math.max(0, v - 1)) > 0) {
        refusedThis = true;
        refused.incrementAndGet();
        ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.REFUSED_STREAM));
        return;
      }
      path = String.valueOf(request.path());
      Http2Headers head = new DefaultHttp2Headers().status("200")
          .add("x-connection", String.valueOf(connection))
          .add("x-stream", String.valueOf(n))
          .add("x-seen-authority", String.valueOf(request.authority()))
          .add("x-seen-scheme", String.valueOf(request.scheme()))
          .add("x-seen-path", path)
          .add("x-seen-te", String.valueOf(request.get("te")));
      if (path.startsWith("/echo")) {
        echo = true;
        ctx.writeAndFlush(new DefaultHttp2HeadersFrame(head, false));
        if (h.isEndStream()) {
          ctx.writeAndFlush(new DefaultHttp2DataFrame(true));
        }
      } else if (path.startsWith("/delay/")) {
        long ms = Long.parseLong(path.substring(7));
        ctx.executor().schedule(() -> {
          ctx.writeAndFlush(new DefaultHttp2HeadersFrame(head, true));
        }, ms, TimeUnit.MILLISECONDS);
      } else if (path.startsWith("/status/")) {
        head.status(path.substring(8, 11)).add("content-type", "text/plain");
        ctx.writeAndFlush(new DefaultHttp2HeadersFrame(head, false));
        ctx.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.copiedBuffer("nope", java.nio.charset.StandardCharsets.US_ASCII), true));
      } else if (path.startsWith("/big/")) {
        bigLeft = Long.parseLong(path.substring(5));
        ctx.writeAndFlush(new DefaultHttp2HeadersFrame(head.add("content-length", String.valueOf(bigLeft)), false));
        writeBig();
      } else {
        ctx.writeAndFlush(new DefaultHttp2HeadersFrame(head, false));
        ctx.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.copiedBuffer("ok", java.nio.charset.StandardCharsets.US_ASCII), true));
      }
    }

    private long offset;

    /** Writes while the stream's window allows; resumes on writability. */
    private void writeBig() {
      while (bigLeft > 0 && ctx.channel().isWritable()) {
        int n = (int) Math.min(16 * 1024, bigLeft);
        ByteBuf chunk = ctx.alloc().buffer(n);
        BodyPattern.write(chunk, offset, n);
        offset += n;
        bigLeft -= n;
        bytesSent.addAndGet(n);
        ctx.write(new DefaultHttp2DataFrame(chunk, bigLeft == 0));
      }
      ctx.flush();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      if (bigLeft > 0 && ctx.channel().isWritable()) {
        writeBig();
      }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof Http2ResetFrame) {
        resetsReceived.incrementAndGet();
        bigLeft = 0;
      }
      ReferenceCountUtil.release(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }
}
