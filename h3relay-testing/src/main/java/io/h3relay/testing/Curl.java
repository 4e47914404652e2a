package io.h3relay.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Builds and runs one curl request, the way interop tests use it:
 *
 * <pre>
 *   Curl.Response r = Curl.to(url).http2().cacert(certs.caCertPath()).execute();
 *   assertThat(r.status()).isEqualTo(200);
 *   assertThat(r.httpVersion()).isEqualTo("2");
 * </pre>
 *
 * The command is {@code curl -sS <version> [-k] -D HEADERS -o BODY -w '%{http_code} %{http_version}'};
 * the body and the header dump go to temp files so binary bodies survive intact. A curl failure
 * (non-zero exit, e.g. 18 for a truncated body or 56 for a reset) is reported in the response, not
 * thrown, because tests of failure paths assert on it.
 */
public final class Curl {

  /** The protocol flag curl gets. */
  public enum Version {
    HTTP1_1("--http1.1"), HTTP2("--http2"), HTTP2_PRIOR_KNOWLEDGE("--http2-prior-knowledge"), HTTP3("--http3-only");

    private final String flag;

    Version(String flag) {
      this.flag = flag;
    }
  }

  /**
   * What curl saw. {@code status} is 0 and {@code httpVersion} "0" if no response arrived; header
   * names are lowercase, in arrival order, from the final response (not 1xx ones).
   */
  public record Response(int exitCode, int status, String httpVersion, List<Map.Entry<String, String>> headers,
      List<Map.Entry<String, String>> trailers, byte[] body, String stderr) {

    public Optional<String> header(String name) {
      return CurlHeaders.first(headers, name);
    }

    public Optional<String> trailer(String name) {
      return CurlHeaders.first(trailers, name);
    }

    public String bodyString() {
      return new String(body, StandardCharsets.UTF_8);
    }
  }

  private final String url;
  private Version version = Version.HTTP1_1;
  private String method;
  private final List<String> args = new ArrayList<>();
  private byte[] body;
  private Path bodyFile;
  private Duration timeout = Duration.ofSeconds(30);

  private Curl(String url) {
    this.url = url;
  }

  public static Curl to(String url) {
    return new Curl(url);
  }

  public Curl version(Version v) {
    this.version = v;
    return this;
  }

  public Curl http1_1() {
    return version(Version.HTTP1_1);
  }

  public Curl http2() {
    return version(Version.HTTP2);
  }

  public Curl http2PriorKnowledge() {
    return version(Version.HTTP2_PRIOR_KNOWLEDGE);
  }

  public Curl http3() {
    return version(Version.HTTP3);
  }

  /** {@code -k}: accept any server certificate. */
  public Curl insecure() {
    return arg("-k");
  }

  public Curl cacert(Path caPem) {
    return arg("--cacert", caPem.toString());
  }

  /** Presents a client certificate (mTLS). */
  public Curl clientCert(Path certPem, Path keyPem) {
    return arg("--cert", certPem.toString(), "--key", keyPem.toString());
  }

  /** {@code --resolve host:port:addr}, to reach a name-based listener on 127.0.0.1. */
  public Curl resolve(String hostPortAddress) {
    return arg("--resolve", hostPortAddress);
  }

  public Curl method(String m) {
    this.method = m;
    return this;
  }

  public Curl header(String name, String value) {
    return arg("-H", name + ": " + value);
  }

  /** Sends {@code data} as the request body (POST unless {@link #method} says otherwise). */
  public Curl body(byte[] data) {
    this.body = data.clone();
    return this;
  }

  /** Sends the file's bytes as the request body, for large uploads. */
  public Curl body(Path file) {
    this.bodyFile = file;
    return this;
  }

  /** Whole-transfer limit passed as {@code --max-time}; default 30 s. */
  public Curl timeout(Duration t) {
    this.timeout = t;
    return this;
  }

  /** Any other curl arguments, appended before the URL. */
  public Curl arg(String... more) {
    args.addAll(List.of(more));
    return this;
  }

  /** Runs curl (skipping or failing the test if it is not installed) and collects what it saw. */
  public Response execute() {
    Path curl = ExternalTool.require("curl");
    Path headersFile = null;
    Path bodyOut = null;
    Path upload = null;
    try {
      headersFile = Files.createTempFile("h3relay-curl", ".headers");
      bodyOut = Files.createTempFile("h3relay-curl", ".body");
      if (body != null) {
        upload = Files.createTempFile("h3relay-curl", ".upload");
        Files.write(upload, body);
      }
      Path source = bodyFile != null ? bodyFile : upload;
      List<String> command = command(curl, headersFile, bodyOut, source);
      // curl's own --max-time should fire first; the process limit only catches a hung curl.
      ExternalTool.Result result = ExternalTool.run(timeout.plusSeconds(10), command);
      String[] written = result.stdoutString().trim().split(" ");
      int status = written.length > 0 && !written[0].isEmpty() ? Integer.parseInt(written[0]) : 0;
      String httpVersion = written.length > 1 ? written[1] : "0";
      CurlHeaders parsed = CurlHeaders.parse(Files.readString(headersFile, StandardCharsets.ISO_8859_1));
      return new Response(result.exitCode(), status, httpVersion, parsed.headers(), parsed.trailers(),
          Files.readAllBytes(bodyOut), result.stderr());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      ExternalTool.deleteQuietly(headersFile);
      ExternalTool.deleteQuietly(bodyOut);
      ExternalTool.deleteQuietly(upload);
    }
  }

  private List<String> command(Path curl, Path headersFile, Path bodyOut, Path upload) {
    List<String> command = new ArrayList<>(List.of(curl.toString(), "-sS", version.flag,
        "-D", headersFile.toString(), "-o", bodyOut.toString(), "-w", "%{http_code} %{http_version}",
        "--max-time", Long.toString(Math.max(1, timeout.toSeconds()))));
    if (upload != null) {
      command.addAll(List.of("--data-binary", "@" + upload));
    }
    if (method != null) {
      command.addAll(List.of("-X", method));
    }
    command.addAll(args);
    command.add(url);
    return command;
  }
}
