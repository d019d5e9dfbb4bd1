package org.workshopfleet.grafana;

import org.workshopfleet.error.FleetException;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.workshopfleet.cloud.FakeHttpServer;
import org.junit.jupiter.api.io.TempDir;

/** {@link GrafanaClient} against {@link FakeGrafana}, a stand-in for Grafana's documented API. */
class GrafanaClientTest {

    static final Path DASHBOARD = Path.of("src/test/resources/dashboards/test-dashboard.json");
    static final String PW = "Correct-Horse-7";

    private static GrafanaClient client(FakeGrafana g, String pw) {
        return new GrafanaClient(URI.create("http://127.0.0.1:" + g.port()), pw, Duration.ofMillis(20));
    }

    @Test
    void waitsForHealthThenDatasourceThenImportsWithInputsMapped() throws Exception {
        try (FakeGrafana g = new FakeGrafana(PW, 2, 3)) {
            List<String> uids = client(g, PW).installDashboards(List.of(DASHBOARD), Duration.ofSeconds(10));
            assertEquals(List.of("test-dashboard"), uids);
            assertEquals(List.of("GET /api/health", "GET /api/health", "GET /api/health",
                    "GET /api/datasources/uid/prometheus", "GET /api/datasources/uid/prometheus",
                    "GET /api/datasources/uid/prometheus", "GET /api/datasources/uid/prometheus",
                    "POST /api/dashboards/import", "GET /api/dashboards/uid/test-dashboard"), g.requests);
            JsonNode body = g.importBodies.get(0);
            assertTrue(body.path("dashboard").path("id").isNull(), "id must be null: " + body);
            assertTrue(body.path("overwrite").asBoolean());
            assertEquals(new ObjectMapper().readTree(
                    "[{\"name\":\"DS_PROMETHEUS\",\"type\":\"datasource\",\"pluginId\":\"prometheus\",\"value\":\"prometheus\"}]"),
                    body.path("inputs"));
            JsonNode saved = g.dashboard("test-dashboard");
            assertEquals("prometheus", saved.path("panels").get(2).path("panels").get(0).path("datasource").path("uid").asText());
            assertFalse(saved.toString().contains("${DS_PROMETHEUS}"));
        }
    }

    @Test
    void reImportOverwrites() throws Exception {
        try (FakeGrafana g = new FakeGrafana(PW, 0, 0)) {
            GrafanaClient c = client(g, PW);
            c.installDashboards(List.of(DASHBOARD), Duration.ofSeconds(5));
            c.installDashboards(List.of(DASHBOARD), Duration.ofSeconds(5));
            assertEquals(2, g.importBodies.size());
        }
    }

    @Test
    void anInputThatCannotBeMappedIsNamedAndNothingIsImported(@TempDir Path dir) throws Exception {
        Path odd = dir.resolve("odd.json");
        Files.writeString(odd, Files.readString(DASHBOARD).replace("\"__inputs\": [",
                "\"__inputs\": [{\"name\": \"DS_LOKI\", \"type\": \"datasource\", \"pluginId\": \"loki\"},"));
        try (FakeGrafana g = new FakeGrafana(PW, 0, 0)) {
            FleetException e = assertThrows(FleetException.class, () -> client(g, PW).importDashboard(odd));
            assertTrue(e.getMessage().contains("DS_LOKI"), e.getMessage());
            assertTrue(g.importBodies.isEmpty());
        }
    }

    @Test
    void aWrongPasswordStopsAtOnceWithoutEchoingIt() throws Exception {
        try (FakeGrafana g = new FakeGrafana(PW, 0, 0)) {
            FleetException e = assertThrows(FleetException.class,
                    () -> client(g, "wrong-pass-123").installDashboards(List.of(DASHBOARD), Duration.ofSeconds(30)));
            assertTrue(e.getMessage().contains("401"), e.getMessage());
            assertFalse(e.getMessage().contains("wrong-pass-123"));
            assertEquals(1, g.requests.stream().filter(r -> r.contains("datasources")).count(), "no retry on 401");
        }
    }

