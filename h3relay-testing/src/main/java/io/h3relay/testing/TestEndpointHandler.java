package io.h3relay.testing;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.ReferenceCountUtil;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads requests of one connection, records them, and answers by path. The paths:
 *
 * <pre>
 *   /echo                        request body streamed back as it arrives; see {@link EndpointResponses#echoHead}
 *   /headers                     JSON: endpoint, method, uri, headers (lowercase names, in order)
 *   /bytes?n=N[&amp;chunked=1]        N bytes of {@link BodyPattern}, content-length (or chunked)
 *   /slow?chunks=K&amp;interval=MS&amp;size=S   chunked; K chunks of S bytes, one every MS ms
 *   /sse?events=N&amp;interval=MS[&amp;buffering=no]   text/event-stream, N events "id: I / data: SENT_MICROS"
 *   /delay?ms=MS                 "ok" after MS ms
 *   /status/CODE                 that status with a small body
 *   /reset                       no response: TCP RST as soon as the request headers arrive
 *   /close-mid-body?n=N&amp;after=M[&amp;chunked=1]  announces N bytes, sends M, closes the connection
 *   /sink                        JSON {"bytes":N,"sha256":"…"} of the request body, after all of it
 *   /trailers                    chunked body followed by trailers x-trailer-a: 1, x-trailer-b: two
 *   /count                       the requests this endpoint has seen (this one too), for benchmarks' slices
 *   anything else                "endpoint NAME"
 * </pre>
 *
 * Every response carries {@code x-endpoint: NAME}. Except for /echo and /reset, the answer starts
 * only after the whole request body arrived, which keeps keep-alive simple and correct.
 *
 * <p>Backpressure, both directions: response bodies are written by a {@link BodyStreamer} that
 * pauses while the channel is not writable; while echoing, reading stops (auto-read off) whenever
 * the echoed bytes fill the outbound buffer and resumes on writability.
 */
final class TestEndpointHandler extends ChannelInboundHandlerAdapter {

  private static final Logger LOG = LoggerFactory.getLogger(TestEndpointHandler.class);

  private final TestEndpoint endpoint;
  private final int connection;

  // The request being read; null between requests.
  private HttpRequest request;
  private MessageDigest digest;
  private long bodyLength;
  private boolean echoing;
  private boolean echoChunked;
  // Set once the connection is being torn down on purpose; later input is dropped.
  private boolean discarding;

  // The response body being written, if any; resumed when the channel becomes writable.
  private BodyStreamer streamer;

  TestEndpointHandler(TestEndpoint endpoint, int connection) {
    this.endpoint = endpoint;
    this.connection = connection;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    try {
      if (discarding) {
        return;
      }
      // A message can be both (a full request), so both checks run in order.
      if (msg instanceof HttpRequest req) {
        onRequestHeaders(ctx, req);
      }
      if (msg instanceof HttpContent content && request != null) {
        onRequestContent(ctx, content);
      }
    } finally {
      ReferenceCountUtil.release(msg);
    }
  }

  private void onRequestHeaders(ChannelHandlerContext ctx, HttpRequest req) {
    if (req.decoderResult().isFailure()) {
      discarding = true;
      EndpointResponses.full(ctx, endpoint.name(), HttpResponseStatus.BAD_REQUEST, "text/plain",
          "bad request\n", false);
      return;
    }
    endpoint.onRequestHeaders();
    request = req;
    digest = BodyPattern.sha256();
    bodyLength = 0;
    streamer = null;
    String path = endpoint.forcedStatus() != 0 ? "(forced)" : new QueryStringDecoder(req.uri()).path();
    switch (path) {
      case "/reset" -> reset(ctx);
      case "/echo" -> {
        echoing = true;
        echoChunked = EndpointResponses.echoHead(ctx, endpoint.name(), req);
      }
      default -> { }
    }
  }

  private void reset(ChannelHandlerContext ctx) {
    endpoint.onRequestComplete(record(LastHttpContent.EMPTY_LAST_CONTENT.trailingHeaders()));
    discarding = true;
    request = null;
    // Linger 0 makes close() send RST instead of FIN: the client sees "connection reset".
    ctx.channel().config().setOption(ChannelOption.SO_LINGER, 0);
    ctx.close();
  }

  private void onRequestContent(ChannelHandlerContext ctx, HttpContent content) {
    ByteBuf data = content.content();
    bodyLength += data.readableBytes();
    for (ByteBuffer b : data.nioBuffers()) {
      digest.update(b);
    }
    if (content instanceof LastHttpContent last) {
      HttpRequest req = request;
      boolean echoed = echoing;
      RecordedRequest recorded = record(last.trailingHeaders());
      request = null;
      echoing = false;
      endpoint.onRequestComplete(recorded);
      boolean keepAlive = HttpUtil.isKeepAlive(req);
      int forced = endpoint.forcedStatus();
      if (forced != 0 && !echoed) { // (an echo that began before the status was forced goes on)
        EndpointResponses.full(ctx, endpoint.name(), HttpResponseStatus.valueOf(forced), "text/plain",
            "forced status " + forced, keepAlive);
      } else if (echoed) {
        finishEcho(ctx, data, last.trailingHeaders(), keepAlive);
      } else if ("/count".equals(new QueryStringDecoder(req.uri()).path())) {
        EndpointResponses.full(ctx, endpoint.name(), HttpResponseStatus.OK, "text/plain",
            endpoint.requestCount() + "\n", keepAlive);
      } else {
        streamer = EndpointResponses.respond(ctx, endpoint.name(), req, recorded, keepAlive);
      }
    } else if (echoing && data.isReadable()) {
      ctx.writeAndFlush(new DefaultHttpContent(data.retain()));
      if (!ctx.channel().isWritable()) {
        ctx.channel().config().setAutoRead(false);
      }
    }
  }

  private void finishEcho(ChannelHandlerContext ctx, ByteBuf data, HttpHeaders trailers, boolean keepAlive) {
    LastHttpContent last = new DefaultLastHttpContent(data.retain());
    // Trailers only exist in chunked framing; with content-length the encoder would drop them.
    if (echoChunked) {
      last.trailingHeaders().set(trailers);
    }
    EndpointResponses.end(ctx, ctx.writeAndFlush(last), keepAlive);
  }

  private RecordedRequest record(HttpHeaders trailers) {
    return new RecordedRequest(connection, request.method().name(), request.uri(),
        pairs(request.headers()), bodyLength, HexFormat.of().formatHex(digest.digest()), pairs(trailers));
  }

  private static List<Map.Entry<String, String>> pairs(HttpHeaders headers) {
    List<Map.Entry<String, String>> out = new ArrayList<>(headers.size());
    headers.forEach(e -> out.add(Map.entry(e.getKey(), e.getValue())));
    return out;
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (ctx.channel().isWritable()) {
      if (streamer != null) {
        streamer.pump();
      }
      if (!ctx.channel().config().isAutoRead()) {
        ctx.channel().config().setAutoRead(true);
      }
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    // Clients in these tests reset and abandon connections on purpose; nothing here is a failure.
    LOG.debug("{} closing connection {}", endpoint.name(), connection, cause);
    ctx.close();
  }
}
