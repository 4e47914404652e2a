package io.h3relay.it;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An HTTP/1.1 endpoint on a bare socket that records every request head it parses, in the order it
 * parses them, so a smuggling test can count what really arrived. It frames bodies itself, by the
 * head's Content-Length or chunked Transfer-Encoding, the way a lenient origin behind the proxy would:
 * whatever bytes follow a body are parsed as the next request on that connection. A second request hidden
 * in a body, or framing the proxy and this endpoint read differently, shows up as an extra head here.
 * Bytes it cannot parse are recorded as such and end the connection.
 *
 * <p>Each request is answered {@code 200} with the body {@code upstream <n>: <request line>}.
 */
final class RecordingUpstream implements AutoCloseable {
    /** One parsed request: the head's lines (request line first) and the body as framed by this endpoint. */
    record Request(List<String> head, String body) {
        String requestLine() {
            return head.get(0);
        }

        /** The first value of {@code name}, case-insensitive, or null. */
        String header(String name) {
            for (int i = 1; i < head.size(); i++) {
                String line = head.get(i);
                int colon = line.indexOf(':');
                if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase(name)) {
                    return line.substring(colon + 1).trim();
                }
            }
            return null;
        }
    }

    private final ServerSocket server;
    private final List<Request> requests = new CopyOnWriteArrayList<>();
    private final List<String> garbage = new CopyOnWriteArrayList<>();
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final AtomicInteger inProgress = new AtomicInteger();

    private RecordingUpstream() throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().name("recording-upstream-accept").start(this::acceptLoop);
    }

    static RecordingUpstream start() {
        try {
            return new RecordingUpstream();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    String address() {
        return "127.0.0.1:" + server.getLocalPort();
    }

    /** Every request parsed so far, on every connection. */
    List<Request> requests() {
        return List.copyOf(requests);
    }

    int requestCount() {
        return requests.size();
    }

    /** Bytes that did not parse as a request (each entry: what was left on that connection, as text). */
    List<String> garbage() {
        return List.copyOf(garbage);
    }

    /**
     * Connections in the middle of a request: its head started and it is neither answered nor closed. A
     * request the proxy gave up on must not stay here (a half-sent request left on an open connection).
     */
    int inProgress() {
        return inProgress.get();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                sockets.add(s);
                Thread.ofVirtual().name("recording-upstream-conn").start(() -> serve(s));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket s) {
        try (s) {
            s.setSoTimeout(30_000);
            InputStream in = new BufferedInputStream(s.getInputStream());
            OutputStream out = s.getOutputStream();
            while (true) {
                String line = RawHttp1.readLine(in);
                if (line == null) {
                    return;
                }
                inProgress.incrementAndGet();
                try {
                    if (!serveOne(in, out, line)) {
                        return;
                    }
                } finally {
                    inProgress.decrementAndGet();
                }
            }
        } catch (IOException e) {
            // the proxy closed or reset the connection: what was parsed is recorded
        }
    }

    /** One request whose first line is {@code line}; false when the connection cannot go on. */
    private boolean serveOne(InputStream in, OutputStream out, String line) throws IOException {
        List<String> head = new ArrayList<>();
        while (line != null && !line.isEmpty()) {
            head.add(line);
            line = RawHttp1.readLine(in);
        }
        if (line == null || !head.get(0).matches("[A-Z]+ \\S+ HTTP/1\\.[01]")) {
            garbage.add(String.join("\n", head));
            return false;
        }
        String body = readBody(in, head);
        if (body == null) {
            garbage.add("unframed body after " + head.get(0));
            return false;
        }
        Request r = new Request(List.copyOf(head), body);
        requests.add(r);
        byte[] answer = ("upstream " + requests.size() + ": " + r.requestLine())
                .getBytes(StandardCharsets.ISO_8859_1);
        out.write(("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + answer.length
                + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
        out.write(answer);
        out.flush();
        return true;
    }

    /** The body framed the lenient way; null when the framing cannot be read. */
    private static String readBody(InputStream in, List<String> headLines) throws IOException {
        Request h = new Request(headLines, "");
        String te = h.header("transfer-encoding");
        String cl = h.header("content-length");
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        if (te != null && te.toLowerCase(Locale.ROOT).contains("chunked")) {
            while (true) {
                String sizeLine = RawHttp1.readLine(in);
                if (sizeLine == null) {
                    return null;
                }
                int size;
                try {
                    size = Integer.parseInt(sizeLine.split(";")[0].trim(), 16);
                } catch (NumberFormatException e) {
                    return null;
                }
                if (size == 0) {
                    String trailer;
                    while ((trailer = RawHttp1.readLine(in)) != null && !trailer.isEmpty()) {
                        // trailers
                    }
                    return body.toString(StandardCharsets.ISO_8859_1);
                }
                byte[] data = in.readNBytes(size);
                body.write(data);
                if (data.length < size || RawHttp1.readLine(in) == null) {
                    return null;
                }
            }
        }
        if (cl != null) {
            int n;
            try {
                n = Integer.parseInt(cl);
            } catch (NumberFormatException e) {
                return null;
            }
            byte[] data = in.readNBytes(n);
            return data.length < n ? null : new String(data, StandardCharsets.ISO_8859_1);
        }
        return "";
    }

    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException ignored) {
            // closing a test socket
        }
        for (Socket s : sockets) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing a test socket
            }
        }
    }
}
