/**
 * QUIC state shared by a listener's sockets and, through files, by several instances: TLS session ticket
 * keys and their rotation ({@link io.h3relay.quic.TicketKeys}), QUIC-LB connection ids and stateless reset
 * tokens ({@link io.h3relay.quic.QuicLbConnectionIds}, {@link io.h3relay.quic.StatelessResets}) and qlog
 * sampling with its disk cap ({@link io.h3relay.quic.QlogSampler}); the keep-alive of an idle HTTP/3
 * connection ({@link io.h3relay.quic.Http3KeepAlive}), used by the listener and the upstream pool alike; and
 * the UDP socket's guards in front of the codec against amplification before address validation
 * ({@link io.h3relay.quic.SmallInitialFilter}, {@link io.h3relay.quic.AmplificationGuard}); one quiche send per
 * connection and event-loop turn for what its streams wrote ({@link io.h3relay.quic.QuicSendBatch}); the bound on
 * the streams Netty keeps after they closed before their FIN ({@link io.h3relay.quic.StreamsClosedBeforeFin}), used
 * by the listener and the upstream pool alike; an h3 request stream's writes as one buffer per flush with the FIN
 * on the last bytes ({@link io.h3relay.quic.Http3StreamWriteCoalescer}), downstream and upstream. Imports config
 * and Netty only; the HTTP/3 listener plugs these into Netty's QUIC codec.
 */
package io.h3relay.quic;