    @Test
    void verifyNamesPanelsNotBoundToTheDatasource() throws Exception {
        try (FakeGrafana g = new FakeGrafana(PW, 0, 0)) {
            g.putDashboard("d1", new ObjectMapper().readTree("{\"uid\":\"d1\",\"panels\":["
                    + "{\"type\":\"timeseries\",\"title\":\"ok\",\"datasource\":{\"type\":\"prometheus\",\"uid\":\"prometheus\"}},"
                    + "{\"type\":\"row\",\"title\":\"r\",\"panels\":[{\"type\":\"stat\",\"title\":\"Stray\","
                    + "\"datasource\":{\"type\":\"prometheus\",\"uid\":\"${DS_OTHER}\"}}]},"
                    + "{\"type\":\"stat\",\"title\":\"Legacy\",\"datasource\":\"Prometheus\"}]}"));
            FleetException e = assertThrows(FleetException.class, () -> client(g, PW).verifyDashboard("d1"));
            assertTrue(e.getMessage().contains("'Stray'") && e.getMessage().contains("'Legacy'"), e.getMessage());
            assertFalse(e.getMessage().contains("'ok'"), e.getMessage());
            assertThrows(FleetException.class, () -> client(g, PW).verifyDashboard("absent"));
        }
    }

    @Test
    void givesUpWhenGrafanaNeverBecomesHealthy() throws Exception {
        try (FakeGrafana g = new FakeGrafana(PW, 1_000_000, 0)) {
            FleetException e = assertThrows(FleetException.class, () -> client(g, PW).awaitHealthy(Duration.ofMillis(500)));
            assertTrue(e.getMessage().contains("HTTP 503"), e.getMessage());
        }
    }

    // --- panels through /api/ds/query, and the login form -----------------------------------------------------------

    static final Path WORKSHOP_DASHBOARD = Path.of("dashboards/php-usdt-uprobe.json");

    /** A Prometheus query API on loopback: records each call as "path?decoded form" and answers by expression. */
    static final class FakePrometheus implements AutoCloseable {
        final List<Map<String, String>> calls = new CopyOnWriteArrayList<>();
        final FakeHttpServer server;

        FakePrometheus(Map<String, String> resultsByExprPart) {
            server = FakeHttpServer.start("fake-prometheus", 2, ex -> {
                Map<String, String> form = new LinkedHashMap<>();
                form.put("path", ex.getRequestURI().getPath());
                for (String kv : new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8).split("&")) {
                    String[] p = kv.split("=", 2);
                    form.put(p[0], p.length > 1 ? URLDecoder.decode(p[1], StandardCharsets.UTF_8) : "");
                }
                calls.add(form);
                String result = resultsByExprPart.entrySet().stream()
                        .filter(e -> form.getOrDefault("query", "").contains(e.getKey()))
                        .map(Map.Entry::getValue).findFirst().orElse("[]");
                String body = result.startsWith("error:")
                        ? "{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":\"" + result.substring(6) + "\"}"
                        : "{\"status\":\"success\",\"data\":{\"resultType\":\""
                                + (form.get("path").endsWith("query_range") ? "matrix" : "vector")
                                + "\",\"result\":" + result + "}}";
                FakeHttpServer.reply(ex, result.startsWith("error:") ? 400 : 200,
                        Map.of("Content-Type", "application/json"), body.getBytes(StandardCharsets.UTF_8));
            });
        }

        Map<String, String> callFor(String exprPart) {
            return calls.stream().filter(c -> c.getOrDefault("query", "").contains(exprPart)).findFirst()
                    .orElseThrow(() -> new AssertionError("no query with " + exprPart + " in " + calls));
        }

