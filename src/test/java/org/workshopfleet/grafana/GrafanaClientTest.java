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
import java.util.List;
import org.junit.jupiter.api.Test;
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
}
