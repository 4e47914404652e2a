package io.h3relay.exchange;

import io.netty.util.AttributeKey;

import java.net.InetAddress;

/**
 * The client address a PROXY protocol header gave a TCP connection (listener option {@code proxy_protocol}):
 * set on the connection's channel before any request, read by {@link SessionHandler#clientAddress()} in place
 * of the socket's peer, so logs, X-Forwarded-For, IP rules and rate-limit keys all see the proxied client.
 */
public final class ProxiedClient {
    public static final AttributeKey<InetAddress> ADDRESS = AttributeKey.valueOf("h3relay.proxiedClient");

    private ProxiedClient() {}
}
