package io.h3relay.listener.h3;

import io.netty.handler.codec.quic.QuicChannel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLEngine;
import java.lang.reflect.Method;

/**
 * What Netty 4.2.18's QUIC server knows but does not expose, read through its internals by reflection; each
 * falls back to what the public API gives (with one log line) should a later Netty change them.
 *
 * <p>0-RTT: Netty hands a server connection's streams over only after it has been asked to read (autoRead does
 * that when the channel becomes active, at the end of the handshake) and only from the processing of a received
 * datagram. The ClientHello's certificate callback runs as an SSL task, and quiche goes on with the handshake
 * (and starts accepting early data) only when Netty next sends: by then the datagrams that carried the 0-RTT
 * requests have been processed, and nothing arrives until the client's Finished completes the handshake. So
 * without help every 0-RTT request would reach h3relay after the handshake, as a 1-RTT request would (safe, but no
 * faster). {@link #deliverEarlyStreams} asks for reads at once and, as soon as quiche says the connection is in
 * early data, marks the connection's streams readable (the private {@code streamReadable} flag) and reads.
 *
 * <p>Resumption: whether a QUIC handshake resumed a session. Netty 4.2.18 knows (BoringSSL's SSL_session_reused reaches
 * {@code QuicheQuicSslEngine.handshakeFinished(..., sessionReused)}) but keeps it package-private
 * ({@code isSessionReused()}); it is read by reflection, and reported as false (with one log line) should a
 * later Netty move it.
 */
final class QuicSessions {
    private static final Logger LOG = LoggerFactory.getLogger(QuicSessions.class);
    private static volatile Method reused;
    private static volatile boolean unavailable;

    private QuicSessions() {
    }

    private static final int EARLY_DATA_POLLS = 50;
    private static volatile boolean earlyUnavailable;
    private static volatile java.lang.reflect.Field connectionField;
    private static volatile java.lang.reflect.Field streamReadableField;
    private static volatile Method addressMethod;
    private static volatile Method inEarlyDataMethod;

    /** See the class comment; a no-op (requests wait for the handshake) when Netty's internals differ. */
    static void deliverEarlyStreams(QuicChannel ch) {
        ch.read(); // streams become readable for Netty from now on, not only once the channel is active
        if (!earlyUnavailable) {
            ch.eventLoop().execute(() -> pollEarlyData(ch, 0));
        }
    }

    private static void pollEarlyData(QuicChannel ch, int attempt) {
        if (ch.isActive() || !ch.isOpen()) {
            return; // handshake complete: Netty reads everything now
        }
        try {
            if (connectionField == null) {
                java.lang.reflect.Field c = ch.getClass().getDeclaredField("connection");
                c.setAccessible(true);
                java.lang.reflect.Field r = ch.getClass().getDeclaredField("streamReadable");
                r.setAccessible(true);
                Object conn = c.get(ch);
                Method a = conn.getClass().getDeclaredMethod("address");
                a.setAccessible(true);
                Method e = Class.forName("io.netty.handler.codec.quic.Quiche")
                        .getDeclaredMethod("quiche_conn_is_in_early_data", long.class);
                e.setAccessible(true);
                streamReadableField = r;
                addressMethod = a;
                inEarlyDataMethod = e;
                connectionField = c;
            }
            Object conn = connectionField.get(ch);
            long address = (Long) addressMethod.invoke(conn);
            if ((Boolean) inEarlyDataMethod.invoke(null, address)) {
                streamReadableField.setBoolean(ch, true);
                ch.read();
                return;
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            earlyUnavailable = true;
            LOG.info("0-RTT requests are handled after the handshake with this Netty ({})", e.toString());
            return;
        }
        if (attempt < EARLY_DATA_POLLS) {
            ch.eventLoop().schedule(() -> pollEarlyData(ch, attempt + 1), 1, java.util.concurrent.TimeUnit.MILLISECONDS);
        }
    }

    static boolean resumed(QuicChannel ch) {
        SSLEngine engine = ch.sslEngine();
        if (engine == null || unavailable) {
            return false;
        }
        try {
            Method m = reused;
            if (m == null) {
                m = engine.getClass().getDeclaredMethod("isSessionReused");
                m.setAccessible(true);
                reused = m;
            }
            return (Boolean) m.invoke(engine);
        } catch (ReflectiveOperationException | RuntimeException e) {
            unavailable = true;
            LOG.info("resumed QUIC handshakes cannot be counted with this Netty ({})", e.toString());
            return false;
        }
    }
}
