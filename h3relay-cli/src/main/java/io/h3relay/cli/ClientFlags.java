package io.h3relay.cli;

import io.h3relay.client.ClientTls;
import io.h3relay.client.Protocol;
import picocli.CommandLine;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The flags {@code request} and {@code bench} share: protocol, method, headers, body, TLS trust. */
final class ClientFlags {
    @Option(names = "--http1.1", description = "Use HTTP/1.1 (over TLS for https URLs).")
    boolean http1;

    @Option(names = "--http2", description = "Use HTTP/2: ALPN h2 over TLS, or h2c by prior knowledge on http URLs.")
    boolean http2;

    @Option(names = "--http3", description = "Use HTTP/3 over QUIC (https URLs only).")
    boolean http3;

    @Option(names = {"-X", "--request"}, paramLabel = "METHOD",
            description = "Request method (default: GET, or POST with a body).")
    String method;

    @Option(names = {"-H", "--header"}, paramLabel = "'NAME: VALUE'", description = "Request header (repeatable).")
    List<String> headers = new ArrayList<>();

    @Option(names = {"-k", "--insecure"}, description = "Trust any server certificate.")
    boolean insecure;

    @Option(names = "--cacert", paramLabel = "FILE", description = "Trust the CA certificate(s) in this PEM file.")
    Path cacert;

    @Option(names = "--grpc", description = "A gRPC call: the body (--data, raw protobuf message bytes) framed as "
            + "one gRPC message, POST with content-type application/grpc and te: trailers, over HTTP/2 "
            + "(h2c on http URLs) unless --http3; the URL's path is /package.Service/Method.")
    boolean grpc;

    /** The forced protocol, or null to negotiate. */
    Protocol protocol(CommandLine cli) {
        int n = (http1 ? 1 : 0) + (http2 ? 1 : 0) + (http3 ? 1 : 0);
        if (n > 1) {
            throw new CommandLine.ParameterException(cli, "give at most one of --http1.1, --http2, --http3");
        }
        if (grpc && http1) {
            throw new CommandLine.ParameterException(cli, "--grpc needs HTTP/2 or HTTP/3, not --http1.1");
        }
        return http1 ? Protocol.HTTP_1_1 : http2 || (grpc && !http3) ? Protocol.HTTP_2 : http3 ? Protocol.HTTP_3 : null;
    }

    /**
     * The body as sent: with {@code --grpc} the message (none: an empty message) behind gRPC's 5-byte prefix
     * (flag 0, uncompressed; the length, big-endian); else as given.
     */
    byte[] requestBody(byte[] body) {
        if (!grpc) {
            return body;
        }
        byte[] message = body == null ? new byte[0] : body;
        return java.nio.ByteBuffer.allocate(5 + message.length).put((byte) 0).putInt(message.length).put(message).array();
    }

    /** {@link #headerList} plus, with {@code --grpc}, content-type application/grpc (unless -H gives one) and te: trailers. */
    List<Map.Entry<String, String>> requestHeaders(CommandLine cli) {
        List<Map.Entry<String, String>> list = headerList(cli);
        if (grpc) {
            if (list.stream().noneMatch(h -> h.getKey().equalsIgnoreCase("content-type"))) {
                list.add(new AbstractMap.SimpleImmutableEntry<>("content-type", "application/grpc"));
            }
            list.removeIf(h -> h.getKey().equalsIgnoreCase("te"));
            list.add(new AbstractMap.SimpleImmutableEntry<>("te", "trailers"));
        }
        return list;
    }

    /** HTTP/3 runs over QUIC, which is always TLS: {@code --http3} with an http URL is a usage error. */
    static void checkHttp3(CommandLine cli, Protocol forced, io.h3relay.client.Target target) {
        if (forced == Protocol.HTTP_3 && !target.tls()) {
            throw new CommandLine.ParameterException(cli, "--http3 needs an https URL (HTTP/3 runs over QUIC, which is always TLS): "
                    + target);
        }
    }

    List<Map.Entry<String, String>> headerList(CommandLine cli) {
        List<Map.Entry<String, String>> list = new ArrayList<>();
        for (String h : headers) {
            int colon = h.indexOf(':');
            String name = colon > 0 ? h.substring(0, colon).trim() : "";
            if (name.isEmpty() || !name.chars().allMatch(c -> c > 32 && c < 127 && "()<>@,;:\\\"/[]?={}".indexOf(c) < 0)) {
                throw new CommandLine.ParameterException(cli, "-H " + h + " (expected: 'Name: value')");
            }
            list.add(new AbstractMap.SimpleImmutableEntry<>(name, h.substring(colon + 1).trim()));
        }
        return list;
    }

    /** {@code DATA}, or the bytes of FILE for {@code @FILE}; null without a body. */
    static byte[] body(String data) throws IOException {
        if (data == null) {
            return null;
        }
        if (data.startsWith("@")) {
            return Files.readAllBytes(Path.of(data.substring(1)));
        }
        return data.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    String method(byte[] body) {
        return method != null ? method : body != null ? "POST" : "GET";
    }

    ClientTls tls() {
        if (insecure) {
            return ClientTls.insecure();
        }
        return cacert != null ? ClientTls.trusting(cacert.toFile()) : ClientTls.system();
    }
}
