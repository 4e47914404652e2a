package io.h3relay.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Each TestEndpoint behaviour, driven by the JDK's HTTP/1.1 client. */
class TestEndpointTest {

  private static HttpClient client;
  private TestEndpoint endpoint;

  @BeforeAll
  static void client() {
    client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  }

  @AfterAll
  static void closeClient() {
    client.close();
  }

  @BeforeEach
  void start() {
    endpoint = TestEndpoint.start("e1");
  }

  @AfterEach
  void stop() {
    endpoint.close();
  }

  @Test
  void defaultPathNamesTheEndpoint() throws Exception {
    HttpResponse<String> response = get("/anything?x=1");

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).isEqualTo("endpoint e1");
    assertThat(response.headers().firstValue("x-endpoint")).hasValue("e1");
    assertThat(endpoint.requestCount()).isEqualTo(1);
    RecordedRequest recorded = endpoint.lastRequest();
    assertThat(recorded.method()).isEqualTo("GET");
    assertThat(recorded.uri()).isEqualTo("/anything?x=1");
    assertThat(recorded.path()).isEqualTo("/anything");
    assertThat(recorded.header("HOST")).hasValue(endpoint.address());
    assertThat(recorded.bodyLength()).isZero();
    assertThat(recorded.bodySha256()).isEqualTo(BodyPattern.sha256Hex(0));
  }

  @Test
  void echoStreamsOneMebibyteBackWithRequestHeaders() throws Exception {
    byte[] body = BodyPattern.bytes(1 << 20);
    HttpRequest request = request("/echo?q=1").header("x-test", "v1")
        .POST(BodyPublishers.ofByteArray(body)).build();

    HttpResponse<byte[]> response = client.send(request, BodyHandlers.ofByteArray());

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(BodyPattern.sha256Hex(response.body())).isEqualTo(BodyPattern.sha256Hex(1 << 20));
    assertThat(response.headers().firstValue("content-length")).hasValue(Integer.toString(1 << 20));
    assertThat(response.headers().firstValue("x-echo-method")).hasValue("POST");
    assertThat(response.headers().firstValue("x-echo-uri")).hasValue("/echo?q=1");
    assertThat(response.headers().firstValue("x-echo-h-x-test")).hasValue("v1");
    assertThat(endpoint.lastRequest().bodyLength()).isEqualTo(1 << 20);
    assertThat(endpoint.lastRequest().bodySha256()).isEqualTo(BodyPattern.sha256Hex(1 << 20));
  }

  @Test
  void echoOfChunkedUploadIsChunked() throws Exception {
    long n = 3 * 1024 * 1024 + 17;
    HttpRequest request = request("/echo")
        .POST(BodyPublishers.ofInputStream(() -> BodyPattern.inputStream(n))).build();

    HttpResponse<InputStream> response = client.send(request, BodyHandlers.ofInputStream());

    assertThat(response.headers().firstValue("content-length")).isEmpty();
    assertThat(sha256(response.body())).isEqualTo(BodyPattern.sha256Hex(n));
  }

  @Test
  void bytesServesTenMebibytesWithContentLength() throws Exception {
    long n = 10L * 1024 * 1024;
    HttpResponse<InputStream> response =
        client.send(request("/bytes?n=" + n).build(), BodyHandlers.ofInputStream());

    assertThat(response.headers().firstValue("content-length")).hasValue(Long.toString(n));
    assertThat(sha256(response.body())).isEqualTo(TestEndpoint.expectedSha256(n));
  }

  @Test
  void bytesChunked() throws Exception {
    long n = 1_000_003;
    HttpResponse<InputStream> response =
        client.send(request("/bytes?n=" + n + "&chunked=1").build(), BodyHandlers.ofInputStream());

    assertThat(response.headers().firstValue("content-length")).isEmpty();
    assertThat(sha256(response.body())).isEqualTo(TestEndpoint.expectedSha256(n));
  }

  @Test
  void slowSpacesItsChunks() throws Exception {
    long started = System.nanoTime();
    HttpResponse<byte[]> response =
        client.send(request("/slow?chunks=3&interval=100&size=10").build(), BodyHandlers.ofByteArray());

    assertThat(response.body()).isEqualTo(BodyPattern.bytes(30));
    // A lower bound only: the point is that the chunks are spaced, not how fast the machine is.
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThanOrEqualTo(Duration.ofMillis(250));
  }

  @Test
  void delayAnswersAfterTheDelay() throws Exception {
    long started = System.nanoTime();
    HttpResponse<String> response = get("/delay?ms=200");

    assertThat(response.body()).isEqualTo("ok");
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThanOrEqualTo(Duration.ofMillis(180));
  }

  @Test
  void statusAnswersWithThatStatus() throws Exception {
    HttpResponse<String> unavailable = get("/status/503");
    HttpResponse<String> noContent = get("/status/204");

    assertThat(unavailable.statusCode()).isEqualTo(503);
    assertThat(unavailable.body()).isEqualTo("status 503\n");
    assertThat(noContent.statusCode()).isEqualTo(204);
    assertThat(noContent.body()).isEmpty();
    assertThat(get("/status/abc").statusCode()).isEqualTo(400);
  }

  @Test
  void headersDescribesTheRequestAsJson() throws Exception {
    HttpResponse<String> response = client.send(request("/headers?a=b").header("X-Mixed-Case", "v\"q").build(),
        BodyHandlers.ofString());

    assertThat(response.headers().firstValue("content-type")).hasValue("application/json");
    assertThat(response.body())
        .startsWith("{\"endpoint\":\"e1\",\"method\":\"GET\",\"uri\":\"/headers?a=b\",\"headers\":[")
        .contains("[\"x-mixed-case\",\"v\\\"q\"]");
  }

  @Test
  void sinkReportsLengthAndDigestOfTheUpload() throws Exception {
    long n = 10L * 1024 * 1024;
    HttpRequest request = request("/sink")
        .POST(BodyPublishers.ofInputStream(() -> BodyPattern.inputStream(n))).build();

    HttpResponse<String> response = client.send(request, BodyHandlers.ofString());

    assertThat(response.body()).isEqualTo("{\"bytes\":" + n + ",\"sha256\":\"" + BodyPattern.sha256Hex(n) + "\"}");
  }

  @Test
  void resetGivesTheClientAnIoError() {
    assertThatThrownBy(() -> get("/reset")).isInstanceOf(IOException.class);
    assertThat(endpoint.requestCount()).isGreaterThanOrEqualTo(1);
    assertThat(endpoint.lastRequest().path()).isEqualTo("/reset");
  }

  @Test
  void closeMidBodyTruncatesBothFramings() {
    assertThatThrownBy(() -> client.send(request("/close-mid-body?n=100000&after=5000").build(),
        BodyHandlers.ofByteArray())).isInstanceOf(IOException.class);
    assertThatThrownBy(() -> client.send(request("/close-mid-body?n=100000&after=5000&chunked=1").build(),
        BodyHandlers.ofByteArray())).isInstanceOf(IOException.class);
  }

  @Test
  void keepAliveServesSequentialRequestsOnOneConnection() throws Exception {
    for (int i = 0; i < 3; i++) {
      assertThat(get("/bytes?n=100").statusCode()).isEqualTo(200);
    }

    assertThat(endpoint.connectionCount()).isEqualTo(1);
    assertThat(endpoint.requests()).hasSize(3).extracting(RecordedRequest::connection).containsOnly(1);
  }

  @Test
  void stopRefusesConnectionsAndRestartServesOnTheSamePort() throws Exception {
    int port = endpoint.port();
    assertThat(get("/").statusCode()).isEqualTo(200);

    endpoint.stop();
    assertThat(endpoint.isRunning()).isFalse();
    assertThatThrownBy(() -> get("/")).isInstanceOf(ConnectException.class);

    endpoint.restart();
    assertThat(endpoint.port()).isEqualTo(port);
    assertThat(get("/").body()).isEqualTo("endpoint e1");
    assertThat(endpoint.connectionCount()).isEqualTo(2);
  }

  private HttpRequest.Builder request(String pathAndQuery) {
    return HttpRequest.newBuilder(URI.create(endpoint.baseUrl() + pathAndQuery)).timeout(Duration.ofSeconds(60));
  }

  private HttpResponse<String> get(String pathAndQuery) throws IOException, InterruptedException {
    return client.send(request(pathAndQuery).build(), BodyHandlers.ofString());
  }

  static String sha256(InputStream in) throws IOException {
    try (in) {
      MessageDigest digest = BodyPattern.sha256();
      byte[] buf = new byte[64 * 1024];
      for (int n; (n = in.read(buf)) >= 0; ) {
        digest.update(buf, 0, n);
      }
      return HexFormat.of().formatHex(digest.digest());
    }
  }
}
