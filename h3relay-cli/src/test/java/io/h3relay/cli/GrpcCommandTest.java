package io.h3relay.cli;

import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCalls;
import io.h3relay.config.ConfigLoader;
import io.h3relay.server.RelayServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static io.h3relay.cli.ClientFixture.run;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code h3relay request --grpc} and {@code h3relay bench --grpc} through h3relay (TLS listener, h2 and h3) to a
 * grpc-java server (h2c endpoint) we did not write: raw message bytes from a file, framed by the tool; the
 * response messages (hex, or raw with -o), grpc-status and grpc-message; exit codes on a non-OK status.
 */
class GrpcCommandTest {
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
    static Server grpc;
    static RelayServer relay;
    static final AtomicInteger calls = new AtomicInteger();
    static final AtomicInteger lastRequestLength = new AtomicInteger(-1);

    @TempDir
    Path dir;

    private static MethodDescriptor<byte[], byte[]> method(String name, MethodDescriptor.MethodType type) {
        return MethodDescriptor.<byte[], byte[]>newBuilder().setType(type)
                .setFullMethodName("test.Echo/" + name).setRequestMarshaller(BYTES).setResponseMarshaller(BYTES).build();
    }

    @BeforeAll
    static void start() throws Exception {
        ServerServiceDefinition service = ServerServiceDefinition.builder("test.Echo")
                .addMethod(method("Unary", MethodDescriptor.MethodType.UNARY), ServerCalls.asyncUnaryCall((req, out) -> {
                    calls.incrementAndGet();
                    lastRequestLength.set(req.length);
                    out.onNext(req);
                    out.onCompleted();
                }))
                .addMethod(method("Download", MethodDescriptor.MethodType.SERVER_STREAMING),
                        ServerCalls.asyncServerStreamingCall((req, out) -> {
                            for (int i = 0; i < 3; i++) {
                                out.onNext(new byte[] {(byte) i, (byte) 0xab});
                            }
                            out.onCompleted();
                        }))
                .addMethod(method("Fail", MethodDescriptor.MethodType.UNARY), ServerCalls.asyncUnaryCall((req, out) ->
                        out.onError(Status.NOT_FOUND.withDescription("no such thing: ü").asRuntimeException())))
                .build();
        grpc = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(service).build().start();
        relay = RelayServer.start(ConfigLoader.parse("""
                admin: { address: 127.0.0.1:0 }
                listeners:
                  - name: tls
                    address: 127.0.0.1:0
                    protocols: [http1, http2, http3]
                    tls: { certificate: "%s", private_key: "%s" }
                routes:
                  - { name: all, match: { path_prefix: / }, cluster: g }
                clusters:
                  - { name: g, protocol: h2c, endpoints: [ { address: "127.0.0.1:%d" } ] }
                shutdown: { drain_timeout: 1s }
                """.formatted(ClientFixture.CERTS.certPath(), ClientFixture.CERTS.keyPath(), grpc.getPort()),
                ClientFixture.CERT_DIR, Map.of()));
    }

    @AfterAll
    static void stop() {
        if (relay != null) {
            relay.stop(Duration.ofSeconds(1));
        }
        grpc.shutdownNow();
    }

    private static String url(String path) {
        return "https://localhost:" + relay.listenerAddress("tls").getPort() + path;
    }

    private static String ca() {
        return ClientFixture.CERTS.caCertPath().toString();
    }

    @ParameterizedTest
    @ValueSource(strings = {"--http2", "--http3"})
    void unaryFromAFile(String flag) throws Exception {
        Path message = dir.resolve("req.bin");
        byte[] bytes = new byte[70_000];
        new java.util.Random(11).nextBytes(bytes);
        Files.write(message, bytes);
        ClientFixture.Run r = run("request", "--grpc", flag, "--cacert", ca(), "--data", "@" + message,
                url("/test.Echo/Unary"));
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(lastRequestLength.get()).as("the server got the message unframed, whole").isEqualTo(70_000);
        assertThat(r.out()).contains("message 1 (70000 bytes): " + HexFormat.of().formatHex(bytes) + "\n")
                .endsWith("grpc-status: 0 (OK)\n");

        Path out = dir.resolve("res.bin");
        ClientFixture.Run toFile = run("request", "--grpc", flag, "--cacert", ca(), "--data", "@" + message,
                "-o", out.toString(), url("/test.Echo/Unary"));
        assertThat(toFile.exit()).as(toFile.err()).isZero();
        assertThat(Files.readAllBytes(out)).isEqualTo(bytes);
        assertThat(toFile.out()).isEqualTo("grpc-status: 0 (OK)\n");
    }

    @ParameterizedTest
    @ValueSource(strings = {"--http2", "--http3"})
    void serverStreamingAndVerboseTrailers(String flag) {
        ClientFixture.Run r = run("request", "--grpc", flag, "-v", "--cacert", ca(), url("/test.Echo/Download"));
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo("message 1 (2 bytes): 00ab\nmessage 2 (2 bytes): 01ab\n"
                + "message 3 (2 bytes): 02ab\ngrpc-status: 0 (OK)\n");
        assertThat(r.err()).contains("> content-type: application/grpc", "> te: trailers", "< (trailer) grpc-status: 0");
    }

    @ParameterizedTest
    @ValueSource(strings = {"--http2", "--http3"})
    void aFailedCallExitsNine(String flag) {
        ClientFixture.Run r = run("request", "--grpc", flag, "--cacert", ca(), "-d", "x", url("/test.Echo/Fail"));
        assertThat(r.exit()).isEqualTo(9);
        assertThat(r.out()).isEqualTo("grpc-status: 5 (NOT_FOUND)\ngrpc-message: no such thing: ü\n");
        ClientFixture.Run noRoute = run("request", "--grpc", flag, "--cacert", ca(), url("/other.Service/M"));
        assertThat(noRoute.exit()).isEqualTo(9);
        assertThat(noRoute.out()).startsWith("grpc-status: 12 (UNIMPLEMENTED)\ngrpc-message: ");
    }

    @Test
    void grpcOverHttp1IsAUsageError() {
        ClientFixture.Run r = run("request", "--grpc", "--http1.1", "--cacert", ca(), url("/test.Echo/Unary"));
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--grpc needs HTTP/2 or HTTP/3");
    }

    @ParameterizedTest
    @ValueSource(strings = {"--http2", "--http3"})
    void benchCountsCallsByTheirGrpcStatus(String flag) throws Exception {
        Path message = dir.resolve("m.bin");
        Files.write(message, ByteBuffer.allocate(8).putLong(42).array());
        int before = calls.get();
        ClientFixture.Run ok = run("bench", "--grpc", flag, "--cacert", ca(), "-c", "2", "-m", "4", "-n", "200",
                "--data", "@" + message, "--json", url("/test.Echo/Unary"));
        assertThat(ok.exit()).as(ok.out() + ok.err()).isZero();
        assertThat(ok.json("requests")).isEqualTo(200);
        assertThat(ok.json("ok")).isEqualTo(200);
        assertThat(calls.get() - before).as("calls the server answered").isGreaterThanOrEqualTo(200);
        assertThat(lastRequestLength.get()).isEqualTo(8);

        ClientFixture.Run failing = run("bench", "--grpc", flag, "--cacert", ca(), "-c", "1", "-n", "20",
                "--json", url("/test.Echo/Fail"));
        assertThat(failing.exit()).as(failing.out() + failing.err()).isEqualTo(8);
        assertThat(failing.json("ok")).isZero();
        assertThat(failing.json("grpc_status_5")).isEqualTo(20);
    }
}
