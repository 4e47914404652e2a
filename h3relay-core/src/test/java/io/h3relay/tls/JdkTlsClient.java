package io.h3relay.tls;

import io.netty.handler.ssl.util.InsecureTrustManagerFactory;

import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * An independent client for downstream tests: the JDK's own TLS stack over a blocking socket. It
 * trusts any certificate, because these tests check which certificate the server presents, not
 * whether a client would trust it (the upstream tests cover verification).
 */
public final class JdkTlsClient {
    /** What the client saw: the negotiated version and ALPN, the server's leaf, and the server's line. */
    public record Outcome(String protocol, String alpn, X509Certificate peer, String line) {}

    private String[] protocols = {"TLSv1.3", "TLSv1.2"};
    private List<String> alpn = List.of();
    private String sni;
    private TestPki.Issued clientCert;

    public JdkTlsClient protocols(String... protocols) {
        this.protocols = protocols;
        return this;
    }

    public JdkTlsClient alpn(String... protocols) {
        this.alpn = List.of(protocols);
        return this;
    }

    public JdkTlsClient sni(String name) {
        this.sni = name;
        return this;
    }

    public JdkTlsClient clientCertificate(TestPki.Issued cert) {
        this.clientCert = cert;
        return this;
    }

    /** Connects, handshakes and reads the server's line; throws what the JDK throws on failure. */
    public Outcome connect(int port) throws Exception {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(keyManagers(), InsecureTrustManagerFactory.INSTANCE.getTrustManagers(), null);
        try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            SSLParameters params = socket.getSSLParameters();
            params.setProtocols(protocols);
            params.setApplicationProtocols(alpn.toArray(String[]::new));
            params.setServerNames(sni == null ? List.of() : List.of(new SNIHostName(sni)));
            socket.setSSLParameters(params);
            socket.startHandshake();
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
            String line = in.readLine();
            if (line == null) {
                throw new java.io.EOFException("server closed the connection without a reply");
            }
            return new Outcome(socket.getSession().getProtocol(), socket.getApplicationProtocol(),
                    (X509Certificate) socket.getSession().getPeerCertificates()[0], line);
        }
    }

    private KeyManager[] keyManagers() throws Exception {
        if (clientCert == null) {
            return null;
        }
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setKeyEntry("client", clientCert.key(), new char[0], new X509Certificate[] {clientCert.cert()});
        KeyManagerFactory factory = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        factory.init(store, new char[0]);
        return factory.getKeyManagers();
    }
}
