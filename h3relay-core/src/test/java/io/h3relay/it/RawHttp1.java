package io.h3relay.it;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * An HTTP/1.1 client on a bare socket, for what real clients refuse to send: conflicting framing,
 * folded headers, half-sent heads. It writes bytes exactly as given and reads one response at a time
 * (Content-Length or chunked), so a test can check both the answer and whether the connection closed.
 */
final class RawHttp1 implements AutoCloseable {
    private static final Duration READ_TIMEOUT = Duration.ofSeconds(10);

    private final Socket socket;
    private final InputStream in;

    private RawHttp1(Socket socket) throws IOException {
        this.socket = socket;
        socket.setSoTimeout((int) READ_TIMEOUT.toMillis());
        this.in = socket.getInputStream();
    }

    /** A cleartext connection to the {@code plain} listener (h1 + h2c). */
    static RawHttp1 plain(RelayHarness relay) {
        try {
            Socket s = new Socket();
            s.connect(new InetSocketAddress("127.0.0.1", relay.plainPort()), 5000);
            return new RawHttp1(s);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A TLS connection (ALPN http/1.1) to the {@code tls} listener. */
    static RawHttp1 tls(RelayHarness relay) {
        try {
            SSLSocket s = (SSLSocket) RelayHarness.certs().trustingSslContext().getSocketFactory()
                    .createSocket("localhost", relay.tlsPort());
            SSLParameters params = s.getSSLParameters();
            params.setApplicationProtocols(new String[] {"http/1.1"});
            s.setSSLParameters(params);
            s.startHandshake();
            return new RawHttp1(s);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Either listener, by name: {@code "plain"} or {@code "tls"}. */
    static RawHttp1 open(RelayHarness relay, String listener) {
        return "tls".equals(listener) ? tls(relay) : plain(relay);
    }

    /** Writes {@code text} (ISO-8859-1) as is, CR and LF included, and flushes. */
    RawHttp1 send(String text) {
        try {
            socket.getOutputStream().write(text.getBytes(StandardCharsets.ISO_8859_1));
            socket.getOutputStream().flush();
            return this;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** One response as read off the wire; {@code status} 0 means the connection ended before any. */
    record Response(int status, Map<String, String> headers, String body) {
        String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }

        /** The {@code error.code} of the JSON envelope, or null. */
        String errorCode() {
            return Envelope.code(body);
        }
    }

    /** Reads one response (after any 1xx), or returns status 0 if the connection ends first. */
    Response readResponse() {
        try {
            while (true) {
                String statusLine = readLine();
                if (statusLine == null) {
                    return new Response(0, Map.of(), "");
                }
                int status = Integer.parseInt(statusLine.split(" ")[1]);
                Map<String, String> headers = new LinkedHashMap<>();
                String line;
                while ((line = readLine()) != null && !line.isEmpty()) {
                    int colon = line.indexOf(':');
                    headers.merge(line.substring(0, colon).trim().toLowerCase(Locale.ROOT),
                            line.substring(colon + 1).trim(), (a, b) -> a + ", " + b);
                }
                if (status < 200) {
                    continue;
                }
                return new Response(status, headers, readBody(headers));
            }
        } catch (SocketException e) {
            return new Response(0, Map.of(), ""); // reset before a response
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private String readBody(Map<String, String> headers) throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
            int size;
            while ((size = Integer.parseInt(readLine().split(";")[0].trim(), 16)) > 0) {
                body.write(in.readNBytes(size));
                readLine();
            }
            while (!readLine().isEmpty()) {
                // trailers
            }
        } else if (headers.containsKey("content-length")) {
            body.write(in.readNBytes(Integer.parseInt(headers.get("content-length"))));
        }
        return body.toString(StandardCharsets.UTF_8);
    }

    /**
     * True if the proxy closed the connection within {@code within}: a read sees EOF or a reset.
     * Any bytes that arrive first are skipped.
     */
    boolean closedWithin(Duration within) {
        long deadline = System.nanoTime() + within.toNanos();
        try {
            while (true) {
                long left = (deadline - System.nanoTime()) / 1_000_000;
                if (left <= 0) {
                    return false;
                }
                socket.setSoTimeout((int) Math.max(1, left));
                if (in.read() < 0) {
                    return true;
                }
            }
        } catch (SocketTimeoutException e) {
            return false;
        } catch (SocketException e) {
            return true; // reset
        } catch (IOException e) {
            return true;
        }
    }

    private String readLine() throws IOException {
        return readLine(in);
    }

    /** One line, its CRLF (or bare LF) removed; null at the end of the stream with nothing read. */
    static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) >= 0) {
            if (b == '\n') {
                String s = line.toString(StandardCharsets.ISO_8859_1);
                return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
            }
            line.write(b);
        }
        return line.size() == 0 ? null : line.toString(StandardCharsets.ISO_8859_1);
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing a test socket
        }
    }
}
