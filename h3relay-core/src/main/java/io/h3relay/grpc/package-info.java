/**
 * gRPC as the proxy sees it: which requests are gRPC ({@code application/grpc*}, not gRPC-Web), the status
 * codes and gRPC's HTTP-to-status table, {@code grpc-timeout} parsing and formatting, and trailers-only
 * responses (HTTP 200, {@code grpc-status}/{@code grpc-message} in the one HEADERS frame) for errors the proxy
 * makes itself. gRPC traffic is otherwise plain HTTP/2 or HTTP/3 streams with trailers, forwarded like any
 * other exchange. Depends on Netty only, so every layer above ({@code exchange}, {@code proxy}) may use it.
 */
package io.h3relay.grpc;
