package io.h3relay.it;

import com.nimbusds.jose.util.JSONObjectUtils;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.ParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The packets sent and received in quiche's qlog files (JSON-SEQ: records separated by RS), with their STREAM
 * frames, as a test reads them after the connections closed (quiche writes a connection's whole log by then).
 */
final class Qlog {
    /** One STREAM frame of a sent or received packet; {@code file} names the connection's log. */
    record StreamFrame(Path file, boolean sent, long streamId, long offset, long length, boolean fin) {
        /** A client-initiated bidirectional stream: an HTTP/3 request stream. */
        boolean onRequestStream() {
            return streamId % 4 == 0;
        }
    }

    /** One packet sent or received: its UDP payload's length and its STREAM frames. */
    record Packet(Path file, boolean sent, long udpLength, List<StreamFrame> streamFrames) {
    }

    private Qlog() {
    }

    /** The {@code .qlog} files in {@code dir}. */
    static List<Path> files(Path dir) throws IOException {
        try (Stream<Path> l = Files.list(dir)) {
            return l.filter(f -> f.toString().endsWith(".qlog")).toList();
        }
    }

    /** Every STREAM frame of every packet sent and received in the logs of {@code dir}, in log order. */
    static List<StreamFrame> streamFrames(Path dir) throws IOException, ParseException {
        return packets(dir).stream().flatMap(p -> p.streamFrames().stream()).toList();
    }

    /** Every packet sent and received in the logs of {@code dir}, in log order. */
    @SuppressWarnings("unchecked")
    static List<Packet> packets(Path dir) throws IOException, ParseException {
        List<Packet> out = new ArrayList<>();
        for (Path f : files(dir)) {
            for (String record : Files.readString(f, StandardCharsets.UTF_8).split("\u001e")) {
                boolean sent = record.contains("\"quic:packet_sent\"");
                if (record.isBlank() || !sent && !record.contains("\"quic:packet_received\"")) {
                    continue;
                }
                Map<String, Object> data = (Map<String, Object>) JSONObjectUtils.parse(record.strip()).get("data");
                List<StreamFrame> frames = new ArrayList<>();
                for (Map<String, Object> frame : (List<Map<String, Object>>) data.getOrDefault("frames", List.of())) {
                    if ("stream".equals(frame.get("frame_type"))) {
                        frames.add(new StreamFrame(f, sent, ((Number) frame.get("stream_id")).longValue(),
                                ((Number) frame.get("offset")).longValue(),
                                ((Number) ((Map<String, Object>) frame.get("raw")).get("payload_length")).longValue(),
                                Boolean.TRUE.equals(frame.get("fin"))));
                    }
                }
                long udp = ((Number) ((Map<String, Object>) data.get("raw")).get("length")).longValue();
                out.add(new Packet(f, sent, udp, frames));
            }
        }
        return out;
    }
}
