package io.h3relay.testing;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerExpectContinueHandler;
import io.netty.handler.ssl.SslContext;

/** Builds the pipeline of one accepted connection: [TLS] → HTTP/1.1 codec → 100-continue → handler. */
final class TestEndpointInitializer extends ChannelInitializer<SocketChannel> {

  private final TestEndpoint endpoint;
  private final SslContext sslContext;

  TestEndpointInitializer(TestEndpoint endpoint, SslContext sslContext) {
    this.endpoint = endpoint;
    this.sslContext = sslContext;
  }

  @Override
  protected void initChannel(SocketChannel ch) {
    int connection = endpoint.onConnection(ch);
    addTlsHandler(ch);
    addHttpHandlers(ch);
    ch.pipeline().addLast("endpoint", new TestEndpointHandler(endpoint, connection));
  }

  private void addTlsHandler(SocketChannel ch) {
    if (sslContext != null) {
      ch.pipeline().addLast("tls", sslContext.newHandler(ch.alloc()));
    }
  }

  private static void addHttpHandlers(SocketChannel ch) {
    // No aggregator: bodies arrive and leave as chunks, so uploads of any size use bounded memory.
    // Heads up to 64 KiB (Netty's default is 8 KiB): the client tests send large heads through the proxy.
    ch.pipeline().addLast("http", new HttpServerCodec(new HttpDecoderConfig().setMaxHeaderSize(64 * 1024)));
    // curl sends "Expect: 100-continue" for large uploads and would otherwise wait a second.
    ch.pipeline().addLast("continue", new HttpServerExpectContinueHandler());
  }
}
