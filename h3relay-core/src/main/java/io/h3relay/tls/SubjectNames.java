package io.h3relay.tls;

import io.netty.util.NetUtil;

import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Locale;

/** Reads a certificate's subjectAltName entries; used to decide whether a stored certificate still fits. */
final class SubjectNames {
    private static final int DNS = 2;
    private static final int IP = 7;

    private SubjectNames() {
    }

    /** DNS names, lower-cased, as written in the certificate (wildcards are not expanded). */
    static List<String> dnsNames(X509Certificate cert) {
        return entries(cert, DNS).stream().map(n -> n.toLowerCase(Locale.ROOT)).toList();
    }

    /** IP addresses in the JDK's textual form. */
    static List<String> ipAddresses(X509Certificate cert) {
        return entries(cert, IP);
    }

    /** True when every name is listed literally: an IP among the IP entries, anything else among DNS. */
    static boolean covers(X509Certificate cert, List<String> names) {
        List<String> dns = dnsNames(cert);
        List<byte[]> ips = ipAddresses(cert).stream().map(NetUtil::createByteArrayFromIpAddressString).toList();
        for (String name : names) {
            byte[] ip = NetUtil.createByteArrayFromIpAddressString(name);
            boolean found = ip != null
                    ? ips.stream().anyMatch(candidate -> Arrays.equals(candidate, ip))
                    : dns.contains(name.toLowerCase(Locale.ROOT));
            if (!found) {
                return false;
            }
        }
        return true;
    }

    private static List<String> entries(X509Certificate cert, int type) {
        List<String> out = new ArrayList<>();
        try {
            Collection<List<?>> sans = cert.getSubjectAlternativeNames();
            if (sans != null) {
                for (List<?> san : sans) {
                    if (san.size() >= 2 && Integer.valueOf(type).equals(san.get(0)) && san.get(1) instanceof String s) {
                        out.add(s);
                    }
                }
            }
        } catch (CertificateParsingException e) {
            // A certificate whose SAN extension does not parse covers nothing.
        }
        return out;
    }
}
