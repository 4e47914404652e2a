/**
 * Test fixtures shared by modules, used from their integration tests (test scope):
 *
 * <ul>
 *   <li>{@link io.h3relay.testing.TestEndpoint}: an HTTP/1.1 (optionally TLS) upstream on port 0 whose
 *       behaviour is chosen by the request path: echo, large and slow bodies, delays, statuses,
 *       resets, truncated bodies, uploads, trailers; it records every request it receives.
 *   <li>{@link io.h3relay.testing.BodyPattern}: the deterministic body content, so any body size is
 *       checked by length and sha-256 without holding it in memory.
 *   <li>{@link io.h3relay.testing.TestCertificates}: a throwaway CA, server and client certificate as PEM.
 *   <li>{@link io.h3relay.testing.RawHttp3Stream}: an HTTP/3 request stream written with raw bytes on a Netty
 *       QUIC connection, and how it ended (bytes, FIN, reset, the server's CONNECTION_CLOSE code).
 *   <li>{@link io.h3relay.testing.ExternalTool} and {@link io.h3relay.testing.Curl}: running clients we
 *       did not write; a missing tool skips the test locally and fails it in CI.
 * </ul>
 */
package io.h3relay.testing;
