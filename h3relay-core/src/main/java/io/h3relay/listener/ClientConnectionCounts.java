package io.h3relay.listener;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Open connections per client address, for {@code limits.max_connections_per_client}: one entry per address
 * with at least one open connection (an entry goes when its last connection closes, so the map holds no more
 * entries than there are connections). An IPv4-mapped IPv6 address counts as its IPv4 address, so a client
 * seen on a dual-stack socket and on an IPv4 socket of the same listener is one client.
 */
final class ClientConnectionCounts {
    private final int max;
    private final ConcurrentHashMap<InetAddress, Integer> open = new ConcurrentHashMap<>();

    private ClientConnectionCounts(int max) {
        this.max = max;
    }

    /** Null for 0 (no limit). */
    static ClientConnectionCounts of(int max) {
        return max > 0 ? new ClientConnectionCounts(max) : null;
    }

    boolean tryAcquire(InetAddress client) {
        boolean[] ok = {false};
        open.compute(key(client), (k, n) -> {
            int count = n == null ? 0 : n;
            if (count >= max) {
                return n;
            }
            ok[0] = true;
            return count + 1;
        });
        return ok[0];
    }

    void release(InetAddress client) {
        open.computeIfPresent(key(client), (k, n) -> n <= 1 ? null : n - 1);
    }

    int count(InetAddress client) {
        Integer n = open.get(key(client));
        return n == null ? 0 : n;
    }

    /** The address without scope, IPv4-mapped IPv6 as IPv4. */
    private static InetAddress key(InetAddress a) {
        if (a instanceof Inet6Address) {
            byte[] b = a.getAddress();
            boolean mapped = true;
            for (int i = 0; i < 10 && mapped; i++) {
                mapped = b[i] == 0;
            }
            try {
                if (mapped && b[10] == (byte) 0xff && b[11] == (byte) 0xff) {
                    return InetAddress.getByAddress(new byte[] {b[12], b[13], b[14], b[15]});
                }
                return ((Inet6Address) a).getScopeId() != 0 ? InetAddress.getByAddress(b) : a;
            } catch (UnknownHostException e) {
                throw new IllegalStateException(e); // cannot happen: 4 or 16 bytes
            }
        }
        return a;
    }
}
