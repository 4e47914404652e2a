/**
 * What the listeners, the sessions and the upstream share below the protocol logic: the socket transport
 * (io_uring, epoll or NIO, one event-loop group for both directions), a barrier across the event loops, a
 * half-close that waits for the bytes written before it, a tunnel's direct send on a plaintext epoll socket and
 * its reused receive buffer, the conversion of an h2 stream's frames into Netty's {@code HttpObject} view used on
 * both sides, and the h2 frame codec both sides build (whole-frame shares of a connection's output among its
 * concurrent streams).
 */
package io.h3relay.transport;
