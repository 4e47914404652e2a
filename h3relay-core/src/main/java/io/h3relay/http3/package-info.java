/**
 * HTTP/3 request streams' wire format as h3relay codes it itself: frames and QUIC's variable-length integers
 * ({@link io.h3relay.http3.Http3Frames}), QPACK field sections with the static table only
 * ({@link io.h3relay.http3.QpackFields}, its Huffman code and static table), and a request's fields checked and
 * turned into the HTTP/1-style request the session takes ({@link io.h3relay.http3.RequestFields},
 * {@link io.h3relay.http3.FieldChecks}). The listener's request streams use it when QPACK's dynamic table is off
 * (the default): one handler per stream instead of Netty's codec, validators and adapter. Netty only.
 */
package io.h3relay.http3;
