package io.h3relay.tls;

import io.h3relay.tls.TlsProviders;
import io.netty.handler.ssl.OpenSsl;

import java.util.stream.Stream;

/** Runs a parameterized test once per TLS engine this machine has (see {@link TlsProviders}). */
public final class Providers {
    private Providers() {
    }

    /** For {@code @MethodSource("io.h3relay.tls.Providers#available")}. */
    public static Stream<String> available() {
        return OpenSsl.isAvailable() ? Stream.of("openssl", "jdk") : Stream.of("jdk");
    }

    public static void use(String provider) {
        System.setProperty(TlsProviders.PROVIDER_PROPERTY, provider);
    }

    public static void reset() {
        System.clearProperty(TlsProviders.PROVIDER_PROPERTY);
    }
}
