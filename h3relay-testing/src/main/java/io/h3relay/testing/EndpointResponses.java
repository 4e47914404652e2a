package io.h3relay.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The per-path answers of {@link TestEndpointHandler}, once a request has fully arrived. All run on
 * the connection's event loop; timed behaviours use its scheduler, never a sleeping thread.
 */
final class EndpointResponses {

  private EndpointResponses() {}

  /**
   * Answers {@code req}; returns the body streamer if the body is still being written, so the
   * handler can resume it on writability.
   */
  static BodyStreamer respond(ChannelHandlerContext ctx, String name, HttpRequest req,
      RecordedRequest recorded, boolean keepAlive) {
    QueryStringDecoder query = new QueryStringDecoder(req.uri());
    String path = query.path();
    switch (path) {
      case "/bytes" -> {
        return bytes(ctx, name, query, keepAlive);
      }
      case "/close-mid-body" -> {
        return closeMidBody(ctx, name, query, keepAlive);
      }
      case "/slow" -> slow(ctx, name, query, keepAlive);
      case "/sse" -> sse(ctx, name, query, keepAlive);
      case "/delay" -> ctx.executor().schedule(
          () -> full(ctx, name, HttpResponseStatus.OK, "text/plain", "ok", keepAlive),
          param(query, "ms", 100), TimeUnit.MILLISECONDS);
      case "/sink" -> full(ctx, name, HttpResponseStatus.OK, "application/json",
          "{\"bytes\":" + recorded.bodyLength() + ",\"sha256\":\"" + recorded.bodySha256() + "\"}", keepAlive);
      case "/headers" -> full(ctx, name, HttpResponseStatus.OK, "application/json",
          headersJson(name, recorded), keepAlive);
      case "/trailers" -> trailers(ctx, name, keepAlive);
      default -> {
        if (path.startsWith("/status/")) {
          status(ctx, name, path.substring("/status/".length()), keepAlive);
        } else {
          full(ctx, name, HttpResponseStatus.OK, "text/plain", "endpoint " + name, keepAlive);
        }
      }
    }
    return null;
  }

  /**
   * Writes the /echo response head: {@code x-echo-method}, {@code x-echo-uri}, and every request
   * header as {@code x-echo-h-<lowercase name>} (repeated for repeated headers). The body keeps the
   * request's framing: content-length if it had one, chunked otherwise. Returns true if chunked.
   */
  static boolean echoHead(ChannelHandlerContext ctx, String name, HttpRequest req) {
    HttpResponse head = head(name, HttpResponseStatus.OK);
    head.headers().set("x-echo-method", req.method().name());
    head.headers().set("x-echo-uri", req.uri());
    req.headers().forEach(e -> head.headers().add("x-echo-h-" + e.getKey().toLowerCase(Locale.ROOT), e.getValue()));
    String type = req.headers().get(HttpHeaderNames.CONTENT_TYPE, "application/octet-stream");
    head.headers().set(HttpHeaderNames.CONTENT_TYPE, type);
    HttpUtil.setKeepAlive(head, HttpUtil.isKeepAlive(req));
    boolean chunked = !HttpUtil.isContentLengthSet(req);
    if (chunked) {
      HttpUtil.setTransferEncodingChunked(head, true);
    } else {
      HttpUtil.setContentLength(head, HttpUtil.getContentLength(req, 0L));
    }
    ctx.writeAndFlush(head);
    return chunked;
  }

