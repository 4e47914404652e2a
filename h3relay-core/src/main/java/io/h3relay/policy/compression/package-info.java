/**
 * Response compression ({@code policies.compression}): {@link io.h3relay.policy.compression.CompressionFilter}
 * negotiates gzip, brotli or zstd from {@code Accept-Encoding} (q-values, {@code identity;q=0}, {@code *}) in
 * the response-head phase and encodes the body part by part in the body phase, flushing the encoder after
 * each part: memory per exchange is the encoder's window, never the body. Runs last in the chain (after
 * the cache, which stores identity bodies), and never touches SSE, gRPC, ranges, HEAD, 204/304, bodies that
 * already have a Content-Encoding, or responses marked {@code Cache-Control: no-transform}.
 */
package io.h3relay.policy.compression;
