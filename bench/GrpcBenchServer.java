// bench/GrpcBenchServer.java: the gRPC endpoint of bench/grpc.sh, run by Java's source launcher with
// grpc-java (grpc-netty-shaded, grpc-stub: h3relay-core's test dependencies) on the class path:
//   java -cp CLASSPATH bench/GrpcBenchServer.java PORT
// Service bench.Echo, method Unary: answers the request message as it came (byte[] marshaller, no protoc).
// h2c on 127.0.0.1:PORT; grpc.health.v1 is not needed. Stops on SIGTERM.
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCalls;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;

public final class GrpcBenchServer {
    public static void main(String[] args) throws Exception {
        MethodDescriptor.Marshaller<byte[]> bytes = new MethodDescriptor.Marshaller<>() {
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
        MethodDescriptor<byte[], byte[]> unary = MethodDescriptor.<byte[], byte[]>newBuilder()
                .setType(MethodDescriptor.MethodType.UNARY).setFullMethodName("bench.Echo/Unary")
                .setRequestMarshaller(bytes).setResponseMarshaller(bytes).build();
        ServerServiceDefinition service = ServerServiceDefinition.builder("bench.Echo")
                .addMethod(unary, ServerCalls.asyncUnaryCall((req, out) -> {
                    out.onNext(req);
                    out.onCompleted();
                }))
                .build();
        Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", Integer.parseInt(args[0])))
                .directExecutor().addService(service).build().start();
        System.out.println("gRPC bench server on 127.0.0.1:" + server.getPort());
        Runtime.getRuntime().addShutdownHook(new Thread(server::shutdownNow));
        server.awaitTermination();
    }
}
