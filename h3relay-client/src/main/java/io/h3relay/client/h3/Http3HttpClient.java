package io.h3relay.client.h3;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.http3.Http3ClientConnectionHandler;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicSslContext;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import java.io.IOException;
import java.net.Authenticator;
import java.net.CookieHandler;
import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * An HTTP/3 client with the {@link HttpClient} API, on Netty's HTTP/3 client (a client we did not
 * write), so tests written against Java's client run over h3 unchanged. One QUIC connection per
 * host:port, reused; each request is a new stream. Bodies stream both ways with backpressure: the request
 * publisher is asked for more only as the stream drains, and the response subscriber's demand gates reads
 * (QUIC flow control then holds the sender back).
 * {@link #version()} reports HTTP_2: the JDK's enum has no HTTP/3 yet. The test fixtures use it as
 * {@code Http3TestClient}; its QUIC settings are {@link QuicClients}', shared with {@code request} and
 * {@code bench}.
 */
public class Http3HttpClient extends HttpClient {
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final QuicSslContext tls;
    private final Channel udp;
    private final Map<String, QuicChannel> connections = new HashMap<>();

    public Http3HttpClient(X509Certificate trusted) {
        this.tls = io.h3relay.client.ClientTls.trusting(trusted).quic();
        ChannelHandler codec = QuicClients.codec(tls);
        try {
            this.udp = QuicClients.bind(group, NioDatagramChannel.class, codec).sync().channel();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The QUIC connection to the request's host:port (opened on first use, reopened if it closed). */
    synchronized QuicChannel connection(URI uri) throws IOException {
        String key = uri.getHost() + ":" + uri.getPort();
        QuicChannel ch = connections.get(key);
        if (ch != null && ch.isActive()) {
            return ch;
        }
        try {
            ch = QuicChannel.newBootstrap(udp)
                    .handler(new Http3ClientConnectionHandler())
                    .remoteAddress(new InetSocketAddress(uri.getHost(), uri.getPort()))
                    .connect().get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new IOException("QUIC connect to " + key + " failed: " + e.getCause(), e.getCause());
        } catch (Exception e) {
            throw new IOException("QUIC connect to " + key + " failed: " + e, e);
        }
        connections.put(key, ch);
        return ch;
    }

    @Override
    public <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> handler)
            throws IOException, InterruptedException {
        try {
            return sendAsync(request, handler).get();
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof IOException io) {
                throw new IOException(io.getMessage(), io);
            }
            throw new IOException(String.valueOf(c), c);
        }
    }

    @Override
    public <T> CompletableFuture<HttpResponse<T>> sendAsync(HttpRequest request, HttpResponse.BodyHandler<T> handler) {
        try {
            return new Http3HttpExchange<>(this, request, handler).start(connection(request.uri()));
        } catch (IOException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    @Override
    public <T> CompletableFuture<HttpResponse<T>> sendAsync(HttpRequest request, HttpResponse.BodyHandler<T> handler,
                                                            HttpResponse.PushPromiseHandler<T> push) {
        return sendAsync(request, handler);
    }

    @Override
    public Optional<CookieHandler> cookieHandler() {
        return Optional.empty();
    }

    @Override
    public Optional<Duration> connectTimeout() {
        return Optional.of(Duration.ofSeconds(10));
    }

    @Override
    public Redirect followRedirects() {
        return Redirect.NEVER;
    }

    @Override
    public Optional<ProxySelector> proxy() {
        return Optional.empty();
    }

    @Override
    public SSLContext sslContext() {
        return null;
    }

    @Override
    public SSLParameters sslParameters() {
        return new SSLParameters();
    }

    @Override
    public Optional<Authenticator> authenticator() {
        return Optional.empty();
    }

    @Override
    public Version version() {
        return Version.HTTP_2;
    }

    @Override
    public Optional<Executor> executor() {
        return Optional.of(group);
    }

    @Override
    public synchronized void close() {
        if (group.isShuttingDown()) {
            return;
        }
        for (QuicChannel ch : connections.values()) {
            ch.close();
        }
        connections.clear();
        udp.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
