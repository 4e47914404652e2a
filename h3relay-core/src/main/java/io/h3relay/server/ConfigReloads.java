package io.h3relay.server;

import io.h3relay.config.ConfigError;
import io.h3relay.config.ConfigException;
import io.h3relay.config.ConfigLoader;
import io.h3relay.config.RelayConfig;
import io.h3relay.events.EventLog;
import io.h3relay.telemetry.Json;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every way a new config reaches a running server: the config file again (SIGHUP, {@code POST /config/reload},
 * the file watch), a whole config sent to {@code PUT /config}, and the admin API's endpoint changes. Each
 * validates the whole config first ({@link ConfigLoader}: every error with its line), then
 * {@link RelayServer#apply}s it atomically; a rejected one changes nothing. Each attempt is logged, counted in
 * {@code h3relay_config_reloads_total{result}} and published as a {@code reload} event. One at a time.
 */
public final class ConfigReloads {
    private static final Logger LOG = LoggerFactory.getLogger(ConfigReloads.class);

    /** How an attempt ended: {@code applied}, {@code rejected} or {@code restart_required}. */
    public record Result(String result, int status, String json) {
        public boolean applied() {
            return result.equals("applied");
        }
    }

    private final RelayServer server;
    private final Path file;
    private final EventLog events;
    /** The text last read from the file (the watch reloads only when it differs). */
    private String lastFileText;

    ConfigReloads(RelayServer server, Path file, EventLog events) {
        this.server = server;
        this.file = file;
        this.events = events;
        if (file != null) {
            try {
                lastFileText = Files.readString(file);
            } catch (IOException e) {
                lastFileText = null;
            }
        }
    }

    /** The config file reloads read, or null when the server was started from a config object. */
    public Path file() {
        return file;
    }

    /** Reads the config file again and applies it. */
    public synchronized Result reloadFile(String trigger) {
        if (file == null) {
            return count(trigger, "rejected", 409, AdminJson.error(409, "no_config_file",
                    "this server was not started from a config file", ""), Map.of());
        }
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            return rejected(trigger, file.toString(), List.of(new ConfigError(file.toString(), "unreadable",
                    "a readable YAML file (" + e.getClass().getSimpleName() + ")", 0)));
        }
        lastFileText = text;
        return applyText(text, trigger, file.toString());
    }

    /** Reloads when the file's text differs from the one last read (the watch: editors write more than once). */
    public synchronized Result reloadFileIfChanged(String trigger) {
        try {
            if (file != null && Files.readString(file).equals(lastFileText)) {
                return null;
            }
        } catch (IOException e) {
            // reloadFile reports it
        }
        return reloadFile(trigger);
    }

    /**
     * A whole config as text (YAML, or JSON, which is YAML too), validated and applied; with {@code persist}
     * it is also written to the config file (atomically: a temporary file moved over it) once applied.
     */
    public synchronized Result applyText(String text, String trigger, boolean persist) {
        if (persist && file == null) {
            return count(trigger, "rejected", 409, AdminJson.error(409, "no_config_file",
                    "persist=true: this server was not started from a config file", ""), Map.of());
        }
        Result r = applyText(text, trigger, "request body");
        if (r.applied() && persist) {
            try {
                Path tmp = Files.createTempFile(file.toAbsolutePath().getParent(), ".h3relay-", ".yaml");
                Files.writeString(tmp, text, StandardCharsets.UTF_8);
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                lastFileText = text;
                LOG.info("config written to {}", file);
            } catch (IOException e) {
                LOG.warn("config applied but not written to {}: {}", file, e.toString());
                return new Result("applied", 500, AdminJson.error(500, "persist_failed", "applied, but not written to "
                        + file + ": " + e.getMessage(), "\"result\":\"applied\""));
            }
        }
        return r;
    }

    private Result applyText(String text, String trigger, String source) {
        Path base = file == null ? Path.of("").toAbsolutePath() : file.toAbsolutePath().getParent();
        RelayConfig next;
        try {
            next = ConfigLoader.parse(text, base, System.getenv());
        } catch (ConfigException e) {
            return rejected(trigger, source, e.errors());
        }
        return apply(next, trigger, Map.of());
    }

    /** Applies a config built in memory (the admin API's endpoint changes: already checked by the caller). */
    public synchronized Result apply(RelayConfig next, String trigger, Map<String, Object> details) {
        try {
            Applied a = server.apply(next);
            StringBuilder b = new StringBuilder("{\"result\":\"applied\"");
            Json.field(b, "generation", a.generation());
            list(b, "clusters_added", a.added());
            list(b, "clusters_replaced", a.replaced());
            list(b, "clusters_removed", a.removed());
            list(b, "clusters_kept", a.kept());
            Json.name(b, "routes_changed").append(a.routesChanged());
            Map<String, Object> d = new LinkedHashMap<>(details);
            d.put("generation", a.generation());
            return count(trigger, "applied", 200, b.append("}\n").toString(), d);
        } catch (ApplyException e) {
            if (!e.needsRestart().isEmpty()) {
                LOG.warn("{}: config not applied, it changes settings that need a restart: {}", trigger,
                        String.join("; ", e.needsRestart()));
                StringBuilder extra = new StringBuilder("\"result\":\"restart_required\",\"changes\":[");
                for (int i = 0; i < e.needsRestart().size(); i++) {
                    Json.string(extra.append(i == 0 ? "" : ","), e.needsRestart().get(i));
                }
                extra.append(']');
                return count(trigger, "restart_required", 409, AdminJson.error(409, "restart_required",
                        "the running config stays: these settings take a restart", extra.toString()),
                        Map.of("changes", e.needsRestart()));
            }
            LOG.warn("{}: config not applied: {}", trigger, e.getMessage());
            return count(trigger, "rejected", 400, AdminJson.error(400, "invalid_config", e.getMessage(),
                    "\"result\":\"rejected\",\"errors\":[]"), Map.of("message", String.valueOf(e.getMessage())));
        }
    }

    private Result rejected(String trigger, String source, List<ConfigError> errors) {
        for (ConfigError error : errors) {
            LOG.warn("{}: config rejected: {}: {}", trigger, source, error);
        }
        StringBuilder extra = new StringBuilder("\"result\":\"rejected\",\"errors\":[");
        for (int i = 0; i < errors.size(); i++) {
            ConfigError e = errors.get(i);
            extra.append(i == 0 ? "{" : ",{");
            Json.field(extra, "line", e.line());
            Json.field(extra, "path", e.path());
            Json.field(extra, "value", e.value());
            Json.field(extra, "expected", e.expected());
            Json.field(extra, "text", e.toString());
            extra.append('}');
        }
        extra.append(']');
        String message = errors.size() + " error" + (errors.size() == 1 ? "" : "s") + "; the running config stays";
        return count(trigger, "rejected", 400, AdminJson.error(400, "invalid_config", message, extra.toString()),
                Map.of("errors", errors.stream().map(ConfigError::toString).toList()));
    }

    private Result count(String trigger, String result, int status, String json, Map<String, Object> details) {
        if (server.telemetry() != null) {
            server.telemetry().configReloaded(result);
        }
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("trigger", trigger);
        d.put("result", result);
        d.putAll(details);
        events.publish("reload", d);
        if (result.equals("applied")) {
            LOG.info("{}: config applied", trigger);
        }
        return new Result(result, status, json);
    }

    private static void list(StringBuilder b, String name, List<String> values) {
        Json.name(b, name).append('[');
        for (int i = 0; i < values.size(); i++) {
            Json.string(b.append(i == 0 ? "" : ","), values.get(i));
        }
        b.append(']');
    }
}