  private static BodyStreamer bytes(ChannelHandlerContext ctx, String name, QueryStringDecoder query,
      boolean keepAlive) {
    long n = param(query, "n", 0);
    HttpResponse head = streamingHead(name, n, flag(query, "chunked"), keepAlive);
    ctx.writeAndFlush(head);
    BodyStreamer streamer = new BodyStreamer(ctx, n,
        () -> end(ctx, ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT), keepAlive));
    streamer.pump();
    return streamer;
  }

  private static BodyStreamer closeMidBody(ChannelHandlerContext ctx, String name, QueryStringDecoder query,
      boolean keepAlive) {
    long n = param(query, "n", 1024);
    long after = Math.min(param(query, "after", n / 2), n);
    // The head is framed as usual, so the close comes as a surprise to the client.
    ctx.writeAndFlush(streamingHead(name, n, flag(query, "chunked"), keepAlive));
    // close() would drop writes still queued, so close once an empty write behind them completes.
    BodyStreamer streamer = new BodyStreamer(ctx, after,
        () -> ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE));
    streamer.pump();
    return streamer;
  }

  private static void slow(ChannelHandlerContext ctx, String name, QueryStringDecoder query, boolean keepAlive) {
    long chunks = param(query, "chunks", 5);
    long interval = param(query, "interval", 100);
    int size = (int) Math.min(param(query, "size", 1024), 1024 * 1024);
    ctx.writeAndFlush(streamingHead(name, 0, true, keepAlive));
    scheduleSlowChunk(ctx, 0, chunks, interval, size, keepAlive);
  }

  /**
   * Server-Sent Events: {@code events} events, one every {@code interval} ms, each
   * {@code id: I\ndata: SENT_MICROS\n\n} with the wall-clock time it left in microseconds since the epoch,
   * so a client measures each event's delay. {@code buffering=no} adds {@code X-Accel-Buffering: no}.
   */
  private static void sse(ChannelHandlerContext ctx, String name, QueryStringDecoder query, boolean keepAlive) {
    long events = param(query, "events", 10);
    long interval = param(query, "interval", 200);
    HttpResponse head = streamingHead(name, 0, true, keepAlive);
    head.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream").set(HttpHeaderNames.CACHE_CONTROL, "no-cache");
    List<String> buffering = query.parameters().get("buffering");
    if (buffering != null) {
      head.headers().set("x-accel-buffering", buffering.get(0));
    }
    ctx.writeAndFlush(head);
    scheduleEvent(ctx, 0, events, interval, keepAlive);
  }

  private static void scheduleEvent(ChannelHandlerContext ctx, long sent, long events, long interval, boolean keepAlive) {
    if (sent >= events) {
      end(ctx, ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT), keepAlive);
      return;
    }
    ctx.executor().schedule(() -> {
      if (!ctx.channel().isActive()) {
        return;
      }
      java.time.Instant now = java.time.Instant.now();
      long micros = now.getEpochSecond() * 1_000_000 + now.getNano() / 1_000;
      String event = "id: " + sent + "\ndata: " + micros + "\n\n";
      ctx.writeAndFlush(new DefaultHttpContent(Unpooled.copiedBuffer(event, java.nio.charset.StandardCharsets.UTF_8)));
      scheduleEvent(ctx, sent + 1, events, interval, keepAlive);
    }, interval, TimeUnit.MILLISECONDS);
  }

  // Headers go out at once; chunk i leaves (i + 1) * interval ms later; the last chunk ends the body.
  private static void scheduleSlowChunk(ChannelHandlerContext ctx, long sent, long chunks, long interval,
      int size, boolean keepAlive) {
    if (sent >= chunks) {
      end(ctx, ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT), keepAlive);
      return;
    }
    ctx.executor().schedule(() -> {
      if (!ctx.channel().isActive()) {
        return;
      }
      ByteBuf buf = ctx.alloc().buffer(size);
      BodyPattern.write(buf, sent * size, size);
      ctx.writeAndFlush(new DefaultHttpContent(buf));
      scheduleSlowChunk(ctx, sent + 1, chunks, interval, size, keepAlive);
    }, interval, TimeUnit.MILLISECONDS);
  }

  private static void status(ChannelHandlerContext ctx, String name, String code, boolean keepAlive) {
    int status;
    try {
      status = Integer.parseInt(code);
    } catch (NumberFormatException e) {
      status = -1;
    }
    if (status < 200 || status > 999) {
      full(ctx, name, HttpResponseStatus.BAD_REQUEST, "text/plain", "bad status " + code + "\n", keepAlive);
      return;
    }
    // 204 and 304 must not carry a body.
    String body = status == 204 || status == 304 ? "" : "status " + status + "\n";
    full(ctx, name, HttpResponseStatus.valueOf(status), "text/plain", body, keepAlive);
  }

  private static void trailers(ChannelHandlerContext ctx, String name, boolean keepAlive) {
    ctx.write(streamingHead(name, 0, true, keepAlive));
    ctx.write(new DefaultHttpContent(Unpooled.copiedBuffer("body with trailers\n", StandardCharsets.UTF_8)));
    LastHttpContent last = new DefaultLastHttpContent();
    last.trailingHeaders().add("x-trailer-a", "1").add("x-trailer-b", "two");
    end(ctx, ctx.writeAndFlush(last), keepAlive);
  }

  private static String headersJson(String name, RecordedRequest recorded) {
    StringBuilder json = new StringBuilder(256).append("{\"endpoint\":").append(Json.quote(name))
        .append(",\"method\":").append(Json.quote(recorded.method()))
        .append(",\"uri\":").append(Json.quote(recorded.uri()))
        .append(",\"headers\":[");
    List<Map.Entry<String, String>> headers = recorded.headers();
    for (int i = 0; i < headers.size(); i++) {
      json.append(i == 0 ? "[" : ",[")
          .append(Json.quote(headers.get(i).getKey().toLowerCase(Locale.ROOT))).append(',')
          .append(Json.quote(headers.get(i).getValue())).append(']');
    }
    return json.append("]}").toString();
  }

  /** A complete response with a small body. */
  static void full(ChannelHandlerContext ctx, String name, HttpResponseStatus status, String type,
      String body, boolean keepAlive) {
    if (!ctx.channel().isActive()) {
      return;
    }
    FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
        Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
    response.headers().set("x-endpoint", name);
    response.headers().set(HttpHeaderNames.CONTENT_TYPE, type);
    HttpUtil.setContentLength(response, response.content().readableBytes());
    HttpUtil.setKeepAlive(response, keepAlive);
    end(ctx, ctx.writeAndFlush(response), keepAlive);
  }

  /** Closes the connection after the response's last write unless it is kept alive. */
  static void end(ChannelHandlerContext ctx, ChannelFuture lastWrite, boolean keepAlive) {
    if (!keepAlive) {
      lastWrite.addListener(ChannelFutureListener.CLOSE);
    }
  }

  private static HttpResponse streamingHead(String name, long length, boolean chunked, boolean keepAlive) {
    HttpResponse head = head(name, HttpResponseStatus.OK);
    // "connection: close" when the request asked for it, so a client pool never reuses this one.
    HttpUtil.setKeepAlive(head, keepAlive);
    head.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/octet-stream");
    if (chunked) {
      HttpUtil.setTransferEncodingChunked(head, true);
    } else {
      HttpUtil.setContentLength(head, length);
    }
    return head;
  }

  private static HttpResponse head(String name, HttpResponseStatus status) {
    HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, status);
    head.headers().set("x-endpoint", name);
    return head;
  }

  private static long param(QueryStringDecoder query, String key, long fallback) {
    List<String> values = query.parameters().get(key);
    if (values == null || values.isEmpty()) {
      return fallback;
    }
    try {
      return Math.max(0, Long.parseLong(values.getFirst()));
    } catch (NumberFormatException e) {
      return fallback;
    }
  }

  private static boolean flag(QueryStringDecoder query, String key) {
    List<String> values = query.parameters().get(key);
    return values != null && !values.isEmpty() && ("1".equals(values.getFirst()) || "true".equals(values.getFirst()));
  }
}
