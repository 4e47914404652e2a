/**
 * WebSockets through the proxy, whatever the client's protocol: an HTTP/1.1 {@code Upgrade: websocket}
 * (RFC 6455), an HTTP/2 extended CONNECT (RFC 8441) or an HTTP/3 one (RFC 9220) all become an HTTP/1.1
 * Upgrade towards the endpoint, so the endpoint never learns which protocol the client used.
 *
 * <pre>
 *   h1:    GET + Upgrade: websocket  ──────────────► GET + Upgrade: websocket (the client's key)
 *   h2/h3: CONNECT :protocol websocket :path /p  ──► GET /p + Upgrade: websocket + a key of ours
 *          200 (no Sec-WebSocket-Accept)  ◄──────── 101 + Sec-WebSocket-Accept (checked against our key)
 * </pre>
 *
 * After the 101 the exchange is a tunnel ({@code Forwarding}'s tunnel mode): bytes both ways with
 * backpressure, h2/h3 DATA frames on one side and the raw TCP stream on the other, END_STREAM and
 * half-close mapped onto each other, RST_STREAM / RESET_STREAM and a reset connection too. This package
 * holds the header translation ({@link WebSocketUpgrade}); the relaying is the proxy's ordinary tunnel.
 * Towards an HTTP/2 endpoint the upstream stream turns the h1 Upgrade into an RFC 8441 extended CONNECT
 * and the endpoint's 2xx back into a 101 ({@link WebSocketUpgrade#asSwitchingProtocols}).
 *
 * <p>When h3relay ends a session itself (idle timeout, max duration, the end of a drain), each side gets a
 * Close frame ({@link CloseFrames}, 1001) put between two frames ({@link FrameBoundary}); a drain finds the
 * open sessions in {@link OpenWebSockets}.
 */
package io.h3relay.websocket;
