package io.h3relay.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** gRPC-Web's wire format: content types, the trailer frame, base64 in parts (checked against java.util.Base64). */
class GrpcWebFormatTest {

    private static HttpHeaders type(String ct) {
        return new DefaultHttpHeaders().set("content-type", ct);
    }

    @Test
    void modesAndContentTypes() {
        assertThat(GrpcWeb.modeOf(type("application/grpc-web"))).isEqualTo(GrpcWeb.Mode.BINARY);
        assertThat(GrpcWeb.modeOf(type("application/grpc-web+proto"))).isEqualTo(GrpcWeb.Mode.BINARY);
        assertThat(GrpcWeb.modeOf(type("Application/gRPC-Web-Text"))).isEqualTo(GrpcWeb.Mode.TEXT);
        assertThat(GrpcWeb.modeOf(type("application/grpc-web-text+proto; charset=x"))).isEqualTo(GrpcWeb.Mode.TEXT);
        assertThat(GrpcWeb.modeOf(type("application/grpc"))).isNull();
        assertThat(GrpcWeb.modeOf(type("application/grpc-webx"))).isNull();
        assertThat(GrpcWeb.modeOf(new DefaultHttpHeaders())).isNull();
        assertThat(Grpc.isGrpc(type("application/grpc-web"))).as("gRPC-Web is not gRPC").isFalse();
        assertThat(GrpcWeb.grpcContentType("application/grpc-web-text")).isEqualTo("application/grpc");
        assertThat(GrpcWeb.grpcContentType("application/grpc-web+json")).isEqualTo("application/grpc+json");
        assertThat(GrpcWeb.Mode.TEXT.responseContentType("application/grpc")).isEqualTo("application/grpc-web-text+proto");
        assertThat(GrpcWeb.Mode.BINARY.responseContentType("application/grpc+json; x=y")).isEqualTo("application/grpc-web+json");
    }

    @Test
    void trailerFrame() {
        HttpHeaders t = new DefaultHttpHeaders().add("Grpc-Status", "3").add("grpc-message", "bad").add("x-a", "1")
                .add("x-a", "2");
        ByteBuf f = GrpcWeb.trailerFrame(ByteBufAllocator.DEFAULT, t);
        String block = "grpc-status: 3\r\ngrpc-message: bad\r\nx-a: 1\r\nx-a: 2\r\n";
        assertThat((int) f.readUnsignedByte()).isEqualTo(0x80);
        assertThat(f.readInt()).isEqualTo(block.length());
        assertThat(f.toString(StandardCharsets.UTF_8)).isEqualTo(block);
        f.release();
    }

    @Test
    void base64TextInPartsOfEverySize() {
        byte[] data = new byte[1000];
        new Random(1).nextBytes(data);
        // three messages encoded on their own: padding in the middle of the text
        String text = Base64.getEncoder().encodeToString(java.util.Arrays.copyOfRange(data, 0, 301))
                + Base64.getEncoder().encodeToString(java.util.Arrays.copyOfRange(data, 301, 500))
                + Base64.getEncoder().encodeToString(java.util.Arrays.copyOfRange(data, 500, 1000));
        byte[] ascii = text.getBytes(StandardCharsets.US_ASCII);
        for (int part = 1; part <= 13; part++) {
            GrpcWeb.Base64Text d = new GrpcWeb.Base64Text();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            for (int i = 0; i < ascii.length; i += part) {
                ByteBuf decoded = d.decode(Unpooled.wrappedBuffer(ascii, i, Math.min(part, ascii.length - i)),
                        ByteBufAllocator.DEFAULT);
                byte[] b = new byte[decoded.readableBytes()];
                decoded.readBytes(b).release();
                out.writeBytes(b);
            }
            assertThat(d.completeAtEnd()).isTrue();
            assertThat(out.toByteArray()).as("parts of %d", part).isEqualTo(data);
        }
    }

    @Test
    void base64EncodingMatchesTheJdk() {
        for (int n = 0; n < 10; n++) {
            byte[] data = new byte[n];
            new Random(n).nextBytes(data);
            ByteBuf enc = GrpcWeb.Base64Text.encode(Unpooled.wrappedBuffer(data), ByteBufAllocator.DEFAULT);
            assertThat(enc.toString(StandardCharsets.US_ASCII)).isEqualTo(Base64.getEncoder().encodeToString(data));
            enc.release();
        }
    }

    @Test
    void notBase64() {
        assertThat(GrpcWeb.decodeText("AAAA!AAA".getBytes())).isNull();
        assertThat(GrpcWeb.decodeText("AA=A".getBytes())).as("padding inside a quantum").isNull();
        assertThat(GrpcWeb.decodeText("AAA".getBytes())).as("an incomplete quantum at the end").isNull();
        assertThat(GrpcWeb.decodeText("QQ==\r\nQg==".getBytes())).containsExactly('A', 'B');
    }
}
