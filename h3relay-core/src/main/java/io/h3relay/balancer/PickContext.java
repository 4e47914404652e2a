package io.h3relay.balancer;

import java.net.InetAddress;

/** What a load balancer may look at when it picks: the request's headers, cookies and source address. */
public interface PickContext {

    /** The first value of a request header (case-insensitive name), or null. */
    String header(String name);

    /** The value of a cookie from the Cookie header(s), or null. */
    String cookie(String name);

    /** The downstream client's address, or null when unknown. */
    InetAddress sourceAddress();

    /** A context with nothing in it: hashing balancers fall back to a random pick. */
    static PickContext empty() {
        return new PickContext() {
            @Override
            public String header(String name) {
                return null;
            }

            @Override
            public String cookie(String name) {
                return null;
            }

            @Override
            public InetAddress sourceAddress() {
                return null;
            }
        };
    }
}
