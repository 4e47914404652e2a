package io.h3relay.listener.h3;

import io.netty.handler.codec.quic.QuicChannel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLEngine;
import java.lang.reflect.Method;

/**
 * Whether a QUIC handshake resumed a session. Netty 4.2.18 knows (BoringSSL's SSL_session_reused reaches
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
