package io.h3relay.cli;

import io.h3relay.client.Protocol;
import io.h3relay.client.RequestFailure;
import io.h3relay.client.RequestSpec;
import io.h3relay.client.ResponseListener;
import io.netty.buffer.ByteBuf;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * Prints one response of {@code h3relay request}: the head (with {@code -i} to the output, with
 * {@code -v} to stderr, curl's {@code <} style) and the body as it streams in. Runs on the connection's
 * event loop; writing the body there blocks the loop, which is what holds the server back when the
 * output is slow (the only stream on this connection, so nothing else waits).
 */
final class RequestPrinter implements ResponseListener {
    private final OutputStream out;
    private final boolean include;
    private final PrintStream verbose;
    private final Protocol protocol;
    private final CountDownLatch done = new CountDownLatch(1);
    private volatile HeaderList headers;
    private volatile long headAt;
    private volatile RequestFailure failure;
    private volatile IOException writeError;
    private volatile int status;
    private volatile List<Map.Entry<String, String>> trailers = List.of();
    /** With --grpc: the body is gRPC frames, written as messages (see {@link GrpcMessages}); else null. */
    private final GrpcMessages grpc;

    RequestPrinter(OutputStream out, boolean include, PrintStream verbose, Protocol protocol, GrpcMessages grpc) {
        this.out = out;
        this.include = include;
        this.verbose = verbose;
        this.protocol = protocol;
        this.grpc = grpc;
    }

    GrpcMessages grpc() {
        return grpc;
    }

    int status() {
        return status;
    }

    HeaderList headers() {
        return headers;
    }

    List<Map.Entry<String, String>> trailers() {
        return trailers;
    }

    void printRequest(RequestSpec spec) {
        if (verbose == null) {
            return;
        }
        verbose.println("> " + spec.method() + " " + spec.target().pathAndQuery() + " " + protocol.display());
        verbose.println("> host: " + spec.target().authority());
        for (Map.Entry<String, String> h : spec.headers()) {
            verbose.println("> " + h.getKey() + ": " + h.getValue());
        }
        if (spec.bodyLength() > 0) {
            verbose.println("> content-length: " + spec.bodyLength());
        }
        verbose.println(">");
        verbose.flush();
    }

    CountDownLatch done() {
        return done;
    }

    RequestFailure failure() {
        return failure;
    }

    IOException writeError() {
        return writeError;
    }

    long headAt() {
        return headAt;
    }

    String header(String name) {
        return headers == null ? null : headers.get(name);
    }

    @Override
    public void onHead(int status, HeaderList headers) {
        headAt = System.nanoTime();
        this.status = status;
        this.headers = headers;
        StringBuilder head = new StringBuilder(protocol.display()).append(' ').append(status).append("\r\n");
        for (Map.Entry<String, String> h : headers.all()) {
            head.append(h.getKey()).append(": ").append(h.getValue()).append("\r\n");
        }
        if (verbose != null) {
            head.toString().lines().forEach(l -> verbose.println("< " + l));
            verbose.println("<");
            verbose.flush();
        }
        if (include) {
            write(head.append("\r\n").toString().getBytes(StandardCharsets.UTF_8));
        }
    }

    @Override
    public void onData(ByteBuf data) {
        byte[] bytes = new byte[data.readableBytes()];
        data.getBytes(data.readerIndex(), bytes);
        if (grpc != null) {
            bytes = grpc.feed(bytes);
            if (bytes.length == 0) {
                return;
            }
        }
        write(bytes);
    }

    @Override
    public void onComplete(List<Map.Entry<String, String>> trailers) {
        this.trailers = trailers;
        if (verbose != null) {
            trailers.forEach(t -> verbose.println("< (trailer) " + t.getKey() + ": " + t.getValue()));
        }
        try {
            out.flush();
        } catch (IOException e) {
            writeError = e;
        }
        done.countDown();
    }

    @Override
    public void onFailure(RequestFailure f) {
        failure = f;
        done.countDown();
    }

    private void write(byte[] bytes) {
        if (writeError != null) {
            return;
        }
        try {
            out.write(bytes);
        } catch (IOException e) {
            writeError = e;
        }
    }
}
