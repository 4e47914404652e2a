package io.h3relay.cli;

import io.h3relay.tls.DevCertificates;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code h3relay cert --host NAME --out DIR}: a self-signed development certificate and key. */
@Command(name = "cert", mixinStandardHelpOptions = true,
        description = "Write a self-signed development certificate and private key (PEM).")
final class CertCommand implements Callable<Integer> {
    @Option(names = "--host", required = true, paramLabel = "NAME",
            description = "Host name or IP address the certificate is for (repeatable).")
    List<String> hosts;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Folder for NAME.crt and NAME.key.")
    Path out;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter o = spec.commandLine().getOut();
        try {
            DevCertificates.Result r = DevCertificates.generate(hosts, out);
            o.println("certificate: " + r.certificate());
            o.println("private key: " + r.privateKey());
            o.println("names:       " + String.join(", ", hosts));
            o.println("valid until: " + r.x509().getNotAfter().toInstant());
            o.println("spki sha256: " + DevCertificates.spkiSha256Base64(r.x509()));
            o.flush();
            return 0;
        } catch (IOException e) {
            spec.commandLine().getErr().println("h3relay cert: cannot write to " + out + ": " + e.getMessage());
            spec.commandLine().getErr().flush();
            return 1;
        }
    }
}
