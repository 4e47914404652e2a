package io.h3relay.testing;

import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import javax.net.ssl.SSLException;

/** The server TLS context of a TLS {@link TestEndpoint}. */
final class TlsSupport {

  private TlsSupport() {}

  static SslContext serverContext(TestCertificates certs, boolean requireClientCert) {
    try {
      SslContextBuilder builder = SslContextBuilder.forServer(certs.leafKey(), certs.leafChain())
          // The JDK provider, not OpenSSL: the relay talks BoringSSL, so this side differs on purpose
          // and the fixture needs no native library.
          .sslProvider(SslProvider.JDK)
          // Offer only http/1.1, so an ALPN client that prefers h2 still lands on HTTP/1.1.
          .applicationProtocolConfig(new ApplicationProtocolConfig(
              ApplicationProtocolConfig.Protocol.ALPN,
              ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
              ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
              ApplicationProtocolNames.HTTP_1_1));
      if (requireClientCert) {
        builder.trustManager(certs.caCert()).clientAuth(ClientAuth.REQUIRE);
      }
      return builder.build();
    } catch (SSLException e) {
      throw new IllegalStateException("cannot build server TLS context", e);
    }
  }
}
