package io.h3relay.config;

import io.netty.util.NetUtil;

import java.net.InetAddress;
import java.util.Arrays;

/**
 * An IPv4 or IPv6 network written as {@code address/prefix} (a bare address is a single host). Matching
 * never resolves names: only literal addresses are accepted. An IPv4-mapped IPv6 client address
 * ({@code ::ffff:10.0.0.1}) matches IPv4 networks.
 */
public final class Cidr {
    public static final String EXPECTED = "a CIDR such as 10.0.0.0/8 or 2001:db8::/32, or an IP address";

    private final byte[] network;
    private final int prefix;
    private final String text;

    private Cidr(byte[] network, int prefix, String text) {
        this.network = network;
        this.prefix = prefix;
        this.text = text;
    }

    /** The network of {@code text}, or null when it is not one (host bits set are refused: likely a typo). */
    public static Cidr parse(String text) {
        int slash = text.indexOf('/');
        String addr = slash < 0 ? text : text.substring(0, slash);
        byte[] bytes = NetUtil.createByteArrayFromIpAddressString(addr);
        if (bytes == null) {
            return null;
        }
        int bits = bytes.length * 8;
        int prefix = bits;
        if (slash >= 0) {
            String p = text.substring(slash + 1);
            if (p.isEmpty() || p.length() > 3 || !p.chars().allMatch(Character::isDigit)) {
                return null;
            }
            prefix = Integer.parseInt(p);
            if (prefix > bits) {
                return null;
            }
        }
        for (int i = 0; i < bytes.length; i++) {
            int keep = Math.max(0, Math.min(8, prefix - i * 8));
            int mask = keep == 0 ? 0 : (0xff << (8 - keep)) & 0xff;
            if ((bytes[i] & ~mask & 0xff) != 0) {
                return null; // host bits set: 10.0.0.1/8 is most likely a mistake
            }
        }
        return new Cidr(bytes, prefix, text);
    }

    /** True when {@code address} is in this network. */
    public boolean matches(InetAddress address) {
        return address != null && matches(address.getAddress());
    }

    /** True when the raw address ({@link InetAddress#getAddress()}) is in this network. */
    public boolean matches(byte[] a) {
        if (a.length == 16 && network.length == 4 && isV4Mapped(a)) {
            a = Arrays.copyOfRange(a, 12, 16);
        }
        if (a.length != network.length) {
            return false;
        }
        int full = prefix / 8;
        for (int i = 0; i < full; i++) {
            if (a[i] != network[i]) {
                return false;
            }
        }
        int rest = prefix % 8;
        if (rest == 0) {
            return true;
        }
        int mask = (0xff << (8 - rest)) & 0xff;
        return (a[full] & mask) == (network[full] & mask);
    }

    private static boolean isV4Mapped(byte[] a) {
        for (int i = 0; i < 10; i++) {
            if (a[i] != 0) {
                return false;
            }
        }
        return a[10] == (byte) 0xff && a[11] == (byte) 0xff;
    }

    /** True for an IPv4 network. */
    public boolean isV4() {
        return network.length == 4;
    }

    /** True when any of {@code cidrs} matches {@code address}. */
    public static boolean any(Cidr[] cidrs, InetAddress address) {
        if (address == null) {
            return false;
        }
        byte[] a = address.getAddress();
        for (Cidr c : cidrs) {
            if (c.matches(a)) {
                return true;
            }
        }
        return false;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Cidr c && c.prefix == prefix && Arrays.equals(c.network, network);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(network) * 31 + prefix;
    }

    @Override
    public String toString() {
        return text;
    }
}
