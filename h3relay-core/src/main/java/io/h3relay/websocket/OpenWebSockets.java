package io.h3relay.websocket;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.EventExecutorGroup;

import java.util.Collection;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;

/**
 * The WebSocket sessions open in the process, so that a drain can end them cleanly (a Close frame each way,
 * see {@link CloseFrames}) just before its timeout closes their connections. A session belongs to the
 * server whose event loop groups run it: {@link #closeAll} picks a server's sessions by those groups.
 */
public final class OpenWebSockets {
    /** One open session, as the proxy's tunnel exposes it. */
    public interface Session {
        /** The event loop the session lives on; {@link #closeFor} runs there. */
        EventExecutor executor();

        String listenerName();

        /** Whether the client side of the session is an HTTP/3 stream (RFC 9220). */
        boolean overHttp3();

        /** Ends the session cleanly ({@code why}: for the log, and the Close frame's reason). */
        void closeFor(String why);
    }

    private static final Set<Session> OPEN = ConcurrentHashMap.newKeySet();

    private OpenWebSockets() {
    }

    public static void opened(Session s) {
        OPEN.add(s);
    }

    public static void closed(Session s) {
        OPEN.remove(s);
    }

    /**
     * Ends, each on its own loop, the sessions run by {@code groups} whose listener {@code listeners} accepts.
     * Returns how many were asked to close.
     */
    public static int closeAll(Collection<? extends EventExecutorGroup> groups, Predicate<String> listeners,
                               String why) {
        return closeMatching(groups, s -> listeners.test(s.listenerName()), why);
    }

    /**
     * Ends, each on its own loop, the sessions run by {@code groups} (a server's: its TCP loops and, under
     * io_uring, its QUIC loops) that {@code which} accepts (HTTP/3 turned off on a listener: its sessions over
     * HTTP/3 only). Returns how many were asked to close.
     */
    public static int closeMatching(Collection<? extends EventExecutorGroup> groups, Predicate<Session> which,
                                    String why) {
        int n = 0;
        for (Session s : OPEN) {
            EventExecutorGroup parent = s.executor().parent(); // null for a test's own executor
            if (parent != null && groups.contains(parent) && which.test(s)) {
                s.executor().execute(() -> s.closeFor(why));
                n++;
            }
        }
        return n;
    }
}
