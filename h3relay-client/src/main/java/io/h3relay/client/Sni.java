package io.h3relay.client;

import io.netty.handler.codec.quic.QuicSslEngine;
import io.netty.util.NetUtil;
import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import java.lang.reflect.Field;
import java.util.List;

/**
 * SNI for every host name that is not an IP literal, as curl sends it. Netty's engines leave it out
 * for a name without a dot ({@code localhost}, a Kubernetes service name such as {@code api}): their
 * check follows the JDK's, not RFC 6066, which allows any host name. Servers that choose a certificate by
 * SNI (Caddy) then refuse the handshake.
 *
 * <p>Over TCP the name is set through {@link SSLParameters#setServerNames}, which both the JDK and
 * the BoringSSL engine honour. Netty 4.2.18's QUIC engine has no such setter: it takes the SNI name only
 * from the peer host given to its constructor, filtered by the same dot check, into a final field read
 * when the connection is created. For a name that check dropped, that field is set here reflectively
 * (a class of ours on the class path may do so on JDK 21-25); should that ever fail (a Netty that renamed
 * the field), a warning says so once and the connection goes ahead without SNI, as before.
 */
public final class Sni {
    private static final InternalLogger log = InternalLoggerFactory.getInstance(Sni.class);
    private static final Field QUIC_HOST_NAME;
    private static final Field QUIC_SERVER_NAMES;

    static {
        Field host = null;
        Field names = null;
        try {
            Class<?> engine = Class.forName("io.netty.handler.codec.quic.QuicheQuicSslEngine");
            host = engine.getDeclaredField("tlsHostName");
            host.setAccessible(true);
            names = engine.getDeclaredField("sniHostNames");
            names.setAccessible(true);
        } catch (ReflectiveOperationException | RuntimeException e) {
            log.warn("cannot set SNI for single-label host names over QUIC (Netty's engine changed?): {}", e.toString());
            host = null;
            names = null;
        }
        QUIC_HOST_NAME = host;
        QUIC_SERVER_NAMES = names;
    }

    private Sni() {
    }

    /** Whether {@code host} goes into SNI: any non-empty name that is not an IPv4 or IPv6 literal. */
    public static boolean applies(String host) {
        return host != null && !host.isEmpty() && !NetUtil.isValidIpV4Address(host) && !NetUtil.isValidIpV6Address(host);
    }

    /** Sets {@code host} as the SNI name of a TCP client engine (no change for an IP literal). */
    public static void set(SSLEngine engine, String host) {
        if (!applies(host)) {
            return;
        }
        SSLParameters p = engine.getSSLParameters();
        p.setServerNames(List.of(new SNIHostName(stripDot(host))));
        engine.setSSLParameters(p);
    }

    /**
     * Sets {@code host} as the SNI name of a QUIC client engine that has none yet; call it before the
     * engine is handed to the QUIC connection (in the codec's engine provider).
     */
    public static void set(QuicSslEngine engine, String host) {
        if (!applies(host) || QUIC_HOST_NAME == null || !QUIC_HOST_NAME.getDeclaringClass().isInstance(engine)) {
            return;
        }
        try {
            if (QUIC_HOST_NAME.get(engine) == null) {
                String name = stripDot(host);
                QUIC_HOST_NAME.set(engine, name);
                List<SNIServerName> names = List.of(new SNIHostName(name));
                QUIC_SERVER_NAMES.set(engine, names);
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            log.warn("cannot set SNI {} over QUIC: {}", host, e.toString());
        }
    }

    private static String stripDot(String host) {
        return host.endsWith(".") ? host.substring(0, host.length() - 1) : host;
    }
}
