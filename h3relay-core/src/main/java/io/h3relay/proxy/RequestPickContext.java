package io.h3relay.proxy;

import io.h3relay.balancer.PickContext;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.cookie.Cookie;
import io.netty.handler.codec.http.cookie.ServerCookieDecoder;

import java.net.InetAddress;

/** What the load balancer sees of a request: its headers, cookies and client address. */
final class RequestPickContext implements PickContext {
    private final HttpHeaders headers;
    private final InetAddress client;

    RequestPickContext(HttpHeaders headers, InetAddress client) {
        this.headers = headers;
        this.client = client;
    }

    @Override
    public String header(String name) {
        return headers.get(name);
    }

    @Override
    public String cookie(String name) {
        for (String value : headers.getAll(HttpHeaderNames.COOKIE)) {
            for (Cookie c : ServerCookieDecoder.LAX.decode(value)) {
                if (c.name().equals(name)) {
                    return c.value();
                }
            }
        }
        return null;
    }

    @Override
    public InetAddress sourceAddress() {
        return client;
    }
}
