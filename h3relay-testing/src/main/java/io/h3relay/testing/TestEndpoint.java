package io.h3relay.testing;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An HTTP/1.1 endpoint for integration tests: listens on 127.0.0.1 on a free port, answers by path
 * (see {@link TestEndpointHandler} for the behaviours) and records every request it receives.
 *
 * <p>Each endpoint owns one event loop thread; every connection and every body it streams lives on
 * it. {@link #stop()} and {@link #restart()} simulate an endpoint going down and coming back on the
 * same port, so tests can exercise health checks and retries.
 */
public final class TestEndpoint implements AutoCloseable {

  private static final AtomicInteger NEXT_ID = new AtomicInteger(1);

  private final String name;
  private final SslContext sslContext;
  // Off for long-running standalone use (benchmarks): the request list would grow without bound.
  private final boolean recording;
  private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private final ChannelGroup connections = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
  private final AtomicInteger requestCount = new AtomicInteger();
  private final AtomicInteger connectionCount = new AtomicInteger();
  private final List<RecordedRequest> requests = new CopyOnWriteArrayList<>();
  private volatile Channel listener;
  private volatile int port;
  private volatile int forcedStatus;

  private TestEndpoint(String name, SslContext sslContext) {
    this(name, sslContext, true);
  }

  private TestEndpoint(String name, SslContext sslContext, boolean recording) {
    this.name = name;
    this.sslContext = sslContext;
    this.recording = recording;
  }

  /** Starts a plain HTTP/1.1 endpoint named {@code endpoint-N}. */
  public static TestEndpoint start() {
    return start("endpoint-" + NEXT_ID.getAndIncrement());
  }

  /** Starts a plain HTTP/1.1 endpoint; {@code name} appears in {@code x-endpoint} headers. */
  public static TestEndpoint start(String name) {
    return new TestEndpoint(name, null).bind(0);
  }

  /**
   * Starts a plain HTTP/1.1 endpoint on {@code port} (0 = a free port) that counts requests but does
   * not record them, so it can run for millions of requests: {@link #requests()} stays empty. Used by
   * {@link TestEndpointMain} for benchmarks.
   */
  public static TestEndpoint startUnrecorded(String name, int port) {
    return new TestEndpoint(name, null, false).bind(port);
  }

  /** Starts an HTTP/1.1-over-TLS endpoint serving the leaf certificate of {@code certs}. */
  public static TestEndpoint startTls(TestCertificates certs) {
    return startTls("endpoint-" + NEXT_ID.getAndIncrement(), certs, false);
  }

  /**
   * Starts an HTTP/1.1-over-TLS endpoint; with {@code requireClientCert} the handshake fails unless
   * the client presents a certificate signed by the CA of {@code certs}.
   */
  public static TestEndpoint startTls(String name, TestCertificates certs, boolean requireClientCert) {
    return new TestEndpoint(name, TlsSupport.serverContext(certs, requireClientCert)).bind(0);
  }

  private TestEndpoint bind(int wanted) {
    ServerBootstrap bootstrap = new ServerBootstrap()
        .group(group)
        .channel(NioServerSocketChannel.class)
        // restart() binds the same port while old connections may sit in TIME_WAIT.
        .option(ChannelOption.SO_REUSEADDR, true)
        // Larger than the default mark so a 100 MiB transfer is not a syscall per 16 KiB chunk.
        .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(128 * 1024, 512 * 1024))
        .childHandler(new TestEndpointInitializer(this, sslContext));
    try {
      listener = bootstrap.bind(new InetSocketAddress("127.0.0.1", wanted)).sync().channel();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while binding " + name, e);
    } catch (RuntimeException e) {
      if (wanted == 0) {
        group.shutdownGracefully(0, 0, TimeUnit.SECONDS);
      }
      throw e;
    }
    port = ((InetSocketAddress) listener.localAddress()).getPort();
    return this;
  }

  public String name() {
    return name;
  }

  public int port() {
    return port;
  }

  /** {@code "127.0.0.1:PORT"}, the form endpoint addresses take in relay config. */
  public String address() {
    return "127.0.0.1:" + port;
  }

  public InetSocketAddress socketAddress() {
    return new InetSocketAddress("127.0.0.1", port);
  }

  public boolean tls() {
    return sslContext != null;
  }

  /** {@code http://127.0.0.1:PORT} or {@code https://…}, with no trailing slash. */
  public String baseUrl() {
    return (tls() ? "https://" : "http://") + address();
  }

  /** Requests whose headers arrived, including ones answered by closing (e.g. {@code /reset}). */
  public int requestCount() {
    return requestCount.get();
  }

  /** Connections accepted since start, across {@link #restart()}s. */
  public int connectionCount() {
    return connectionCount.get();
  }

  /** Recorded requests in completion order; a request is recorded once its body fully arrived. */
  public List<RecordedRequest> requests() {
    return List.copyOf(requests);
  }

  /** The most recently recorded request, or {@code null} if none yet. */
  public RecordedRequest lastRequest() {
    return requests.isEmpty() ? null : requests.getLast();
  }

  public boolean isRunning() {
    Channel l = listener;
    return l != null && l.isOpen();
  }

  /**
   * Answers every request, whatever its path, with {@code status} and a short text body ({@code 0}: back to
   * normal): an endpoint that is up but failing, for outlier detection and status retries.
   */
  public void forceStatus(int status) {
    this.forcedStatus = status;
  }

  int forcedStatus() {
    return forcedStatus;
  }

  /** Closes the listening socket and every open connection; connects are refused until restart. */
  public void stop() {
    Channel l = listener;
    if (l != null) {
      l.close().syncUninterruptibly();
      listener = null;
    }
    connections.close().awaitUninterruptibly();
  }

  /** Binds the same port again after {@link #stop()}. */
  public void restart() {
    if (isRunning()) {
      throw new IllegalStateException(name + " is running");
    }
    bind(port);
  }

  @Override
  public void close() {
    stop();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  /** Same as {@link BodyPattern#sha256Hex(long)}: the sha-256 of {@code /bytes?n=N}. */
  public static String expectedSha256(long n) {
    return BodyPattern.sha256Hex(n);
  }

  @Override
  public String toString() {
    return "TestEndpoint[" + name + " " + baseUrl() + "]";
  }

  // Callbacks from the per-connection pipeline, on the event loop.

  int onConnection(Channel channel) {
    connections.add(channel);
    return connectionCount.incrementAndGet();
  }

  void onRequestHeaders() {
    requestCount.incrementAndGet();
  }

  void onRequestComplete(RecordedRequest request) {
    if (recording) {
      requests.add(request);
    }
  }
}
