package io.h3relay.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Large bodies, trailers and curl against TestEndpoint. */
class TestEndpointStreamingTest {

  private static final long HUNDRED_MIB = 100L * 1024 * 1024;

  private TestEndpoint endpoint;

  @BeforeEach
  void start() {
    endpoint = TestEndpoint.start();
  }

  @AfterEach
  void stop() {
    endpoint.close();
  }

  @Test
  void hundredMebibyteDownloadAndUpload() throws Exception {
    try (HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
      HttpResponse<InputStream> download = client.send(
          HttpRequest.newBuilder(URI.create(endpoint.baseUrl() + "/bytes?n=" + HUNDRED_MIB)).build(),
          BodyHandlers.ofInputStream());
      assertThat(TestEndpointTest.sha256(download.body())).isEqualTo(TestEndpoint.expectedSha256(HUNDRED_MIB));

      HttpResponse<String> upload = client.send(
          HttpRequest.newBuilder(URI.create(endpoint.baseUrl() + "/sink"))
              .POST(BodyPublishers.fromPublisher(
                  BodyPublishers.ofInputStream(() -> BodyPattern.inputStream(HUNDRED_MIB)), HUNDRED_MIB))
              .build(),
          BodyHandlers.ofString());
      assertThat(upload.body()).contains("\"bytes\":" + HUNDRED_MIB, TestEndpoint.expectedSha256(HUNDRED_MIB));
    }
  }

  @Test
  void bytesPausesForAStalledReaderWithBoundedMemoryAndResumes() throws Exception {
    long n = HUNDRED_MIB;
    try (Socket socket = new Socket()) {
      socket.setReceiveBufferSize(64 * 1024);
      socket.connect(endpoint.socketAddress());
      socket.setSoTimeout(30_000);
      socket.getOutputStream().write(("GET /bytes?n=" + n + " HTTP/1.1\r\nHost: x\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      // Read nothing for a while: the endpoint must stop at its write buffer, not queue 100 MiB.
      Thread.sleep(500);
      assertThat(usedDirectMemory()).isLessThan(32L * 1024 * 1024);

      InputStream in = socket.getInputStream();
      String head = readHead(in);
      assertThat(head).startsWith("HTTP/1.1 200 OK").contains("content-length: " + n);
      String sha = TestEndpointTest.sha256(new BoundedInputStream(in, n));
      assertThat(sha).isEqualTo(TestEndpoint.expectedSha256(n));
    }
  }

  @Test
  void connectionCloseRequestIsAnsweredAndClosed() throws Exception {
    for (String path : List.of("/", "/bytes?n=10", "/bytes?n=10&chunked=1", "/trailers", "/echo")) {
      String response = exchangeRaw("GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");

      // readAllBytes returned, so the endpoint closed the connection after the response.
      assertThat(response).as(path).startsWith("HTTP/1.1 200 OK").contains("connection: close");
    }
  }

  @Test
  void echoReturnsRequestTrailersAsResponseTrailers() throws Exception {
    // The JDK client cannot send trailers, so this request is written by hand.
    String request = "POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
        + "5\r\nhello\r\n0\r\nx-t: v\r\n\r\n";
    String response = exchangeRaw(request);

    assertThat(response).startsWith("HTTP/1.1 200 OK").contains("transfer-encoding: chunked")
        .endsWith("5\r\nhello\r\n0\r\nx-t: v\r\n\r\n");
    assertThat(endpoint.lastRequest().trailer("X-T")).hasValue("v");
    assertThat(endpoint.lastRequest().bodyLength()).isEqualTo(5);
  }

  /** Writes {@code request} on a new connection and reads until the endpoint closes it. */
  private String exchangeRaw(String request) throws IOException {
    try (Socket socket = new Socket("127.0.0.1", endpoint.port())) {
      socket.setSoTimeout(30_000);
      OutputStream out = socket.getOutputStream();
      out.write(request.getBytes(StandardCharsets.US_ASCII));
      out.flush();
      return new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
    }
  }

  private static long usedDirectMemory() {
    return ((ByteBufAllocatorMetricProvider) ByteBufAllocator.DEFAULT).metric().usedDirectMemory();
  }

  private static String readHead(InputStream in) throws IOException {
    StringBuilder head = new StringBuilder();
    while (head.length() < 4 || !head.substring(head.length() - 4).equals("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) {
        throw new EOFException("connection closed in the response head: " + head);
      }
      head.append((char) b);
    }
    return head.toString();
  }

  /** Exactly {@code limit} bytes of {@code in}, then end of stream; the connection stays open. */
  private static final class BoundedInputStream extends InputStream {
    private final InputStream in;
    private long remaining;

    BoundedInputStream(InputStream in, long limit) {
      this.in = in;
      this.remaining = limit;
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (remaining == 0) {
        return -1;
      }
      int n = in.read(b, off, (int) Math.min(len, remaining));
      if (n < 0) {
        throw new EOFException(remaining + " bytes missing");
      }
      remaining -= n;
      return n;
    }
  }

  @Test
  void countTellsTheRequestsSeenSoFar() {
    for (int i = 0; i < 3; i++) {
      assertThat(Curl.to(endpoint.baseUrl() + "/").execute().status()).isEqualTo(200);
    }
    Curl.Response response = Curl.to(endpoint.baseUrl() + "/count").execute();

    assertThat(response.status()).isEqualTo(200);
    assertThat(response.bodyString()).isEqualTo("4\n"); // three, and the /count itself
    assertThat(endpoint.requestCount()).isEqualTo(4);
  }

  @Test
  void trailersReachCurl() {
    Curl.Response response = Curl.to(endpoint.baseUrl() + "/trailers").execute();

    assertThat(response.exitCode()).isZero();
    assertThat(response.status()).isEqualTo(200);
    assertThat(response.httpVersion()).isEqualTo("1.1");
    assertThat(response.header("x-endpoint")).hasValue(endpoint.name());
    assertThat(response.bodyString()).isEqualTo("body with trailers\n");
    assertThat(response.trailer("x-trailer-a")).hasValue("1");
    assertThat(response.trailer("x-trailer-b")).hasValue("two");
  }

  @Test
  void curlUploadsThroughEchoAndReportsTruncation() {
    byte[] body = BodyPattern.bytes(200_000);
    Curl.Response echoed = Curl.to(endpoint.baseUrl() + "/echo").header("x-a", "b").body(body).execute();
    Curl.Response truncated = Curl.to(endpoint.baseUrl() + "/close-mid-body?n=1000&after=10").execute();

    assertThat(echoed.body()).isEqualTo(body);
    assertThat(echoed.header("x-echo-h-x-a")).hasValue("b");
    assertThat(echoed.header("x-echo-method")).hasValue("POST");
    assertThat(truncated.status()).isEqualTo(200);
    assertThat(truncated.exitCode()).isEqualTo(18); // CURLE_PARTIAL_FILE
    assertThat(truncated.body()).hasSize(10);
  }

  @Test
  void curlSeesReset() {
    Curl.Response response = Curl.to(endpoint.baseUrl() + "/reset").timeout(Duration.ofSeconds(10)).execute();

    assertThat(response.exitCode()).isNotZero();
    assertThat(response.status()).isZero();
  }
}
