package io.h3relay.policy.auth;

import io.netty.channel.Channel;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.AttributeKey;

import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLPeerUnverifiedException;

/**
 * The verified client certificate's subject of a downstream connection (mTLS listeners: TCP through the
 * SslHandler, QUIC through the connection's engine), looked up once per connection and kept on it.
 */
final class ClientCertificates {
    /** "" when the connection has no client certificate. */
    private static final AttributeKey<String> SUBJECT = AttributeKey.valueOf("h3relay.clientCertSubject");

    private ClientCertificates() {
    }

    /** The subject DN (RFC 2253) of the client certificate, or null. {@code ch}: the request's channel. */
    static String subject(Channel ch) {
        for (Channel c = ch; c != null; c = c.parent()) {
            SSLEngine engine = null;
            if (c instanceof QuicChannel q) {
                engine = q.sslEngine();
            } else {
                SslHandler ssl = c.pipeline().get(SslHandler.class);
                if (ssl != null) {
                    engine = ssl.engine();
                }
            }
            if (engine == null) {
                continue;
            }
            String cached = c.attr(SUBJECT).get();
            if (cached == null) {
                cached = read(engine);
                c.attr(SUBJECT).set(cached);
            }
            return cached.isEmpty() ? null : cached;
        }
        return null;
    }

    private static String read(SSLEngine engine) {
        try {
            Certificate[] chain = engine.getSession().getPeerCertificates();
            return chain.length > 0 && chain[0] instanceof X509Certificate x
                    ? x.getSubjectX500Principal().getName() : "";
        } catch (SSLPeerUnverifiedException e) {
            return "";
        }
    }
}
