package io.h3relay.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** The short-lived commands: validate, cert, --version, --help, and usage errors, with their exit codes. */
class CommandsTest {
    @TempDir
    Path dir;

    record Run(int exit, String out, String err) {}

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = new CommandLine(new Main());
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        int exit = cli.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    @Test
    void validateAcceptsAGoodFile() throws Exception {
        Path f = dir.resolve("ok.yaml");
        Files.writeString(f, """
                listeners:
                  - name: web
                    address: 127.0.0.1:8080
                routes:
                  - name: all
                    match: { path_prefix: / }
                    cluster: app
                clusters:
                  - name: app
                    endpoints: [ { address: 127.0.0.1:9000 } ]
                """);
        Run r = run("validate", f.toString());
        assertThat(r.exit()).isZero();
        assertThat(r.out()).contains("valid (1 listener, 1 route, 1 cluster)");
    }

    @Test
    void validateListsEveryErrorWithLinesAndExits1() throws Exception {
        Path f = dir.resolve("bad.yaml");
        Files.writeString(f, """
                listeners:
                  - name: web
                    address: nowhere
                    colour: blue
                routes:
                  - name: all
                    cluster: missing
                    timeout: 10 seconds
                """);
        Run r = run("validate", f.toString());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains(f + ": line 3: listeners[0].address: \"nowhere\"")
                .contains(f + ": line 4: listeners[0].colour")
                .contains("line 7: routes[0].cluster: \"missing\"")
                .contains("line 8: routes[0].timeout: \"10 seconds\"")
                .contains("4 errors");
    }

    @Test
    void validateReportsAMissingFile() {
        Run r = run("validate", dir.resolve("nope.yaml").toString());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("nope.yaml").contains("unreadable");
    }

    @Test
    void certWritesAKeyPairThatServesTls() throws Exception {
        Run r = run("cert", "--host", "example.test", "--host", "127.0.0.1", "--out", dir.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(dir.resolve("example.test.crt")).exists();
        assertThat(dir.resolve("example.test.key")).exists();
        assertThat(r.out()).contains("spki sha256: ");
        assertThat(Files.readString(dir.resolve("example.test.key"))).startsWith("-----BEGIN PRIVATE KEY-----");
    }

    @Test
    void versionHelpAndUsageErrors() {
        assertThat(run("--version").out()).startsWith("h3relay ");
        assertThat(run("--help").out()).contains("serve", "validate", "demo", "proxy", "cert");
        Run noCommand = run();
        assertThat(noCommand.exit()).isEqualTo(2);
        Run badFlag = run("serve", "-c", "x.yaml", "--nope");
        assertThat(badFlag.exit()).isEqualTo(2);
        assertThat(badFlag.err()).contains("'--nope'");
    }

    @Test
    void serveRefusesAnInvalidConfig() throws Exception {
        Path f = dir.resolve("bad.yaml");
        Files.writeString(f, "listeners: []\n");
        Run r = run("serve", "-c", f.toString());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("listeners");
    }
}
