/**
 * gRPC-Web (grpc/doc/PROTOCOL-WEB.md) translated to gRPC, as Envoy's {@code grpc_web} filter does, on every
 * downstream protocol (HTTP/1.1 too): a request with {@code content-type: application/grpc-web[+proto]} or
 * {@code application/grpc-web-text[+proto]} goes to the endpoint as {@code application/grpc} with
 * {@code te: trailers} (a text body base64-decoded on the way, in parts of any size), and the endpoint's
 * response comes back with the gRPC-Web content type, its trailers as a trailer frame at the end of the body
 * (base64-encoded with the rest in text mode). {@link io.h3relay.grpcweb.GrpcWebFilter} is a filter that
 * the exchange puts in front of the chain of gRPC-Web requests only, so other requests never pay for it.
 * Errors the proxy makes for such a request are gRPC-Web responses too ({@code exchange.ErrorRenderer}).
 * The wire format lives in {@code io.h3relay.grpc.GrpcWeb} (Netty only, so the error renderer may use it).
 */
package io.h3relay.grpcweb;
