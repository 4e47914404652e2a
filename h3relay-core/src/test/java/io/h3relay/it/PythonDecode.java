package io.h3relay.it;

import io.h3relay.testing.ExternalTool;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Decodes a body with Debian's Python (zlib, python3-brotli, python3-zstandard): a decoder we did not
 * write. Returns {@code "<length> <sha256>"} of the decoded bytes. Under CI a missing module fails.
 */
final class PythonDecode {
    static final String PYTHON = "/usr/bin/python3";
    private static final String SCRIPT = """
            import sys, hashlib, zlib
            enc, path = sys.argv[1], sys.argv[2]
            data = open(path, 'rb').read()
            if enc == 'gzip':
                out = zlib.decompress(data, 16 + zlib.MAX_WBITS)
            elif enc == 'br':
                import brotli
                out = brotli.decompress(data)
            elif enc == 'zstd':
                import zstandard
                out = zstandard.ZstdDecompressor().decompressobj().decompress(data)
            elif enc == 'identity':
                out = data
            else:
                sys.exit('unknown encoding ' + enc)
            print(len(out), hashlib.sha256(out).hexdigest())
            """;

    private PythonDecode() {}

    static String lengthAndSha256(String encoding, byte[] body) throws Exception {
        if (!Files.isExecutable(Path.of(PYTHON))) {
            ExternalTool.require("python3-debian-at-/usr/bin/python3");
        }
        Path f = Files.createTempFile("h3relay-encoded", ".bin");
        try {
            Files.write(f, body);
            ExternalTool.Result r = ExternalTool.run(Duration.ofSeconds(60), PYTHON, "-c", SCRIPT, encoding, f.toString());
            if (r.exitCode() != 0 && r.stderr().contains("No module named")) {
                String message = "python module missing (Debian python3-brotli / python3-zstandard): " + r.stderr();
                if ("true".equals(System.getenv("CI"))) {
                    throw new AssertionError(message + "; CI=true, so this is a failure");
                }
                org.junit.jupiter.api.Assumptions.abort(message);
            }
            if (r.exitCode() != 0) {
                throw new AssertionError("python could not decode " + encoding + ": " + r);
            }
            return r.stdoutString().trim();
        } finally {
            Files.deleteIfExists(f);
        }
    }

    static String expected(byte[] plain) throws Exception {
        return plain.length + " " + java.util.HexFormat.of().formatHex(
                java.security.MessageDigest.getInstance("SHA-256").digest(plain));
    }
}
