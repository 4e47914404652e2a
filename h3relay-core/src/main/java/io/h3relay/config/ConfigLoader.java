package io.h3relay.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Compose;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.nodes.Node;

/**
 * Reads a config file into a frozen {@link RelayConfig}, or fails with every problem at once.
 *
 * <pre>
 *   text ──compose──▶ YAML nodes (with lines) ──section parsers──▶ records ──cross checks──▶ RelayConfig
 *                                   ${ENV} substituted per scalar ┘      names, references, addresses ┘
 * </pre>
 *
 * We compose to nodes instead of loading to maps so that every error can name its line, and collect
 * errors instead of throwing so that one run shows the user everything to fix.
 */
public final class ConfigLoader {
    private ConfigLoader() {}

    /**
     * Loads a file, substituting {@code ${NAME}} from the process environment; relative certificate paths
     * start at the file's folder.
     */
    public static RelayConfig load(Path file) throws ConfigException {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new ConfigException(new ConfigError(file.toString(), "unreadable",
                    "a readable YAML file (" + e.getClass().getSimpleName() + ")", 0));
        }
        return parse(text, file.toAbsolutePath().getParent(), System.getenv());
    }

    /** Parses config text; {@code baseDir} is where relative file paths start, {@code env} feeds {@code ${NAME}}. */
    public static RelayConfig parse(String yaml, Path baseDir, Map<String, String> env) throws ConfigException {
        ParseContext ctx = new ParseContext(env, baseDir);
        Node root = compose(yaml);
        RelayConfig config = parseRoot(YamlMap.root(ctx, root));
        if (ctx.hasErrors()) {
            throw new ConfigException(ctx.sortedErrors());
        }
        return config;
    }

    private static Node compose(String yaml) throws ConfigException {
        LoadSettings settings = LoadSettings.builder().setLabel("config").setAllowDuplicateKeys(false).build();
        try {
            return new Compose(settings).composeString(yaml).orElse(null);
        } catch (MarkedYamlEngineException e) {
            int line = e.getProblemMark().or(e::getContextMark).map(m -> m.getLine() + 1).orElse(0);
            String problem = e.getProblem() == null ? e.getContext() : e.getProblem();
            throw new ConfigException(new ConfigError("(yaml)", ConfigError.quote(String.valueOf(problem)),
                    "valid YAML", line));
        } catch (YamlEngineException e) {
            throw new ConfigException(new ConfigError("(yaml)", ConfigError.quote(String.valueOf(e.getMessage())),
                    "valid YAML", 0));
        }
    }

    /** A parsed list entry and the path it was read at, for the cross checks' error lines. */
    record Parsed<T>(String path, T value) {}

    private static RelayConfig parseRoot(YamlMap root) {
        ParseContext ctx = root.ctx();
        AdminConfig admin = admin(root.map("admin"));
        List<Parsed<RouteConfig>> routes = list(root, "routes", RouteParser::parse);
        List<Parsed<ClusterConfig>> clusters = list(root, "clusters", ClusterParser::parse);
        Set<String> routeNames = new LinkedHashSet<>();
        routes.forEach(r -> {
            if (r.value().name() != null) {
                routeNames.add(r.value().name());
            }
        });
        List<String> allRoutes = List.copyOf(routeNames);
        List<Parsed<ListenerConfig>> listeners = list(root, "listeners", m -> ListenerParser.parse(m, allRoutes));
        if (!root.has("listeners")) {
            root.missing("listeners", "at least one listener: - name: ..., address: host:port");
        } else if (root.isEmptyList("listeners")) {
            root.notAllowed("listeners", "at least one listener");
        }
        YamlMap observability = root.map("observability");
        ObservabilityConfig obs = observability == null ? ObservabilityConfig.defaults()
                : ObservabilityParser.parse(observability);
        ShutdownConfig shutdown = shutdown(root.map("shutdown"));
        root.finish();
        CrossChecks.run(ctx, admin, listeners, routes, clusters);
        return new RelayConfig(admin, values(listeners), values(routes), values(clusters), obs, shutdown);
    }

    private static <T> List<Parsed<T>> list(YamlMap root, String key, Function<YamlMap, T> parser) {
        List<Parsed<T>> out = new ArrayList<>();
        for (YamlMap m : root.maps(key)) {
            out.add(new Parsed<>(m.path(), parser.apply(m)));
        }
        return out;
    }

    private static <T> List<T> values(List<Parsed<T>> parsed) {
        return parsed.stream().map(Parsed::value).toList();
    }

    private static AdminConfig admin(YamlMap m) {
        if (m == null) {
            return new AdminConfig(AdminConfig.DEFAULT_ADDRESS);
        }
        HostPort address = m.address("address", 0);
        String token = m.string("auth_token");
        if (token != null && token.isBlank()) {
            m.notAllowed("auth_token", "a non-empty token (or no auth_token at all)");
            token = null;
        }
        boolean watch = m.bool("watch_config", false);
        String grafana = m.value("grafana_url", "an http:// or https:// URL",
                t -> t.matches("https?://[^\\s\"'<>]+") ? t : null);
        YamlMap tlsMap = m.map("tls");
        TlsServerConfig tls = tlsMap == null ? null : TlsParser.server(tlsMap);
        AdminConfig admin = new AdminConfig(address == null ? AdminConfig.DEFAULT_ADDRESS : address, token, watch,
                grafana, tls);
        if (token == null && !admin.loopbackOnly()) {
            m.notAllowed("address", "a loopback address (127.0.0.1, ::1), or admin.auth_token set: the admin API "
                    + "changes the running proxy");
        }
        m.finish();
        return admin;
    }

    private static ShutdownConfig shutdown(YamlMap m) {
        ShutdownConfig d = ShutdownConfig.defaults();
        if (m == null) {
            return d;
        }
        var delay = m.duration("drain_delay", d.drainDelay());
        var drain = m.duration("drain_timeout", d.drainTimeout());
        var retryAfter = m.duration("retry_after", d.retryAfter());
        m.finish();
        return new ShutdownConfig(delay, drain, retryAfter);
    }
}
