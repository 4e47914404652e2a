package io.h3relay.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class CurlHeadersTest {

  @Test
  void keepsTheFinalHeadAndTheTrailersAfterIt() {
    String dump = "HTTP/1.1 100 Continue\r\n\r\n"
        + "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n"
        + "X-Trailer-A: 1\r\n";

    CurlHeaders parsed = CurlHeaders.parse(dump);

    assertThat(parsed.headers()).containsExactly(
        Map.entry("content-type", "text/plain"), Map.entry("set-cookie", "a=1"), Map.entry("set-cookie", "b=2"));
    assertThat(parsed.trailers()).containsExactly(Map.entry("x-trailer-a", "1"));
  }

  @Test
  void emptyDumpMeansNoResponse() {
    CurlHeaders parsed = CurlHeaders.parse("");

    assertThat(parsed.headers()).isEmpty();
    assertThat(parsed.trailers()).isEmpty();
  }
}
