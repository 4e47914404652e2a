package io.h3relay.listener.h1;

import io.h3relay.exchange.Http1Session;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpVersion;

import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Runs the connection's head timers ({@link Http1RequestTimeouts}: they need the raw bytes too, and one
 * handler for both is one {@code channelRead} hop less per read), and refuses obsolete line folding (RFC 9112 section 5.2) and whitespace before the first field (section 2.2)
 * in request heads and chunked trailers. Netty's decoder silently joins a folded line onto the previous
 * value, so a proxy behind us that splits it differently would see other headers than we routed on.
 *
 * <p>Sits on raw bytes in front of the codec and follows the message framing just enough to know where
 * heads are: it scans head and trailer lines byte by byte, skips bodies by length (fixed or chunk by
 * chunk), and keeps its state across reads, so a fold split over TCP segments is caught all the same.
 * <pre>
 *   head ─► body (Content-Length: skip N | chunked: sizes, skip data, trailers) ─► next head ...
 * </pre>
 * A fold in a head replaces that request with one whose decoder result failed, placed after the requests
 * before it, so the proxy answers them first and then 400 with the JSON envelope and closes. A fold in
 * trailers fails the request body the same way. Framing the codec will refuse anyway (Content-Length with
 * Transfer-Encoding, several lengths, a bad chunk size) ends scanning: that connection closes with a 400.
 * An h2c preface (at the start, or after an Upgrade request) also ends scanning: the connection is h2 now.
 *
 * <p>The request line is held to RFC 9112 section 3 the same way: single spaces between its three parts,
 * no tab, no control character (NUL, a lone CR), nothing before the method or after the version. Netty's
 * decoder splits on runs of whitespace and passes a NUL on in the target.
 */
public final class Http1HeadScanner extends ChannelInboundHandlerAdapter implements Http1Session.HeadTimer {
    private static final byte[] PREFACE_LINE = "PRI * HTTP/2.0".getBytes(StandardCharsets.US_ASCII);
    private static final int MAX_NAME = 17; // "transfer-encoding", the longest name we look for
    private static final int MAX_VALUE = 256;
    private static final Pattern CHUNKED_LAST = Pattern.compile(".*(^|[ ,\t])chunked");
    private static final Pattern DIGITS = Pattern.compile("[0-9]{1,18}");

    private enum State {
        HEAD_START, REQUEST_LINE, FIELD_LINE_START, FIELD_LINE, FIXED_BODY, CHUNK_SIZE, CHUNK_EXTENSION,
        CHUNK_DATA, CHUNK_DATA_END, TRAILER_LINE_START, TRAILER_LINE, PASS, FAILED
    }

    /** What {@link #step} found wrong, if anything. */
    private enum Fold { NONE, IN_HEAD, IN_TRAILERS, REQUEST_LINE }

    private final boolean cleartext;
    /** The connection's keep-alive and request-head timers, run from here (one pipeline hop less per read). */
    private final Http1RequestTimeouts timeouts;
    private State state = State.HEAD_START;
    private boolean prefaceAllowed;
    private int prefaceMatched;
    private byte previous; // the request line's byte before this one
    // The field line being scanned: its name (lowercase, up to MAX_NAME) and, for framing fields, its value.
    // (Bytes, not a StringBuilder: a name's every byte passes here, and appending a char cost more than the rest.)
    private final byte[] name = new byte[MAX_NAME + 1];
    private int nameLength;
    private final StringBuilder value = new StringBuilder();
    private boolean inValue;
    /** The field being scanned is Content-Length or Transfer-Encoding (its value is kept), or Upgrade. */
    private boolean framingField;
    private boolean upgradeField;
    // What the head said about framing.
    private int contentLengths;
    private String contentLength;
    private String transferEncoding;
    private boolean upgrade;
    private boolean framingUnclear;
    private long remaining;
    private int chunkDigits;
    // Where the current message starts in the buffer being scanned.
    private int messageStart;

    /** Without timers (tests of the scanner alone). */
    public Http1HeadScanner(boolean cleartext) {
        this(cleartext, new Http1RequestTimeouts(java.time.Duration.ZERO, java.time.Duration.ZERO));
    }

    /**
     * @param cleartext an h2c listener: the h2 preface may come first, or after an Upgrade request
     * @param timeouts  the connection's head timers (keep-alive, request head), run on the bytes this scanner sees
     */
    public Http1HeadScanner(boolean cleartext, Http1RequestTimeouts timeouts) {
        this.cleartext = cleartext;
        this.prefaceAllowed = cleartext;
        this.timeouts = timeouts;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        timeouts.attach(ctx);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        timeouts.cancel(); // upgraded to h2c (the h2 codec takes over idle handling), or a tunnel
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        timeouts.cancel();
        ctx.fireChannelInactive();
    }

