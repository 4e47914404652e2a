package io.h3relay.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Parses curl's {@code -D} header dump. The dump holds one block per response head (interim 1xx
 * responses and redirects first), each ending with an empty line; trailers of a chunked or h2/h3
 * body follow the final block as plain {@code name: value} lines.
 *
 * <pre>
 *   HTTP/1.1 100 Continue
 *                               ← ignored: not the last block
 *   HTTP/1.1 200 OK
 *   content-type: text/plain    ← headers
 *
 *   x-trailer-a: 1              ← trailers
 * </pre>
 */
record CurlHeaders(List<Map.Entry<String, String>> headers, List<Map.Entry<String, String>> trailers) {

  static CurlHeaders parse(String dump) {
    List<Map.Entry<String, String>> headers = new ArrayList<>();
    List<Map.Entry<String, String>> trailers = new ArrayList<>();
    boolean inHead = false;
    for (String line : dump.split("\r?\n", -1)) {
      if (line.startsWith("HTTP/")) {
        // A new response head: anything collected so far belonged to an earlier one.
        headers.clear();
        trailers.clear();
        inHead = true;
      } else if (line.isEmpty()) {
        inHead = false;
      } else {
        int colon = line.indexOf(':');
        if (colon > 0) {
          Map.Entry<String, String> field = Map.entry(
              line.substring(0, colon).trim().toLowerCase(Locale.ROOT), line.substring(colon + 1).trim());
          (inHead ? headers : trailers).add(field);
        }
      }
    }
    return new CurlHeaders(List.copyOf(headers), List.copyOf(trailers));
  }

  static Optional<String> first(List<Map.Entry<String, String>> fields, String name) {
    return fields.stream()
        .filter(e -> e.getKey().equalsIgnoreCase(name))
        .map(Map.Entry::getValue)
        .findFirst();
  }
}
