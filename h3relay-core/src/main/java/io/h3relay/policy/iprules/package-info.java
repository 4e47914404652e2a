/**
 * IP rules: allow and deny CIDR lists (IPv4 and IPv6) matched against the client address the exchange
 * sees (the PROXY protocol's or a trusted proxy's X-Forwarded-For when the listener says so); a refused
 * client gets 403 with the JSON envelope.
 */
package io.h3relay.policy.iprules;
