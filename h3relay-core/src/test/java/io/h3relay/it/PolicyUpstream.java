package io.h3relay.it;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An HTTP/1.1 endpoint (the JDK's own server, not ours) whose responses the policy tests shape by query:
 * {@code /gen?n=N&type=T&cc=CC&etag=E&lm=LM&vary=V&ce=CE&chunked=1&delay=MS&status=S&seed=X} answers N bytes of
 * compressible text (seeded) with those headers; an {@code If-None-Match} matching {@code etag} (or, without an
 * etag, an {@code If-Modified-Since} equal to {@code lm}) gets 304.
 * {@code /big?n=N} streams N bytes in 64 KiB chunks and holds the last one until {@link #releaseLast} (a
 * response that cannot be buffered whole by anyone before the client read most of it). Counts requests
 * per path (without query) and records the request headers of each.
 */
final class PolicyUpstream implements AutoCloseable {
    private final HttpServer server;
    private final Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> completed = new ConcurrentHashMap<>();
    final List<Map<String, List<String>>> requestHeaders = new CopyOnWriteArrayList<>();
    volatile CountDownLatch lastChunk = new CountDownLatch(1);

    PolicyUpstream() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
        server.setExecutor(Executors.newFixedThreadPool(16, r -> {
            Thread t = new Thread(r, "policy-upstream");
            t.setDaemon(true);
            return t;
        }));
        server.createContext("/", this::handle);
        server.start();
    }

    String address() {
        return "127.0.0.1:" + server.getAddress().getPort();
    }

    int count(String path) {
        AtomicInteger c = counts.get(path);
        return c == null ? 0 : c.get();
    }

    /** Requests to {@code path} whose response was fully written. */
    int completed(String path) {
        AtomicInteger c = completed.get(path);
        return c == null ? 0 : c.get();
    }

    void releaseLast() {
        lastChunk.countDown();
    }

    /** N bytes of text that compresses about 3-4x (words drawn at random), the same for the same seed. */
    static byte[] text(int n, long seed) {
        String[] words = {"alpha ", "beta ", "gamma ", "delta ", "proxy ", "quic ", "stream ", "header\n",
                "compression ", "cache ", "h3relay ", "edge "};
        Random r = new Random(seed);
        byte[] out = new byte[n];
        int i = 0;
        while (i < n) {
            byte[] w = words[r.nextInt(words.length)].getBytes(StandardCharsets.US_ASCII);
            int k = Math.min(w.length, n - i);
            System.arraycopy(w, 0, out, i, k);
            i += k;
        }
        return out;
    }

    private void handle(HttpExchange ex) throws IOException {
        try {
            respond(ex);
        } finally {
            ex.close();
            completed.computeIfAbsent(ex.getRequestURI().getPath(), p -> new AtomicInteger()).incrementAndGet();
        }
    }

    private void respond(HttpExchange ex) throws IOException {
        {
            URI uri = ex.getRequestURI();
            String path = uri.getPath();
            counts.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
            requestHeaders.add(lower(ex.getRequestHeaders()));
            Map<String, String> q = query(uri.getRawQuery());
            if (path.startsWith("/big")) {
                if (q.containsKey("cc")) {
                    ex.getResponseHeaders().set("Cache-Control", q.get("cc"));
                }
                big(ex, Long.parseLong(q.getOrDefault("n", "0")));
                return;
            }
            if (q.containsKey("delay")) {
                sleep(Long.parseLong(q.get("delay")));
            }
            int n = Integer.parseInt(q.getOrDefault("n", "0"));
            var h = ex.getResponseHeaders();
            h.set("Content-Type", q.getOrDefault("type", "text/plain; charset=utf-8"));
            for (String[] kv : new String[][] {{"cc", "Cache-Control"}, {"etag", "ETag"}, {"lm", "Last-Modified"},
                    {"vary", "Vary"}, {"ce", "Content-Encoding"}, {"cookie", "Set-Cookie"}, {"expires", "Expires"}, {"age", "Age"}}) {
                if (q.containsKey(kv[0])) {
                    h.set(kv[1], q.get(kv[0]));
                }
            }
            String etag = q.get("etag");
            String inm = ex.getRequestHeaders().getFirst("If-None-Match");
            String lm = q.get("lm");
            String ims = ex.getRequestHeaders().getFirst("If-Modified-Since");
            if ((etag != null && etag.equals(inm)) || (etag == null && lm != null && lm.equals(ims))) {
                ex.sendResponseHeaders(304, -1);
                return;
            }
            int status = Integer.parseInt(q.getOrDefault("status", "200"));
            String range = ex.getRequestHeaders().getFirst("Range");
            byte[] body = text(n, Long.parseLong(q.getOrDefault("seed", "1")));
            if (status == 204 || status == 304 || "HEAD".equals(ex.getRequestMethod())) {
                ex.sendResponseHeaders(status, -1);
                return;
            }
            if (range != null && range.startsWith("bytes=0-") && n > 10) {
                h.set("Content-Range", "bytes 0-9/" + n);
                ex.sendResponseHeaders(206, 10);
                ex.getResponseBody().write(body, 0, 10);
                return;
            }
            boolean chunked = q.containsKey("chunked");
            ex.sendResponseHeaders(status, chunked ? 0 : (n == 0 ? -1 : n));
            OutputStream out = ex.getResponseBody();
            if (chunked) {
                for (int off = 0; off < n; off += 4096) {
                    out.write(body, off, Math.min(4096, n - off));
                    out.flush();
                }
            } else if (n > 0) {
                out.write(body);
            }
        }
    }

    private void big(HttpExchange ex, long n) throws IOException {
        ex.getResponseHeaders().set("Content-Type", "text/plain");
        ex.sendResponseHeaders(200, n);
        byte[] chunk = text(64 * 1024, 99);
        OutputStream out = ex.getResponseBody();
        long sent = 0;
        while (sent < n) {
            int k = (int) Math.min(chunk.length, n - sent);
            if (sent + k == n) {
                out.flush();
                try {
                    if (!lastChunk.await(60, TimeUnit.SECONDS)) {
                        return;
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
            out.write(chunk, 0, k);
            sent += k;
        }
    }

    private static Map<String, List<String>> lower(com.sun.net.httpserver.Headers h) {
        Map<String, List<String>> m = new HashMap<>();
        h.forEach((k, v) -> m.put(k.toLowerCase(java.util.Locale.ROOT), List.copyOf(v)));
        return m;
    }

    private static Map<String, String> query(String raw) {
        Map<String, String> m = new HashMap<>();
        if (raw == null) {
            return m;
        }
        for (String kv : raw.split("&")) {
            int eq = kv.indexOf('=');
            String k = eq < 0 ? kv : kv.substring(0, eq);
            String v = eq < 0 ? "" : java.net.URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8);
            m.put(k, v);
        }
        return m;
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms); // the endpoint being slow is the point, not a wait for something
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        server.stop(0);
        ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
    }
}
