package io.h3relay.upstream;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.FullHttpMessage;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Promise;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Reads the answer to a grpc.health.v1 {@code Check} for {@link UpstreamProbe} and reports it as an HTTP
 * status, so that the checker's {@code expected_statuses} (default 200-299) apply unchanged: SERVING is
 * 200; any other serving status, or a gRPC error, is 503. The messages are protobuf written and read by
 * hand (one string field out, one enum field back), so no protobuf runtime is needed.
 */
final class GrpcHealthListener implements UpstreamStream.Listener {
    private static final int SERVING = 1;
    private final Promise<Integer> result;
    private final ByteBuf body = Unpooled.buffer(16);
    private String grpcStatus;
    private int httpStatus;

    GrpcHealthListener(Promise<Integer> result) {
        this.result = result;
    }

    /** The framed HealthCheckRequest: field 1 (service, a string), in one uncompressed gRPC message. */
    static ByteBuf request(String service) {
        byte[] name = service.getBytes(StandardCharsets.UTF_8);
        ByteBuf proto = Unpooled.buffer();
        if (name.length > 0) {
            proto.writeByte(0x0a);
            writeVarint(proto, name.length);
            proto.writeBytes(name);
        }
        ByteBuf framed = Unpooled.buffer(5 + proto.readableBytes());
        framed.writeByte(0).writeInt(proto.readableBytes()).writeBytes(proto);
        proto.release();
        return framed;
    }

    private static void writeVarint(ByteBuf out, int v) {
        while ((v & ~0x7f) != 0) {
            out.writeByte((v & 0x7f) | 0x80);
            v >>>= 7;
        }
        out.writeByte(v);
    }

    @Override
    public void onResponse(HttpObject msg) {
        try {
            if (msg instanceof HttpResponse res) {
                if (res.status().code() < 200) {
                    return;
                }
                httpStatus = res.status().code();
                grpcStatus = res.headers().get("grpc-status"); // trailers-only
            }
            if (msg instanceof HttpContent c && body.readableBytes() < 1024) {
                body.writeBytes(c.content(), Math.min(c.content().readableBytes(), 1024 - body.readableBytes()));
            }
            if (msg instanceof LastHttpContent last) {
                HttpHeaders trailers = last.trailingHeaders();
                if (trailers.contains("grpc-status")) {
                    grpcStatus = trailers.get("grpc-status");
                }
                result.trySuccess(verdict());
            } else if (msg instanceof FullHttpMessage) {
                result.trySuccess(verdict());
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    /** 200 for SERVING, 503 otherwise; a non-200 HTTP answer is passed on as it is. */
    private int verdict() {
        try {
            if (httpStatus != 200) {
                return httpStatus;
            }
            return "0".equals(grpcStatus) && servingStatus() == SERVING ? 200 : 503;
        } finally {
            body.release();
        }
    }

    /** The HealthCheckResponse's field 1 (status, an enum), or -1. */
    private int servingStatus() {
        if (body.readableBytes() < 5 || body.readByte() != 0) {
            return -1;
        }
        int len = body.readInt();
        int end = Math.min(body.writerIndex(), body.readerIndex() + len);
        while (body.readerIndex() < end) {
            int tag = body.readByte() & 0xff;
            if (tag == 0x08 && body.readerIndex() < end) {
                return body.readByte() & 0x7f;
            }
            return -1; // nothing else is expected in this message
        }
        return 0; // an empty message: status UNKNOWN (0)
    }

    @Override
    public void onReadComplete() {
    }

    @Override
    public void onWritabilityChanged(boolean writable) {
    }

    @Override
    public void onFailed(UpstreamFailure failure) {
        if (body.refCnt() > 0) {
            body.release();
        }
        result.tryFailure(new IOException("stream failed before the gRPC health answer: " + failure.message()));
    }
}
