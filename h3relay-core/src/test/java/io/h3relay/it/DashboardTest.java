package io.h3relay.it;

import io.h3relay.testing.TestEndpoint;
import org.junit.jupiter.api.Test;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** Every metric the Grafana dashboard queries exists in /metrics once the proxy has served traffic. */
class DashboardTest {
    private static final Path DASHBOARD = Path.of("..", "deploy", "grafana", "h3relay.json");
    private static final Pattern METRIC = Pattern.compile("\\b((?:h3relay|jvm|process)_[a-z0-9_]+)");

    @Test
    @SuppressWarnings("unchecked")
    void everyDashboardMetricIsExposed() throws Exception {
        Map<String, Object> dashboard = (Map<String, Object>) new Load(LoadSettings.builder().build())
                .loadFromString(Files.readString(DASHBOARD));
        Set<String> used = new TreeSet<>();
        List<String> exprs = new ArrayList<>();
        for (Map<String, Object> panel : (List<Map<String, Object>>) dashboard.get("panels")) {
            for (Map<String, Object> target : (List<Map<String, Object>>) panel.get("targets")) {
                exprs.add((String) target.get("expr"));
            }
        }
        for (String expr : exprs) {
            Matcher m = METRIC.matcher(expr);
            while (m.find()) {
                used.add(m.group(1));
            }
        }
        assertThat(used).hasSizeGreaterThan(15);

        try (TestEndpoint endpoint = TestEndpoint.start("dash")) {
            RelayHarness relay = RelayHarness.yaml(RelayHarness.LISTENERS + """
                    routes:
                      - { name: api, match: { path_prefix: /api }, cluster: c }
                      - { name: down, match: { path_prefix: /down }, cluster: dead }
                    clusters:
                      - { name: c, endpoints: [ { address: "@EP@" } ] }
                      - { name: dead, endpoints: [ { address: "127.0.0.1:1" } ] }
                    observability: { access_log: { path: "off" } }
                    """).with("LIMITS", "{}").with("EP", endpoint.address()).start();
            try {
                for (Proto proto : Proto.values()) {
                    relay.client(proto).send(HttpRequest.newBuilder(relay.uri(proto, "/api")).build(),
                            HttpResponse.BodyHandlers.discarding());
                    relay.client(proto).send(HttpRequest.newBuilder(relay.uri(proto, "/down")).build(),
                            HttpResponse.BodyHandlers.discarding());
                }
                MetricsScrape scrape = MetricsScrape.of(relay);
                List<String> missing = used.stream().filter(name -> !scrape.has(name)
                        && !scrape.has(name.replaceAll("_(bucket|sum|count)$", ""))).toList();
                assertThat(missing).as("dashboard metrics missing from /metrics").isEmpty();
            } finally {
                relay.close();
            }
        }
    }
}
