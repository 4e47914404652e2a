package io.h3relay.it;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.IntPredicate;

/**
 * The sockets this JVM holds open, each put in a role by its ports (Linux: {@code /proc/self/fd} joined with
 * {@code /proc/net/{tcp,tcp6,udp,udp6}} on the inode). When clients, h3relay and endpoints share one JVM, the
 * JVM's descriptor count alone cannot say whose a socket is; its ports can: a TCP socket whose local port is a
 * listener of h3relay's is h3relay's accepted (downstream) end, one whose remote port is that listener is a
 * test client's; one whose remote port is an endpoint's is h3relay's upstream connection (or health check),
 * one whose local port is an endpoint's is the endpoint's accepted end.
 */
final class SocketCensus {
    private static final Map<String, String> TCP_STATES = Map.ofEntries(Map.entry("01", "ESTABLISHED"),
            Map.entry("02", "SYN_SENT"), Map.entry("03", "SYN_RECV"), Map.entry("04", "FIN_WAIT1"),
            Map.entry("05", "FIN_WAIT2"), Map.entry("06", "TIME_WAIT"), Map.entry("07", "CLOSE"),
            Map.entry("08", "CLOSE_WAIT"), Map.entry("09", "LAST_ACK"), Map.entry("0A", "LISTEN"),
            Map.entry("0B", "CLOSING"));

    /** One socket: protocol (tcp/udp), local and remote port, TCP state. */
    record Socket(String proto, int localPort, int remotePort, String state) {
    }

    private SocketCensus() {
    }

    /** Every socket a descriptor of this process refers to. */
    static List<Socket> sockets() throws IOException {
        Set<String> inodes = new HashSet<>();
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path fd : fds) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith("socket:[")) {
                        inodes.add(target.substring(8, target.length() - 1));
                    }
                } catch (IOException e) {
                    // closed while listing
                }
            }
        }
        Map<String, Socket> byInode = new HashMap<>();
        for (String proto : List.of("tcp", "tcp6", "udp", "udp6")) {
            Path table = Path.of("/proc/net", proto);
            if (!Files.exists(table)) {
                continue;
            }
            List<String> lines = Files.readAllLines(table);
            for (String line : lines.subList(1, lines.size())) {
                String[] f = line.trim().split("\\s+");
                if (f.length > 9 && inodes.contains(f[9])) {
                    boolean tcp = proto.startsWith("tcp");
                    byInode.put(f[9], new Socket(tcp ? "tcp" : "udp", port(f[1]), port(f[2]),
                            tcp ? TCP_STATES.getOrDefault(f[3], f[3]) : "-"));
                }
            }
        }
        return List.copyOf(byInode.values());
    }

    private static int port(String hexAddress) {
        return Integer.parseInt(hexAddress.substring(hexAddress.indexOf(':') + 1), 16);
    }

    /**
     * This process's sockets counted by role: for each TCP socket the first role whose test accepts it
     * ({@code local:} roles test the local port, {@code remote:} roles the remote port, listening sockets are
     * left out), with its state when not ESTABLISHED ({@code "role CLOSE_WAIT"}); UDP sockets by local port
     * ({@code udp:} roles), others as {@code "udp other"}; TCP sockets no role takes as {@code "tcp other"}.
     */
    static Map<String, Integer> byRole(Map<String, IntPredicate> localRoles, Map<String, IntPredicate> remoteRoles,
                                       Map<String, IntPredicate> udpRoles) throws IOException {
        Map<String, Integer> counts = new TreeMap<>();
        for (Socket s : sockets()) {
            String role = null;
            if (s.proto().equals("udp")) {
                role = first(udpRoles, s.localPort(), "udp other");
            } else if (!s.state().equals("LISTEN")) {
                role = first(localRoles, s.localPort(), null);
                if (role == null) {
                    role = first(remoteRoles, s.remotePort(), "tcp other");
                }
                if (!s.state().equals("ESTABLISHED")) {
                    role += " " + s.state();
                }
            }
            if (role != null) {
                counts.merge(role, 1, Integer::sum);
            }
        }
        return counts;
    }

    private static String first(Map<String, IntPredicate> roles, int port, String otherwise) {
        for (Map.Entry<String, IntPredicate> e : roles.entrySet()) {
            if (e.getValue().test(port)) {
                return e.getKey();
            }
        }
        return otherwise;
    }
}
