package io.h3relay.it;

import io.grpc.CallOptions;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import io.h3relay.testing.TestCertificates;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A grpc-java service ({@code test.Echo}) with hand-written method descriptors and a byte[] marshaller (no
 * protoc): unary, server-, client- and bidirectional streaming, and calls that fail with a status and
 * metadata, or wait until cancelled. grpc-java's Netty server (shaded), over TLS (ALPN h2) or h2c.
 */
final class GrpcEcho implements AutoCloseable {
    static final String SERVICE = "test.Echo";
    static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };
    static final MethodDescriptor<byte[], byte[]> UNARY = method("Unary", MethodDescriptor.MethodType.UNARY);
    /** Request: a 4-byte count; responds with that many 8-byte messages (their index). */
    static final MethodDescriptor<byte[], byte[]> DOWNLOAD = method("Download", MethodDescriptor.MethodType.SERVER_STREAMING);
    /** Responds with the count of messages received, as 4 bytes, and their total size in trailers. */
    static final MethodDescriptor<byte[], byte[]> UPLOAD = method("Upload", MethodDescriptor.MethodType.CLIENT_STREAMING);
    static final MethodDescriptor<byte[], byte[]> CHAT = method("Chat", MethodDescriptor.MethodType.BIDI_STREAMING);
    /** Fails with INVALID_ARGUMENT, a message and metadata (text and -bin) in trailers. */
    static final MethodDescriptor<byte[], byte[]> FAIL = method("Fail", MethodDescriptor.MethodType.UNARY);
    /** Never answers: waits for the deadline or a cancel ({@link #cancelled()} counts them). */
    static final MethodDescriptor<byte[], byte[]> HANG = method("Hang", MethodDescriptor.MethodType.UNARY);
    /** Every other call (the 1st, 3rd, ...) fails with UNAVAILABLE, trailers-only; the others echo. */
    static final MethodDescriptor<byte[], byte[]> FLAKY = method("Flaky", MethodDescriptor.MethodType.UNARY);

    static final Metadata.Key<String> TEXT = Metadata.Key.of("x-detail", Metadata.ASCII_STRING_MARSHALLER);
    static final Metadata.Key<byte[]> BIN = Metadata.Key.of("x-detail-bin", Metadata.BINARY_BYTE_MARSHALLER);
    static final Metadata.Key<String> SEEN_TIMEOUT = Metadata.Key.of("x-seen-grpc-timeout", Metadata.ASCII_STRING_MARSHALLER);

    private final Server server;
    private final AtomicInteger cancelled = new AtomicInteger();
    private final AtomicInteger flakyCalls = new AtomicInteger();
    /** grpc.health.v1 serving status of service "test.Echo": 1 SERVING, 2 NOT_SERVING. */
    private final AtomicInteger serving = new AtomicInteger(1);
    private final AtomicInteger healthChecks = new AtomicInteger();
    private final AtomicReference<String> lastTimeout = new AtomicReference<>();

    private static MethodDescriptor<byte[], byte[]> method(String name, MethodDescriptor.MethodType type) {
        return MethodDescriptor.<byte[], byte[]>newBuilder().setType(type)
                .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE, name))
                .setRequestMarshaller(BYTES).setResponseMarshaller(BYTES).build();
    }

    private GrpcEcho(TestCertificates certs) {
        try {
            NettyServerBuilder b = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                    .maxInboundMessageSize(64 << 20);
            if (certs != null) {
                b.sslContext(GrpcSslContexts.forServer(certs.certPath().toFile(), certs.keyPath().toFile()).build());
            }
            this.server = b.addService(ServerInterceptors.intercept(service(), recordHeaders()))
                    .addService(health()).build().start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static GrpcEcho startTls(TestCertificates certs) {
        return new GrpcEcho(certs);
    }

    static GrpcEcho startH2c() {
        return new GrpcEcho(null);
    }

    int port() {
        return server.getPort();
    }

    String address() {
        return "127.0.0.1:" + port();
    }

    /** HANG calls cancelled (by a deadline or by the client) as the server saw it. */
    int cancelled() {
        return cancelled.get();
    }

    void serving(boolean yes) {
        serving.set(yes ? 1 : 2);
    }

    int healthChecks() {
        return healthChecks.get();
    }

    /**
     * grpc.health.v1.Health/Check by hand (protobuf: request field 1 the service name, response field 1 the
     * status): "test.Echo" answers {@link #serving}, any other name NOT_FOUND, as the real service does.
     */
    private ServerServiceDefinition health() {
        MethodDescriptor<byte[], byte[]> check = MethodDescriptor.<byte[], byte[]>newBuilder()
                .setType(MethodDescriptor.MethodType.UNARY).setFullMethodName("grpc.health.v1.Health/Check")
                .setRequestMarshaller(BYTES).setResponseMarshaller(BYTES).build();
        return ServerServiceDefinition.builder("grpc.health.v1.Health")
                .addMethod(check, ServerCalls.asyncUnaryCall((req, out) -> {
                    healthChecks.incrementAndGet();
                    String name = req.length < 2 ? "" : new String(req, 2, req[1]);
                    if (!name.equals("test.Echo")) {
                        out.onError(Status.NOT_FOUND.withDescription("unknown service " + name).asRuntimeException());
                        return;
                    }
                    out.onNext(new byte[] {0x08, (byte) serving.get()});
                    out.onCompleted();
                }))
                .build();
    }

    int flakyCalls() {
        return flakyCalls.get();
    }

    /** The grpc-timeout header of the last request, or null. */
    String lastTimeout() {
        return lastTimeout.get();
    }

    private static final Metadata.Key<String> GRPC_TIMEOUT = Metadata.Key.of("grpc-timeout", Metadata.ASCII_STRING_MARSHALLER);

    private ServerInterceptor recordHeaders() {
        return new ServerInterceptor() {
            @Override
            public <Q, R> io.grpc.ServerCall.Listener<Q> interceptCall(io.grpc.ServerCall<Q, R> call, Metadata headers,
                                                                     ServerCallHandler<Q, R> next) {
                lastTimeout.set(headers.get(GRPC_TIMEOUT));
                return next.startCall(call, headers);
            }
        };
    }

    private ServerServiceDefinition service() {
        return ServerServiceDefinition.builder(SERVICE)
                .addMethod(UNARY, ServerCalls.asyncUnaryCall((req, out) -> {
                    out.onNext(req);
                    out.onCompleted();
                }))
                .addMethod(DOWNLOAD, ServerCalls.asyncServerStreamingCall((req, out) -> {
                    int n = ByteBuffer.wrap(req).getInt();
                    for (int i = 0; i < n; i++) {
                        out.onNext(ByteBuffer.allocate(8).putLong(i).array());
                    }
                    out.onCompleted();
                }))
                .addMethod(UPLOAD, ServerCalls.asyncClientStreamingCall(out -> new StreamObserver<byte[]>() {
                    int count;

                    @Override
                    public void onNext(byte[] value) {
                        count++;
                    }

                    @Override
                    public void onError(Throwable t) {
                    }

                    @Override
                    public void onCompleted() {
                        out.onNext(ByteBuffer.allocate(4).putInt(count).array());
                        out.onCompleted();
                    }
                }))
                .addMethod(CHAT, ServerCalls.asyncBidiStreamingCall(out -> new StreamObserver<byte[]>() {
                    @Override
                    public void onNext(byte[] value) {
                        out.onNext(value);
                    }

                    @Override
                    public void onError(Throwable t) {
                    }

                    @Override
                    public void onCompleted() {
                        out.onCompleted();
                    }
                }))
                .addMethod(FAIL, ServerCalls.asyncUnaryCall((req, out) -> {
                    Metadata trailers = new Metadata();
                    trailers.put(TEXT, "detail text");
                    trailers.put(BIN, new byte[] {0, 1, 2, (byte) 0xff});
                    out.onError(Status.INVALID_ARGUMENT.withDescription("bad thing: ünïcode %")
                            .asRuntimeException(trailers));
                }))
                .addMethod(FLAKY, ServerCalls.asyncUnaryCall((req, out) -> {
                    if (flakyCalls.incrementAndGet() % 2 == 1) {
                        out.onError(Status.UNAVAILABLE.withDescription("try again").asRuntimeException());
                    } else {
                        out.onNext(req);
                        out.onCompleted();
                    }
                }))
                .addMethod(HANG, ServerCalls.asyncUnaryCall((req, out) -> {
                    Context.current().addListener(c -> cancelled.incrementAndGet(), Runnable::run);
                }))
                .build();
    }

    /** A grpc-java channel to the proxy's TLS listener (ALPN h2), trusting the test CA. */
    static ManagedChannel tlsChannel(TestCertificates certs, int port) {
        try {
            return NettyChannelBuilder.forAddress("localhost", port)
                    .sslContext(GrpcSslContexts.forClient().trustManager(certs.caCertPath().toFile()).build())
                    .maxInboundMessageSize(64 << 20)
                    .build();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static CallOptions options(long timeoutMs) {
        return CallOptions.DEFAULT.withDeadlineAfter(timeoutMs, TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
        server.shutdownNow();
    }
}