    @Override
    public void awaitingHead() {
        timeouts.awaitingHead();
    }

    @Override
    public void headReceived() {
        timeouts.headReceived();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        timeouts.onRead(msg);
        if (state == State.PASS || !(msg instanceof ByteBuf buf)) {
            ctx.fireChannelRead(msg);
            return;
        }
        if (state == State.FAILED) {
            buf.release();
            return;
        }
        int start = buf.readerIndex();
        int end = buf.writerIndex();
        messageStart = start;
        int i = start;
        while (i < end && state != State.PASS) {
            if (state == State.FIXED_BODY || state == State.CHUNK_DATA) {
                int skip = (int) Math.min(remaining, end - i);
                i += skip;
                remaining -= skip;
                if (remaining == 0) {
                    if (state == State.FIXED_BODY) {
                        nextMessage(i);
                    } else {
                        state = State.CHUNK_DATA_END;
                    }
                }
                continue;
            }
            if (state == State.FIELD_LINE && inValue && !framingField || state == State.TRAILER_LINE) {
                // Nothing in this line's value matters but its end: jump to it (Netty's indexOf scans by words).
                int lf = buf.indexOf(i, end, (byte) '\n');
                if (lf < 0) {
                    break;
                }
                i = lf;
            }
            Fold fold = step(buf.getByte(i), i);
            if (fold != Fold.NONE) {
                refuse(ctx, buf, start, fold == Fold.IN_TRAILERS ? i : messageStart, fold);
                return;
            }
            i++;
        }
        ctx.fireChannelRead(buf);
    }

    /** Passes on what precedes the bad part, drops the rest, and stands in a failed message for it. */
    private void refuse(ChannelHandlerContext ctx, ByteBuf buf, int start, int upTo, Fold fold) {
        state = State.FAILED;
        if (upTo > start) {
            ctx.fireChannelRead(buf.retainedSlice(start, upTo - start));
        }
        buf.release();
        ctx.fireChannelRead(failed(fold));
    }