        @Override
        public void close() {
            server.close();
        }
    }

    private static final String SERIES = "[{\"metric\":{\"le\":\"0.001\"},\"values\":[[1700000000,\"0.5\"],[1700000015,\"0.7\"]]}]";
    private static final String NAN_ONLY = "[{\"metric\":{},\"values\":[[1700000000,\"NaN\"],[1700000015,\"NaN\"]]}]";
    private static final String INSTANT = "[{\"metric\":{\"filename\":\"/var/www\"},\"value\":[1700000000,\"3\"]}]";

    @Test
    void everyPanelOfTheWorkshopDashboardIsQueriedAndTheEmptyOnesAreNamed() throws Exception {
        try (FakeGrafana g = new FakeGrafana(PW, 0, 0);
             FakePrometheus prometheus = new FakePrometheus(Map.of(
                     "php_request_time_sec_bucket", SERIES,
                     "php_compile_file_total", INSTANT,
                     "php_exception_thrown_total", NAN_ONLY))) {
            g.datasourceUrl(prometheus.server.endpoint());
            GrafanaClient c = client(g, PW);
            c.installDashboards(List.of(WORKSHOP_DASHBOARD), Duration.ofSeconds(5));
            GrafanaClient.PanelCheck check = c.queryPanels("php-usdt-uprobe", Duration.ofMinutes(15));

            assertEquals(List.of("PHP request time: p99 / p95 / p90 / p50", "Compiled PHP files by directory"),
                    check.withData());
            assertEquals(List.of("'memcached_set value length (bytes)' (no data)",
                    "'memcached_set value length: p99 / p95 / p50' (no data)",
                    "'Exceptions thrown per second (10m)' (no data)"), check.failing(),
                    "a NaN-only series is no data point; the text panel and rows are not queried");
            assertEquals(5, g.queryBodies.size(), "one request per panel with targets");
            assertEquals(10, prometheus.calls.size(), "every target of every panel: 1 + 3 + 4 + 1 + 1");

            // The heatmap's $__rate_interval: 15 min / 100 points is 9 s, below the data source's 15 s scrape
            // interval, so $__interval is 15s and $__rate_interval max(15s + 15s, 4 × 15s) = 1m0s.
            Map<String, String> heatmap = prometheus.callFor("memcached_set_val_length_bucket[1m0s]");
            assertEquals("sum(increase(ebpf_exporter_memcached_set_val_length_bucket[1m0s])) by (le)", heatmap.get("query"));
            assertEquals("/api/v1/query_range", heatmap.get("path"));
            assertEquals("15", heatmap.get("step"));
            assertEquals("/api/v1/query", prometheus.callFor("php_compile_file_total").get("path"), "instant target");

            JsonNode first = g.queryBodies.get(0);
            assertEquals(15 * 60 * 1000L, Long.parseLong(first.path("to").asText()) - Long.parseLong(first.path("from").asText()));
            JsonNode q = first.path("queries").get(0);
            assertEquals("A", q.path("refId").asText());
            assertEquals("prometheus", q.path("datasource").path("uid").asText());
            assertEquals("prometheus", q.path("datasource").path("type").asText());
            assertEquals(15000, q.path("intervalMs").asLong());
            assertEquals(100, q.path("maxDataPoints").asLong());
            assertFalse(g.queryBodies.toString().contains("$__"), "no macro reaches Grafana unexpanded");
        }
    }

    @Test
    void aQueryErrorNamesThePanelAndTheError() throws Exception {
        try (FakeGrafana g = new FakeGrafana(PW, 0, 0);
             FakePrometheus prometheus = new FakePrometheus(Map.of("rate(x", "error:parse error: unexpected", "up", INSTANT))) {
            g.datasourceUrl(prometheus.server.endpoint());
            GrafanaClient c = client(g, PW);
            c.installDashboards(List.of(DASHBOARD), Duration.ofSeconds(5));
            GrafanaClient.PanelCheck check = c.queryPanels("test-dashboard", Duration.ofMinutes(15));
            assertEquals(List.of("Nested"), check.withData(), "the row's nested panel is queried");
            assertEquals(List.of("'Requests' (query A: bad_data: parse error: unexpected)"), check.failing());
        }
    }

    @Test
    void macrosAndDatasourceVariablesResolveAsGrafanaDoes() throws Exception {
        List<DashboardPanels.Datasource> sources = List.of(
                new DashboardPanels.Datasource("loki1", "Loki", "loki", false, 0),
                new DashboardPanels.Datasource("prometheus", "Prometheus", "prometheus", true, 30_000));
        JsonNode dashboard = new ObjectMapper().readTree("""
                {"templating":{"list":[
                   {"type":"datasource","name":"ds","query":"prometheus","current":{"value":"prometheus"}},
                   {"type":"datasource","name":"dflt","query":"prometheus","current":{"value":"default"}}]},
                 "panels":[
                   {"title":"wide","maxDataPoints":10,"datasource":{"type":"prometheus","uid":"${ds}"},
                    "targets":[{"refId":"A","expr":"rate(a[$__rate_interval]) / $__interval_ms / ${__range_s} + b[$__interval] + c[${__range}]"}]},
                   {"title":"default","targets":[{"refId":"A","expr":"rate(d[${__rate_interval}])"}]},
                   {"title":"by name","datasource":"Prometheus","targets":[{"refId":"A","expr":"e","hide":false},{"refId":"B","expr":"hidden","hide":true}]},
                   {"title":"variable default","datasource":{"uid":"$dflt"},"targets":[{"refId":"A","expr":"f"}]},
                   {"title":"min step","datasource":{"uid":"prometheus"},"targets":[{"refId":"A","interval":"1m","expr":"rate(g[$__rate_interval])"}]},
                   {"title":"stray","datasource":{"type":"prometheus","uid":"${DS_OTHER}"},"targets":[{"refId":"A","expr":"h"}]},
                   {"title":"text","type":"text"}]}
                """);
        List<DashboardPanels.Panel> panels = DashboardPanels.of(dashboard, sources, 3_600_000);
        assertEquals(List.of("wide", "default", "by name", "variable default", "min step", "stray"),
                panels.stream().map(DashboardPanels.Panel::title).toList());
        // 1 h / 10 points = 6 min, rounded to 5 min (above the 30 s scrape interval): $__interval 5m, 300000 ms;
        // $__rate_interval = max(5m + 30s, 4 × 30s) = 5m30s in Go's duration form; $__range 3600s.
        DashboardPanels.Query wide = panels.get(0).queries().get(0);
        assertEquals("rate(a[5m30s]) / 300000 / 3600 + b[5m] + c[3600s]", wide.expr());
        assertEquals(300_000, wide.interval().intervalMs());
        assertEquals("prometheus", wide.datasource().uid());
        // 1 h / 100 points = 36 s, rounded to 30 s: $__rate_interval = max(30s + 30s, 2m) = 2m0s.
        DashboardPanels.Query dflt = panels.get(1).queries().get(0);
        assertEquals("rate(d[2m0s])", dflt.expr());
        assertEquals("prometheus", dflt.datasource().uid(), "no datasource: the default one");
        assertEquals(List.of("e"), panels.get(2).queries().stream().map(DashboardPanels.Query::expr).toList(),
                "the hidden target is not sent");
        assertEquals("prometheus", panels.get(2).queries().get(0).datasource().uid(), "a name resolves");
        assertEquals("prometheus", panels.get(3).queries().get(0).datasource().uid());
        // A literal min step is the scrape interval of $__rate_interval: max(30s + 1m, 4 × 1m) = 4m0s.
        assertEquals("rate(g[4m0s])", panels.get(4).queries().get(0).expr());
        assertEquals("1m", panels.get(4).queries().get(0).minStep());
        assertEquals("data source '${DS_OTHER}' not found", panels.get(5).problem());
    }

    @Test
    void intervalArithmeticFollowsGrafana() {
        assertEquals("1m0s", QueryInterval.goDuration(60_000));
        assertEquals("1m15s", QueryInterval.goDuration(75_000));
        assertEquals("1h0m0s", QueryInterval.goDuration(3_600_000));
        assertEquals("1.5s", QueryInterval.goDuration(1_500));
        assertEquals("500ms", QueryInterval.goDuration(500));
        assertEquals("1m", QueryInterval.formatInterval(90_000), "FormatInterval keeps the largest whole unit");
        assertEquals(15_000, QueryInterval.roundInterval(15_000));
        assertEquals(10_000, QueryInterval.roundInterval(9_000));
        assertEquals(300_000, QueryInterval.roundInterval(360_000));
        assertEquals(15_000, QueryInterval.parse("15s"));
        assertEquals(90_000, QueryInterval.parse("1m30s"));
        assertEquals(10_000, QueryInterval.parse("<10s>"));
        assertEquals(20_000, QueryInterval.parse("20"));
        assertEquals(-1, QueryInterval.parse("$__interval"));
    }

    @Test
    void theCardsPasswordLogsInThroughTheLoginFormAndAWrongOneIsRefused() throws Exception {
        try (FakeGrafana g = new FakeGrafana(PW, 0, 0)) {
            GrafanaClient c = client(g, "not-used-for-login");
            assertTrue(c.login("admin", PW));
            assertEquals(List.of("POST /grafana/login", "GET /api/user"), g.requests,
                    "the session cookie alone signs the user in");
            g.requests.clear();
            assertFalse(c.login("admin", "wrong-pass-123"));
            assertFalse(c.login("someone", PW));
            assertEquals(List.of("POST /grafana/login", "POST /grafana/login"), g.requests, "one attempt each, no retry");
        }
    }
}
