package io.h3relay.it;

import io.h3relay.testing.ExternalTool;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * gRPC through the proxy with Python's grpcio (Debian {@code python3-grpcio}, C-core: a third gRPC stack we
 * did not write) as the client, over TLS h2, to grpc-java behind an h2c cluster: a unary echo, and a failing
 * call whose status, message and metadata (text and -bin) arrive intact. Runs {@code /usr/bin/python3}
 * (the Debian one, which has grpcio); a missing grpcio skips locally and fails under {@code CI=true}.
 */
class GrpcPythonTest {
    private static final String SCRIPT = """
            import sys, grpc
            port, ca = sys.argv[1], open(sys.argv[2], 'rb').read()
            ch = grpc.secure_channel('localhost:' + port, grpc.ssl_channel_credentials(root_certificates=ca))
            ident = lambda b: b
            unary = ch.unary_unary('/test.Echo/Unary', request_serializer=ident, response_deserializer=ident)
            print('unary', unary(b'from python', timeout=10).decode())
            fail = ch.unary_unary('/test.Echo/Fail', request_serializer=ident, response_deserializer=ident)
            try:
                fail(b'', timeout=10)
                print('fail succeeded?')
            except grpc.RpcError as e:
                md = dict(e.trailing_metadata())
                print('status', e.code().name)
                print('message', e.details())
                print('text', md.get('x-detail'))
                print('bin', md.get('x-detail-bin').hex())
            """;

    @TempDir
    Path dir;

    @Test
    void pythonGrpcioThroughTheProxy() throws Exception {
        Path python = Path.of("/usr/bin/python3");
        if (!Files.isExecutable(python) || ExternalTool.run(Duration.ofSeconds(30), python.toString(), "-c",
                "import grpc").exitCode() != 0) {
            String message = "/usr/bin/python3 with grpcio is not installed (Debian package: python3-grpcio)";
            if ("true".equals(System.getenv("CI"))) {
                org.junit.jupiter.api.Assertions.fail(message + "; CI=true, so this is a failure, not a skip");
            }
            org.junit.jupiter.api.Assumptions.abort(message);
        }
        Path script = dir.resolve("client.py");
        Files.writeString(script, SCRIPT);
        try (GrpcEcho server = GrpcEcho.startH2c();
             RelayHarness relay = RelayHarness.yaml(RelayHarness.LISTENERS + """
                     routes:
                       - { name: grpc, match: { path_prefix: /test.Echo/ }, cluster: grpc }
                     clusters:
                       - { name: grpc, protocol: h2c, endpoints: [ { address: "@GRPC@" } ] }
                     """).with("LIMITS", "{}").with("GRPC", server.address()).start()) {
            ExternalTool.Result r = ExternalTool.run(Duration.ofSeconds(60), python.toString(), script.toString(),
                    String.valueOf(relay.tlsPort()), RelayHarness.certs().caCertPath().toString());
            assertThat(r.exitCode()).as(r.toString()).isZero();
            assertThat(r.stdoutString().lines()).containsExactly(
                    "unary from python",
                    "status INVALID_ARGUMENT",
                    "message bad thing: ünïcode %",
                    "text detail text",
                    "bin 000102ff");
        }
    }
}