    private static HttpObject failed(Fold fold) {
        String why = switch (fold) {
            case REQUEST_LINE -> "request line not METHOD SP target SP version: extra whitespace or a control character";
            case IN_TRAILERS -> "obsolete line folding or a line starting with whitespace in the trailers";
            default -> "obsolete line folding or a line starting with whitespace in the request head";
        };
        DecoderResult result = DecoderResult.failure(new IllegalArgumentException(why));
        HttpObject failed = fold != Fold.IN_TRAILERS
                ? new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/", Unpooled.EMPTY_BUFFER)
                : new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER);
        failed.setDecoderResult(result);
        return failed;
    }

    private Fold step(byte b, int i) {
        switch (state) {
            case HEAD_START -> {
                if (b == '\r' || b == '\n') {
                    return Fold.NONE; // empty lines before a request line are allowed (RFC 9112 section 2.2)
                }
                state = State.REQUEST_LINE;
                prefaceMatched = prefaceAllowed ? 0 : -1;
                previous = ' '; // a leading space is refused like a double one
                resetHead();
                return step(b, i);
            }
            case REQUEST_LINE -> {
                // RFC 9112 section 3: method SP target SP version CRLF, single spaces, no control characters.
                // Netty splits on any run of whitespace, so an endpoint could read the line differently.
                byte before = previous;
                previous = b;
                if (before == '\r' && b != '\n' || b == '\t' || b == 0x7f || (b < 0x20 && b != '\r' && b != '\n')
                        || (b == ' ' || b == '\r' || b == '\n') && before == ' ') {
                    return Fold.REQUEST_LINE;
                }
                if (b == '\n') {
                    state = prefaceMatched == PREFACE_LINE.length ? State.PASS : State.FIELD_LINE_START;
                } else if (prefaceMatched >= 0 && prefaceMatched < PREFACE_LINE.length
                        && b == PREFACE_LINE[prefaceMatched]) {
                    prefaceMatched++;
                } else if (!(b == '\r' && prefaceMatched == PREFACE_LINE.length)) {
                    prefaceMatched = -1;
                }
            }
            case FIELD_LINE_START -> {
                if (b == ' ' || b == '\t') {
                    return Fold.IN_HEAD;
                }
                if (b == '\n') {
                    endHead(i);
                } else if (b != '\r') {
                    nameLength = 0;
                    value.setLength(0);
                    inValue = false;
                    framingField = false;
                    upgradeField = false;
                    state = State.FIELD_LINE;
                    return step(b, i);
                }
            }
            case FIELD_LINE -> fieldByte(b);
            case CHUNK_SIZE -> chunkSizeByte(b);
            case CHUNK_EXTENSION -> {
                if (b == '\n') {
                    endChunkSize();
                }
            }
            case CHUNK_DATA_END -> {
                if (b == '\n') {
                    state = State.CHUNK_SIZE;
                    remaining = 0;
                    chunkDigits = 0;
                }
            }
            case TRAILER_LINE_START -> {
                if (b == ' ' || b == '\t') {
                    return Fold.IN_TRAILERS;
                }
                if (b == '\n') {
                    nextMessage(i + 1);
                } else if (b != '\r') {
                    state = State.TRAILER_LINE;
                }
            }
            case TRAILER_LINE -> {
                if (b == '\n') {
                    state = State.TRAILER_LINE_START;
                }
            }
            default -> throw new IllegalStateException("no byte step in " + state);
        }
        return Fold.NONE;
    }

    private void fieldByte(byte b) {
        if (b == '\n') {
            endField();
            state = State.FIELD_LINE_START;
        } else if (!inValue) {
            if (b == ':') {
                inValue = true;
                framingField = nameIs(CONTENT_LENGTH) || nameIs(TRANSFER_ENCODING);
                upgradeField = nameIs(UPGRADE);
            } else if (nameLength <= MAX_NAME) {
                // ASCII lower case is enough: the names compared are ASCII, and no byte above 0x7f lowers to one.
                name[nameLength++] = b >= 'A' && b <= 'Z' ? (byte) (b + ('a' - 'A')) : b;
            }
        } else if (framingField) {
            if (value.length() < MAX_VALUE) {
                value.append((char) (b & 0xff));
            } else {
                framingUnclear = true;
            }
        }
    }

    private static final byte[] CONTENT_LENGTH = "content-length".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] TRANSFER_ENCODING = "transfer-encoding".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] UPGRADE = "upgrade".getBytes(StandardCharsets.US_ASCII);

    /** The field name scanned so far is {@code lower} (lower-case ASCII). */
    private boolean nameIs(byte[] lower) {
        return nameLength == lower.length && java.util.Arrays.equals(name, 0, nameLength, lower, 0, lower.length);
    }

    /** Strings only for the fields that frame the message: a head's other fields cost no allocation. */
    private void endField() {
        if (upgradeField) {
            upgrade = true;
        }
        if (!framingField) {
            return;
        }
        if (nameIs(CONTENT_LENGTH)) {
            contentLengths++;
            contentLength = value.toString().strip();
        } else {
            String v = value.toString().strip();
            transferEncoding = transferEncoding == null ? v : transferEncoding + "," + v;
        }
    }

    /** The empty line: decide how long the body is (RFC 9112 section 6.3), or stop where the codec refuses. */
    private void endHead(int i) {
        prefaceAllowed = cleartext && upgrade;
        if (framingUnclear) {
            state = State.PASS;
        } else if (transferEncoding != null) {
            boolean chunkedLast = CHUNKED_LAST.matcher(transferEncoding.strip().toLowerCase(Locale.ROOT)).matches();
            if (contentLengths == 0 && chunkedLast) {
                state = State.CHUNK_SIZE;
                remaining = 0;
                chunkDigits = 0;
            } else {
                state = State.PASS;
            }
        } else if (contentLengths == 1 && DIGITS.matcher(contentLength).matches()) {
            remaining = Long.parseLong(contentLength);
            if (remaining == 0) {
                nextMessage(i + 1);
            } else {
                state = State.FIXED_BODY;
            }
        } else if (contentLengths > 0) {
            state = State.PASS;
        } else {
            nextMessage(i + 1);
        }
    }

    private void chunkSizeByte(byte b) {
        int digit = Character.digit((char) (b & 0xff), 16);
        if (digit >= 0 && chunkDigits < 15) {
            remaining = remaining * 16 + digit;
            chunkDigits++;
        } else if (b == ';' || b == ' ' || b == '\t') {
            state = State.CHUNK_EXTENSION;
        } else if (b == '\n') {
            endChunkSize();
        } else if (b != '\r') {
            state = State.PASS; // a bad chunk size: the codec fails the request
        }
    }

    private void endChunkSize() {
        if (chunkDigits == 0) {
            state = State.PASS;
        } else {
            state = remaining == 0 ? State.TRAILER_LINE_START : State.CHUNK_DATA;
        }
    }

    private void nextMessage(int startIndex) {
        state = State.HEAD_START;
        messageStart = startIndex;
    }

    private void resetHead() {
        contentLengths = 0;
        contentLength = null;
        transferEncoding = null;
        upgrade = false;
        framingUnclear = false;
    }
}
