package io.h3relay.runtime;

import io.h3relay.config.Cidr;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.NetUtil;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;

/**
 * A listener's {@code trusted_proxies}: when the peer is one of them, the client is the right-most address of
 * X-Forwarded-For that is not itself trusted (each trusted hop appended the address it saw); an entry that is
 * not an IP address stops the walk at the last trusted hop. A peer that is not trusted is the client, whatever
 * the header says (anyone can send one).
 */
public final class TrustedProxies {
    public static final TrustedProxies NONE = new TrustedProxies(List.of());

    private final Cidr[] proxies;

    public TrustedProxies(List<Cidr> proxies) {
        this.proxies = proxies.toArray(Cidr[]::new);
    }

    public boolean isEmpty() {
        return proxies.length == 0;
    }

    /** The client of a request from {@code peer} with {@code headers}. */
    public InetAddress clientOf(InetAddress peer, HttpHeaders headers) {
        if (proxies.length == 0 || peer == null || !Cidr.any(proxies, peer)) {
            return peer;
        }
        List<String> values = headers.getAll("x-forwarded-for");
        InetAddress current = peer;
        for (int v = values.size() - 1; v >= 0; v--) {
            String[] parts = values.get(v).split(",");
            for (int i = parts.length - 1; i >= 0; i--) {
                InetAddress hop = parse(parts[i].trim());
                if (hop == null) {
                    return current;
                }
                current = hop;
                if (!Cidr.any(proxies, hop)) {
                    return hop;
                }
            }
        }
        return current;
    }

    /** An IP literal, optionally {@code [v6]}, or null; never a name lookup. */
    private static InetAddress parse(String s) {
        if (s.length() > 2 && s.charAt(0) == '[' && s.charAt(s.length() - 1) == ']') {
            s = s.substring(1, s.length() - 1);
        }
        byte[] b = NetUtil.createByteArrayFromIpAddressString(s);
        if (b == null) {
            return null;
        }
        try {
            return InetAddress.getByAddress(b);
        } catch (UnknownHostException e) {
            return null;
        }
    }
}
