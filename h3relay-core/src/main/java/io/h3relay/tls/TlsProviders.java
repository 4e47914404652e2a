package io.h3relay.tls;

import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Picks the TLS engine for TCP listeners and upstream connections: BoringSSL (netty-tcnative) when
 * its native library loads, because it is much cheaper per handshake and per byte than the JDK's
 * SSLEngine, else the JDK engine. The system property {@code h3relay.tls.provider} ({@code openssl}
 * or {@code jdk}) overrides the choice, for diagnosing engine-specific behaviour and for tests.
 */
public final class TlsProviders {
    public static final String PROVIDER_PROPERTY = "h3relay.tls.provider";

    private static final Logger log = LoggerFactory.getLogger(TlsProviders.class);
    private static final AtomicBoolean logged = new AtomicBoolean();

    private TlsProviders() {
    }

    /** The provider to use now; logs the choice the first time it is asked. */
    public static SslProvider preferred() {
        SslProvider provider = choose();
        if (logged.compareAndSet(false, true)) {
            log.info("TLS engine: {}", describe(provider));
        }
        return provider;
    }

    private static String describe(SslProvider provider) {
        if (provider == SslProvider.JDK) {
            String reason = OpenSsl.isAvailable() ? "selected by " + PROVIDER_PROPERTY
                    : "netty-tcnative unavailable: " + OpenSsl.unavailabilityCause();
            return "JDK (" + reason + ")";
        }
        return "OpenSSL (" + OpenSsl.versionString() + ")";
    }

    private static SslProvider choose() {
        String forced = System.getProperty(PROVIDER_PROPERTY, "").trim().toLowerCase(Locale.ROOT);
        if (forced.equals("jdk")) {
            return SslProvider.JDK;
        }
        return OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
    }
}
