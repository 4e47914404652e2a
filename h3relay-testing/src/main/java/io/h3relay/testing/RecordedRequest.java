package io.h3relay.testing;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One request as a {@link TestEndpoint} received it, for assertions.
 *
 * @param connection ordinal (1-based) of the connection it arrived on, in accept order; two requests
 *     with the same value shared a keep-alive connection
 * @param method request method, e.g. {@code GET}
 * @param uri request target as sent, path and query
 * @param headers header fields in arrival order, names as sent (look-ups ignore case)
 * @param bodyLength number of body bytes received
 * @param bodySha256 lowercase hex sha-256 of the body bytes received
 * @param trailers trailer fields of a chunked body, in arrival order; empty if none
 */
public record RecordedRequest(
    int connection,
    String method,
    String uri,
    List<Map.Entry<String, String>> headers,
    long bodyLength,
    String bodySha256,
    List<Map.Entry<String, String>> trailers) {

  public RecordedRequest {
    headers = List.copyOf(headers);
    trailers = List.copyOf(trailers);
  }

  /** The path part of {@link #uri()}, without the query. */
  public String path() {
    int q = uri.indexOf('?');
    return q < 0 ? uri : uri.substring(0, q);
  }

  /** First value of header {@code name} (case-insensitive), if present. */
  public Optional<String> header(String name) {
    return first(headers, name);
  }

  /** All values of header {@code name} (case-insensitive), in arrival order. */
  public List<String> headerValues(String name) {
    return headers.stream()
        .filter(e -> e.getKey().equalsIgnoreCase(name))
        .map(Map.Entry::getValue)
        .toList();
  }

  /** First value of trailer {@code name} (case-insensitive), if present. */
  public Optional<String> trailer(String name) {
    return first(trailers, name);
  }

  private static Optional<String> first(List<Map.Entry<String, String>> fields, String name) {
    return fields.stream()
        .filter(e -> e.getKey().equalsIgnoreCase(name))
        .map(Map.Entry::getValue)
        .findFirst();
  }
}
