package io.h3relay.config;

import io.h3relay.config.ClusterConfig.UpstreamTls;
import io.h3relay.config.TlsServerConfig.ClientAuth;
import io.h3relay.config.TlsServerConfig.SniCertificate;
import io.h3relay.config.TlsServerConfig.TlsVersion;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The {@code tls:} blocks: downstream (listener) and upstream (cluster). Certificate files must exist and be
 * readable now: a proxy that starts and then fails its first handshake is worse than one that refuses to
 * start. Their contents are checked later, when the TLS contexts are built.
 */
final class TlsParser {
    private static final Map<String, TlsVersion> VERSIONS = new LinkedHashMap<>();
    private static final Map<String, ClientAuth> CLIENT_AUTH = new LinkedHashMap<>();

    static {
        VERSIONS.put("TLSv1.2", TlsVersion.TLS_1_2);
        VERSIONS.put("TLSv1.3", TlsVersion.TLS_1_3);
        CLIENT_AUTH.put("none", ClientAuth.NONE);
        CLIENT_AUTH.put("optional", ClientAuth.OPTIONAL);
        CLIENT_AUTH.put("require", ClientAuth.REQUIRE);
    }

    private TlsParser() {}

    static TlsServerConfig server(YamlMap m) {
        KeyPair pair = keyPair(m);
        String password = m.string("password");
        TlsVersion min = m.oneOf("min_version", VERSIONS, TlsVersion.TLS_1_2);
        ClientAuth auth = m.oneOf("client_auth", CLIENT_AUTH, ClientAuth.NONE);
        Path clientCa = file(m, "client_ca");
        if (auth != ClientAuth.NONE && clientCa == null && !m.has("client_ca")) {
            m.missing("client_ca", "client_ca, the CA that signs client certificates, when client_auth is "
                    + auth.name().toLowerCase(Locale.ROOT));
        }
        List<SniCertificate> sni = new ArrayList<>();
        Map<String, Integer> seenNames = new HashMap<>();
        for (YamlMap s : m.maps("sni")) {
            sni.add(sniCertificate(s, seenNames));
        }
        m.finish();
        return new TlsServerConfig(pair.certificate, pair.privateKey, password, min, auth, clientCa, sni);
    }

    private static SniCertificate sniCertificate(YamlMap s, Map<String, Integer> seenNames) {
        List<String> names = new ArrayList<>();
        List<Scalar> written = s.scalars("server_names", "a server name such as api.example.com or *.example.com");
        for (Scalar n : written) {
            String pattern = Addresses.hostPattern(n.text());
            if (pattern == null || pattern.equals("*")) {
                s.ctx().invalid(n, "a server name such as api.example.com or *.example.com");
            } else if (seenNames.containsKey(pattern)) {
                s.ctx().invalid(n, "a server name not already used, first at line " + seenNames.get(pattern));
            } else {
                seenNames.put(pattern, n.line());
                names.add(pattern);
            }
        }
        if (written.isEmpty() && !s.has("server_names")) {
            s.missing("server_names", "a list of server names");
        }
        KeyPair pair = keyPair(s);
        String password = s.string("password");
        s.finish();
        return new SniCertificate(names, pair.certificate, pair.privateKey, password);
    }

    private record KeyPair(Path certificate, Path privateKey) {}

    /** A PEM chain needs its key; a PKCS#12 keystore holds its key, so a separate one is a mistake. */
    private static KeyPair keyPair(YamlMap m) {
        Path cert = file(m, "certificate");
        Path key = file(m, "private_key");
        if (!m.has("certificate")) {
            m.missing("certificate", "a PEM certificate chain, or a .p12/.pfx keystore");
        } else if (cert != null && isPkcs12(cert) && m.has("private_key")) {
            m.ctx().error(m.path("private_key"), ConfigError.quote(m.string("private_key")),
                    "no private_key with a .p12/.pfx keystore: it holds the key (set password instead)",
                    m.lineOf("private_key"));
        } else if (cert != null && !isPkcs12(cert) && !m.has("private_key")) {
            m.missing("private_key", "the PEM private key for certificate");
        }
        return new KeyPair(cert, key);
    }

    static UpstreamTls upstream(YamlMap m) {
        boolean verify = m.bool("verify", true);
        Path ca = file(m, "ca");
        String sni = m.value("sni", "a server name such as api.internal",
                t -> Addresses.isHostName(t) ? t.toLowerCase(Locale.ROOT) : null);
        // server_name (the name for it) and sni are the same setting: the name sent as SNI and the one
        // the endpoint's certificate must carry.
        String serverName = m.value("server_name", "a server name such as api.internal",
                t -> Addresses.isHostName(t) ? t.toLowerCase(Locale.ROOT) : null);
        if (m.has("server_name") && m.has("sni")) {
            m.notAllowed("server_name", "server_name or sni, not both (they are one setting)");
        } else if (serverName != null) {
            sni = serverName;
        }
        Path cert = file(m, "certificate");
        Path key = file(m, "private_key");
        if (m.has("certificate") && !m.has("private_key")) {
            m.missing("private_key", "the PEM private key for certificate (client certificate for mTLS)");
        } else if (m.has("private_key") && !m.has("certificate")) {
            m.missing("certificate", "the PEM client certificate for private_key");
        }
        m.finish();
        return new UpstreamTls(verify, ca, sni, cert, key);
    }

    static boolean isPkcs12(Path p) {
        String n = p.getFileName() == null ? "" : p.getFileName().toString().toLowerCase(Locale.ROOT);
        return n.endsWith(".p12") || n.endsWith(".pfx");
    }

    /** A file path, resolved against the config's folder; absent reads as null; unreadable is reported. */
    static Path file(YamlMap m, String key) {
        Scalar s = m.scalar(key, "a file path");
        if (s == null) {
            return null;
        }
        if (s.text().isBlank()) {
            m.ctx().invalid(s, "a file path");
            return null;
        }
        Path p = m.ctx().resolve(s.text());
        if (!Files.isRegularFile(p) || !Files.isReadable(p)) {
            m.ctx().invalid(s, "a readable file (relative paths start at the config file's folder)");
        }
        return p;
    }
}
