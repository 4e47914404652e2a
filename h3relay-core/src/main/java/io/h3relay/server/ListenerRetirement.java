package io.h3relay.server;

import io.h3relay.events.EventLog;
import io.h3relay.listener.ListenerContext;
import io.h3relay.listener.TcpListener;
import io.h3relay.listener.h3.Http3Listener;
import io.h3relay.exchange.DownstreamSession;
import io.netty.channel.Channel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * A listener a reload removed, drained on a thread of its own: it stops accepting at once (TCP server socket
 * closed, new QUIC connections refused), its open connections are asked to finish (h1: {@code Connection:
 * close}; h2 and h3: GOAWAY) and get up to {@code shutdown.drain_timeout} for their exchanges in flight; then
 * whatever is still open is closed, and its UDP sockets with it.
 */
final class ListenerRetirement {
    private static final Logger LOG = LoggerFactory.getLogger(ListenerRetirement.class);

    private ListenerRetirement() {
    }

    /** Starts the drain; the future completes once everything of the listener is closed. */
    static CompletableFuture<Void> start(TcpListener tcp, Http3Listener h3, Duration drainTimeout, EventLog events,
                                         List<? extends io.netty.util.concurrent.EventExecutorGroup> workers) {
        ListenerContext ctx = tcp.context();
        ctx.startDraining();
        tcp.closeServerChannel();
        if (h3 != null) {
            h3.stopAccepting();
        }
        List<Channel> open = new ArrayList<>(ctx.connections());
        open.forEach(ch -> ch.pipeline().fireUserEventTriggered(DownstreamSession.DRAIN_EVENT));
        LOG.info("listener {} removed by a reload: stopped accepting, {} connection(s) finishing (up to {})",
                ctx.name(), open.size(), drainTimeout);
        events.publish("listener_removed", Map.of("listener", ctx.name(), "connections", open.size()));
        CompletableFuture<Void> done = new CompletableFuture<>();
        long deadline = System.nanoTime() + drainTimeout.toNanos();
        long closeWebSockets = deadline - RelayServer.webSocketCloseLead(drainTimeout).toNanos();
        Thread.ofPlatform().daemon().name("h3relay-retire-" + ctx.name()).start(() -> {
            try {
                while (System.nanoTime() < closeWebSockets && open.stream().anyMatch(Channel::isOpen)) {
                    Thread.sleep(20);
                }
                // the listener's WebSockets end with a Close frame each way before their connections close
                io.h3relay.websocket.OpenWebSockets.closeAll(workers, ctx.name()::equals, "drain_timeout");
                while (System.nanoTime() < deadline && open.stream().anyMatch(Channel::isOpen)) {
                    Thread.sleep(20);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                long left = open.stream().filter(Channel::isOpen).count();
                if (left > 0) {
                    LOG.info("listener {}: closing {} connection(s) still open after the drain", ctx.name(), left);
                }
                for (Channel ch : open) {
                    var first = ch.pipeline().firstContext();
                    if (first != null) {
                        first.close(); // reset rather than a second graceful shutdown
                    } else {
                        ch.close();
                    }
                }
                if (h3 != null) {
                    h3.close();
                }
                LOG.info("listener {}: closed", ctx.name());
                done.complete(null);
            }
        });
        return done;
    }
}
