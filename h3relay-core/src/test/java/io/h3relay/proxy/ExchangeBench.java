package io.h3relay.proxy;

import io.h3relay.cluster.Cluster;
import io.h3relay.config.ConfigLoader;
import io.h3relay.config.ListenerConfig;
import io.h3relay.config.RelayConfig;
import io.h3relay.config.RouteConfig;
import io.h3relay.exchange.ExchangeObserver;
import io.h3relay.route.RouteTable;
import io.h3relay.route.Route;
import io.h3relay.filter.Filter;
import io.h3relay.filter.FilterChain;
import io.h3relay.runtime.ListenerRuntime;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The exchange pipeline (Exchange, Forwarding, the relays, retries) between a {@link FakeSession} and
 * {@link FakePool}s, from a YAML config of one listener {@code l}: no sockets, time advanced by hand.
 */
final class ExchangeBench {
    final FakeSession session = new FakeSession();
    final Map<String, FakePool> pools = new LinkedHashMap<>();
    private final List<FakeStream> streams = new java.util.ArrayList<>();
    ListenerRuntime runtime;
    Exchange exchange;

    /**
     * One route {@code r} for every path to cluster {@code c} of one endpoint, 127.0.0.1:9001;
     * {@code routeKeys}: more keys of the route (", timeout: 5s"), or "".
     */
    static String oneEndpoint(String routeKeys) {
        return "routes:\n  - { name: r, match: { path_prefix: / }, cluster: c" + routeKeys + " }\n"
                + "clusters:\n  - name: c\n    endpoints: [ { address: 127.0.0.1:9001 } ]\n";
    }

    ExchangeBench(String routesAndClusters) throws Exception {
        this(routesAndClusters, List.of(), Map.of());
    }

    /**
     * With {@code listenerFilters} on the listener, and for each route name in {@code routeFilters} that
     * route's own filters after them.
     */
    ExchangeBench(String routesAndClusters, List<Filter> listenerFilters, Map<String, List<Filter>> routeFilters)
            throws Exception {
        String yaml = "listeners:\n  - { name: l, address: 127.0.0.1:0, protocols: [http1], routes: [r] }\n"
                + routesAndClusters;
        RelayConfig config = ConfigLoader.parse(yaml, Path.of("."), Map.of());
        Map<String, Cluster> clusters = new LinkedHashMap<>();
        for (var cc : config.clusters()) {
            clusters.put(cc.name(), Cluster.create(cc, (endpoint, breakers) -> {
                FakePool p = new FakePool(endpoint, streams);
                pools.put(endpoint.toString(), p);
                return p;
            }));
        }
        Map<String, RouteConfig> routes = config.routes().stream()
                .collect(Collectors.toMap(RouteConfig::name, Function.identity()));
        ListenerConfig lc = config.listeners().get(0);
        RouteTable table = RouteTable.compile(lc.routes(), routes, clusters);
        FilterChain chain = FilterChain.of(listenerFilters);
        Map<Route, FilterChain> perRoute = new java.util.HashMap<>();
        for (Route r : table.routes()) {
            List<Filter> own = routeFilters.get(r.name());
            if (own != null) {
                perRoute.put(r, chain.then(FilterChain.of(own)));
            }
        }
        runtime = new ListenerRuntime(lc.name(), false, lc.limits(), table, ExchangeObserver.Factory.none(), chain,
                perRoute);
    }

    FakePool pool(String endpoint) {
        return pools.get(endpoint);
    }

    /** All streams of all pools, in the order they were handed out (one per attempt). */
    List<FakeStream> streams() {
        return streams;
    }

    Exchange start(HttpRequest head) {
        exchange = (Exchange) new ProxyExchanges(() -> runtime).newExchange(session);
        session.exchange = exchange;
        exchange.start(head);
        return exchange;
    }

    Exchange get(String path) {
        DefaultFullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, path,
                Unpooled.EMPTY_BUFFER);
        req.headers().set("host", "example.test");
        return start(req);
    }

    /** An HTTP/1.1 WebSocket upgrade request (Connection: Upgrade, Upgrade: websocket). */
    Exchange upgrade(String path) {
        DefaultFullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, path,
                Unpooled.EMPTY_BUFFER);
        req.headers().set("host", "example.test").set("connection", "Upgrade").set("upgrade", "websocket")
                .set("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==").set("sec-websocket-version", "13");
        return start(req);
    }

    /** A streamed request head announcing {@code length} body bytes. */
    Exchange postHead(String path, long length) {
        DefaultHttpRequest req = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, path);
        req.headers().set("host", "example.test").set("content-length", length);
        return start(req);
    }

    void body(String text) {
        exchange.onRequestContent(new DefaultHttpContent(Unpooled.copiedBuffer(text, StandardCharsets.UTF_8)));
        exchange.onReadComplete();
    }

    void lastBody(String text) {
        exchange.onRequestContent(new DefaultLastHttpContent(Unpooled.copiedBuffer(text, StandardCharsets.UTF_8)));
        exchange.onReadComplete();
    }

    /** Runs the timers due within {@code millis} of (fake) time. */
    void advance(long millis) {
        session.channel.advanceTimeBy(millis, TimeUnit.MILLISECONDS);
        session.channel.runScheduledPendingTasks();
        session.channel.runPendingTasks();
    }
}
