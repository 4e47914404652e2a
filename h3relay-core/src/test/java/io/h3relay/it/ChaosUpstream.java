package io.h3relay.it;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * An HTTP/1.1 endpoint that misbehaves on purpose, on a bare socket (a thread per connection), by path:
 * <ul>
 *   <li>{@code /ok}: 200, {@code Content-Length: 5}, {@code hello} (the control)</li>
 *   <li>{@code /stall}: a head declaring 100 bytes, 10 of them, then nothing (the socket stays open)</li>
 *   <li>{@code /stall-head}: nothing at all</li>
 *   <li>{@code /reset}: TCP reset (SO_LINGER 0) as soon as the head is read</li>
 *   <li>{@code /garbage}: bytes that are not HTTP</li>
 *   <li>{@code /short}: {@code Content-Length: 1000}, 500 bytes, close</li>
 *   <li>{@code /long}: {@code Content-Length: 5}, then {@code hello} and more bytes on the same write</li>
 *   <li>{@code /mid-chunk}: chunked, a chunk of 10 cut after 5 bytes, close</li>
 *   <li>{@code /bad-chunk}: chunked, a chunk size {@code zz}</li>
 *   <li>{@code /1xx}: one 103 Early Hints, then 200 {@code hello}</li>
 *   <li>{@code /1xx-some}: 50 interim responses (100 Continue), then 200 {@code hello}</li>
 *   <li>{@code /1xx-storm}: 10,000 interim responses (100 Continue), then 200 {@code hello}</li>
 *   <li>{@code /1xx-forever}: interim responses until the peer goes away</li>
 * </ul>
 */
final class ChaosUpstream implements AutoCloseable {
    private final ServerSocket server;
    private final CopyOnWriteArrayList<Socket> sockets = new CopyOnWriteArrayList<>();
    private volatile boolean closed;

    private ChaosUpstream() throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread.ofPlatform().daemon().name("chaos-accept").start(this::acceptLoop);
    }

    static ChaosUpstream start() {
        try {
            return new ChaosUpstream();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    String address() {
        return "127.0.0.1:" + server.getLocalPort();
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                Socket s = server.accept();
                sockets.add(s);
                Thread.ofPlatform().daemon().name("chaos-conn").start(() -> serve(s));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket s) {
        try (s) {
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            while (!closed) {
                String line = RawHttp1.readLine(in);
                if (line == null) {
                    return;
                }
                long length = 0;
                for (String h = RawHttp1.readLine(in); h != null && !h.isEmpty(); h = RawHttp1.readLine(in)) {
                    if (h.toLowerCase().startsWith("content-length:")) {
                        length = Long.parseLong(h.substring(15).trim());
                    }
                }
                in.readNBytes((int) length);
                String path = line.split(" ")[1];
                if (!answer(s, out, path)) {
                    return;
                }
            }
        } catch (IOException e) {
            // the proxy went away: fine
        }
    }

    /** False: the connection ends after this answer. */
    private boolean answer(Socket s, OutputStream out, String path) throws IOException {
        switch (path) {
            case "/ok" -> {
                write(out, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
                return true;
            }
            case "/stall" -> {
                write(out, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789");
                return holdOpen(s);
            }
            case "/stall-head" -> {
                return holdOpen(s);
            }
            case "/reset" -> {
                s.setSoLinger(true, 0);
                return false;
            }
            case "/garbage" -> {
                write(out, "\u0000\u0001\u0002 this is not http \r\n\r\n\u00ff\u00fe");
                return false;
            }
            case "/short" -> {
                write(out, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + "x".repeat(500));
                return false;
            }
            case "/long" -> {
                write(out, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nsmuggled");
                return holdOpen(s);
            }
            case "/mid-chunk" -> {
                write(out, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\na\r\n01234");
                return false;
            }
            case "/bad-chunk" -> {
                write(out, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n");
                return false;
            }
            case "/1xx" -> {
                write(out, "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
                        + "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
                return true;
            }
            case "/1xx-some" -> {
                write(out, "HTTP/1.1 100 Continue\r\n\r\n".repeat(50) + "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
                return true;
            }
            case "/1xx-storm" -> {
                byte[] interim = "HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
                for (int i = 0; i < 10_000; i++) {
                    out.write(interim);
                }
                write(out, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
                return true;
            }
            case "/1xx-forever" -> {
                byte[] interim = "HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
                for (int i = 0; i < 10_000_000 && !closed; i++) {
                    out.write(interim); // ends with an IOException once the proxy closes
                }
                return false;
            }
            default -> {
                write(out, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
                return true;
            }
        }
    }

    private boolean holdOpen(Socket s) throws IOException {
        // Until the proxy closes its side (or this endpoint closes).
        while (!closed && s.getInputStream().read() >= 0) {
            // discard
        }
        return false;
    }

    private static void write(OutputStream out, String text) throws IOException {
        out.write(text.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
            for (Socket s : sockets) {
                s.close();
            }
        } catch (IOException e) {
            // closing anyway
        }
    }
}
