package org.workshopfleet.lab.standins;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.workshopfleet.cloud.FakeHttpServer;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Drives the Grafana HTTP API stand-in ({@code standins/grafana/grafana}, run as {@code grafana server} with python3 on
 * loopback and a random port) over HTTP, checking it behaves as Grafana's HTTP API does for the calls the provisioner
 * makes (Grafana documentation: Other HTTP API for the health check, Data source HTTP API, Dashboard HTTP API).
 */
class GrafanaStandInTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String DATASOURCE = """
            apiVersion: 1
            datasources:
              - name: Prometheus
                type: prometheus
                access: proxy
                orgId: 1
                uid: prometheus
                url: http://127.0.0.1:9090
                isDefault: true
                editable: false
            """;
    /** Shaped like the contract's dashboard: one __inputs entry and panels bound to ${DS_PROMETHEUS}. */
    private static final String DASHBOARD = """
            {"__inputs":[{"name":"DS_PROMETHEUS","label":"Prometheus","type":"datasource","pluginId":"prometheus",
                          "pluginName":"Prometheus"}],
             "__requires":[{"type":"datasource","id":"prometheus","name":"Prometheus","version":"1.0.0"}],
             "__elements":{},
             "id":null,"uid":"php-usdt-uprobe","title":"PHP USDT/uprobe SAMPLES","version":1,"tags":["workshop"],
             "panels":[
               {"type":"row","title":"USDT","panels":[]},
               {"type":"timeseries","title":"request time",
                "datasource":{"type":"prometheus","uid":"${DS_PROMETHEUS}"},
                "targets":[{"datasource":{"type":"prometheus","uid":"${DS_PROMETHEUS}"},
                            "expr":"histogram_quantile(0.99, sum(rate(ebpf_exporter_php_request_time_sec_bucket[5m])) by (le))"}]},
               {"type":"stat","title":"exceptions ${UNKNOWN}",
                "datasource":{"type":"prometheus","uid":"${DS_PROMETHEUS}"},
                "targets":[{"datasource":{"type":"prometheus","uid":"${DS_PROMETHEUS}"},
                            "expr":"rate(ebpf_exporter_php_exception_thrown_total[10m])"}]}]}
            """;
    private static final String INPUTS =
            "[{\"name\":\"DS_PROMETHEUS\",\"type\":\"datasource\",\"pluginId\":\"prometheus\",\"value\":\"prometheus\"}]";

    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final List<LocalGrafana> grafanas = new ArrayList<>();
    private URI base;

    @AfterEach
    void stop() {
        grafanas.forEach(LocalGrafana::close);
    }

    @Test
    void healthNeedsNoAuthAndWrongPasswordIs401() throws Exception {
        start("first-pw", 0.2);
        HttpResponse<String> health = get("/api/health", null);
        assertEquals(200, health.statusCode());
        JsonNode body = JSON.readTree(health.body());
        assertEquals("ok", body.path("database").asText());
        assertEquals(GrafanaAptRepository.VERSION, body.path("version").asText());
        assertTrue(body.has("commit"));
        assertEquals(401, get("/api/search", null).statusCode(), "no credentials");
        assertEquals(401, get("/api/search", "wrong-pw").statusCode(), "wrong password");
        assertEquals(200, get("/api/search", "first-pw").statusCode());
        assertEquals(401, get("/api/search", "admin").statusCode(), "the default password is not set when one is given");
    }

    @Test
    void passwordIsFixedAtFirstStart() throws Exception {
        LocalGrafana first = start("first-pw", 0.2);
        assertEquals(200, get("/api/search", "first-pw").statusCode());
        first.close();
        start("second-pw", 0.2);
        assertEquals(200, get("/api/search", "first-pw").statusCode(), "password of the first start still works");
        assertEquals(401, get("/api/search", "second-pw").statusCode(), "a later GF_SECURITY_ADMIN_PASSWORD is ignored");
    }

    @Test
    void defaultPasswordIsAdminAndGrafanaIniSetsIt() throws Exception {
        start(null, 0.2);
        assertEquals(200, get("/api/search", "admin").statusCode());
        Path other = dir.resolve("other");
        Files.createDirectories(other);
        Files.writeString(other.resolve("grafana.ini"), "[security]\nadmin_password = from-ini\n");
        startIn(other, null, 0.2);
        assertEquals(200, get("/api/search", "from-ini").statusCode());
        assertEquals(401, get("/api/search", "admin").statusCode());
    }

    @Test
    void dataSourceAppearsOnlyAfterProvisioningWhichRunsAfterHttpStarts() throws Exception {
        start("pw", 2.0);
        assertEquals(200, get("/api/health", null).statusCode());
        HttpResponse<String> early = get("/api/datasources/uid/prometheus", "pw");
        assertEquals(404, early.statusCode(), "provisioning must not have run yet right after health is 200");
        assertEquals("Data source not found", JSON.readTree(early.body()).path("message").asText());
        HttpResponse<String> ready = poll("/api/datasources/uid/prometheus", "pw", Duration.ofSeconds(15));
        JsonNode ds = JSON.readTree(ready.body());
        assertEquals("Prometheus", ds.path("name").asText());
        assertEquals("prometheus", ds.path("type").asText());
        assertEquals("http://127.0.0.1:9090", ds.path("url").asText());
        assertTrue(ds.path("isDefault").asBoolean());
        assertTrue(ds.path("readOnly").asBoolean(), "editable: false makes it read-only");
        assertEquals(200, get("/api/datasources/name/Prometheus", "pw").statusCode());
        assertEquals(404, get("/api/datasources/name/Missing", "pw").statusCode());
        JsonNode list = JSON.readTree(get("/api/datasources", "pw").body());
        assertEquals(1, list.size());
        assertEquals("prometheus", list.get(0).path("uid").asText());
    }

    @Test
    void importResolvesInputsEverywhereAndDropsTemplateKeys() throws Exception {
        start("pw", 0.2);
        HttpResponse<String> imported = post("/api/dashboards/import",
                "{\"dashboard\":" + DASHBOARD + ",\"overwrite\":true,\"inputs\":" + INPUTS + ",\"folderUid\":\"\"}");
        assertEquals(200, imported.statusCode(), imported.body());
        JsonNode result = JSON.readTree(imported.body());
        assertEquals("php-usdt-uprobe", result.path("uid").asText());
        assertTrue(result.path("imported").asBoolean());
        assertEquals("/d/php-usdt-uprobe/php-usdt-uprobe-samples", result.path("importedUrl").asText());

        HttpResponse<String> fetched = get("/api/dashboards/uid/php-usdt-uprobe", "pw");
        assertEquals(200, fetched.statusCode());
        JsonNode dashboard = JSON.readTree(fetched.body()).path("dashboard");
        assertFalse(dashboard.has("__inputs"));
        assertFalse(dashboard.has("__requires"));
        assertFalse(dashboard.has("__elements"));
        assertEquals("php-usdt-uprobe", dashboard.path("uid").asText(), "uid kept");
        assertTrue(dashboard.path("id").isInt(), "a saved dashboard gets an id");
        int bound = 0;
        for (JsonNode panel : dashboard.path("panels")) {
            if (panel.has("datasource")) {
                assertEquals("prometheus", panel.path("datasource").path("uid").asText());
                assertEquals("prometheus", panel.path("targets").get(0).path("datasource").path("uid").asText());
                bound++;
            }
        }
        assertEquals(2, bound);
        assertFalse(fetched.body().contains("${DS_PROMETHEUS}"));
        assertEquals("exceptions ${UNKNOWN}", dashboard.path("panels").get(2).path("title").asText(),
                "an unknown ${...} stays as it is");
        assertEquals("/d/php-usdt-uprobe/php-usdt-uprobe-samples",
                JSON.readTree(fetched.body()).path("meta").path("url").asText());
    }

    @Test
    void wildcardInputAndExpressionInputsResolve() throws Exception {
        start("pw", 0.2);
        String dashboard = "{\"__inputs\":[{\"name\":\"DS_A\",\"type\":\"datasource\",\"pluginId\":\"prometheus\"},"
                + "{\"name\":\"DS_EXPR\",\"type\":\"datasource\",\"pluginId\":\"__expr__\"}],"
                + "\"uid\":\"w\",\"title\":\"W\",\"panels\":[{\"datasource\":\"${DS_A}\",\"expr\":\"${DS_EXPR}\"}]}";
        HttpResponse<String> imported = post("/api/dashboards/import", "{\"dashboard\":" + dashboard
                + ",\"inputs\":[{\"name\":\"*\",\"type\":\"datasource\",\"value\":\"any-uid\"}]}");
        assertEquals(200, imported.statusCode(), imported.body());
        JsonNode panel = JSON.readTree(get("/api/dashboards/uid/w", "pw").body()).path("dashboard").path("panels").get(0);
        assertEquals("any-uid", panel.path("datasource").asText());
        assertEquals("__expr__", panel.path("expr").asText());
    }

    @Test
    void importErrorsAreTheDocumentedOnes() throws Exception {
        start("pw", 0.2);
        HttpResponse<String> missing = post("/api/dashboards/import",
                "{\"dashboard\":" + DASHBOARD + ",\"overwrite\":true,\"inputs\":[]}");
        assertEquals(400, missing.statusCode());
        assertEquals("dashboard import failed: missing dashboard input variable DS_PROMETHEUS",
                JSON.readTree(missing.body()).path("message").asText());

        HttpResponse<String> wrongType = post("/api/dashboards/import", "{\"dashboard\":" + DASHBOARD
                + ",\"inputs\":[{\"name\":\"DS_PROMETHEUS\",\"type\":\"constant\",\"value\":\"prometheus\"}]}");
        assertEquals(400, wrongType.statusCode(), "inputs match on type and name");

        HttpResponse<String> bad = post("/api/dashboards/import", "{\"dashboard\": {");
        assertEquals(400, bad.statusCode());
        assertEquals("bad request data", JSON.readTree(bad.body()).path("message").asText());

        HttpResponse<String> inputsNotAList = post("/api/dashboards/import",
                "{\"dashboard\":" + DASHBOARD + ",\"inputs\":{\"name\":\"DS_PROMETHEUS\"}}");
        assertEquals(400, inputsNotAList.statusCode(), "a body that does not fit the request struct");
        assertEquals("bad request data", JSON.readTree(inputsNotAList.body()).path("message").asText());

        HttpResponse<String> none = post("/api/dashboards/import", "{\"overwrite\":true}");
        assertEquals(422, none.statusCode());
        assertEquals("Dashboard must be set", JSON.readTree(none.body()).path("message").asText());

        assertEquals(404, get("/api/dashboards/uid/php-usdt-uprobe", "pw").statusCode(), "failed imports save nothing");
    }

    @Test
    void overwriteSemantics() throws Exception {
        start("pw", 0.2);
        String body = "{\"dashboard\":" + DASHBOARD + ",\"overwrite\":true,\"inputs\":" + INPUTS + "}";
        assertEquals(200, post("/api/dashboards/import", body).statusCode());
        assertEquals(200, post("/api/dashboards/import", body).statusCode(), "re-import with overwrite");
        JsonNode saved = JSON.readTree(get("/api/dashboards/uid/php-usdt-uprobe", "pw").body());
        assertEquals(2, saved.path("meta").path("version").asInt());
        HttpResponse<String> conflict = post("/api/dashboards/import", body.replace("\"overwrite\":true", "\"overwrite\":false"));
        assertEquals(412, conflict.statusCode(), "version 1 in the file against version 2 saved");
        assertEquals("version-mismatch", JSON.readTree(conflict.body()).path("status").asText());
        assertEquals(1, JSON.readTree(get("/api/search?type=dash-db", "pw").body()).size(), "still one dashboard");
    }

    @Test
    void searchListsImportedDashboards() throws Exception {
        start("pw", 0.2);
        assertEquals("[]", get("/api/search?type=dash-db", "pw").body().replace(" ", ""));
        assertEquals(200, post("/api/dashboards/import",
                "{\"dashboard\":" + DASHBOARD + ",\"overwrite\":true,\"inputs\":" + INPUTS + "}").statusCode());
        JsonNode hits = JSON.readTree(get("/api/search?type=dash-db&query=usdt", "pw").body());
        assertEquals(1, hits.size());
        JsonNode hit = hits.get(0);
        assertEquals("php-usdt-uprobe", hit.path("uid").asText());
        assertEquals("PHP USDT/uprobe SAMPLES", hit.path("title").asText());
        assertEquals("dash-db", hit.path("type").asText());
        assertEquals("/d/php-usdt-uprobe/php-usdt-uprobe-samples", hit.path("url").asText());
        assertEquals(0, JSON.readTree(get("/api/search?query=nothing-like-this", "pw").body()).size());
        assertEquals(0, JSON.readTree(get("/api/search?type=dash-folder", "pw").body()).size());
        assertEquals(404, get("/api/dashboards/uid/nope", "pw").statusCode());
    }

    @Test
    void fileProvisionedDashboardsKeepTheirPlaceholdersAndRefuseApiSaves() throws Exception {
        Path dashboards = Files.createDirectories(dir.resolve("dashboards"));
        Files.writeString(dashboards.resolve("php.json"), DASHBOARD);
        Files.createDirectories(dir.resolve("provisioning/dashboards"));
        Files.writeString(dir.resolve("provisioning/dashboards/workshop.yaml"), "apiVersion: 1\nproviders:\n"
                + "  - name: workshop\n    type: file\n    options:\n      path: " + dashboards + "\n");
        start("pw", 0.2);
        HttpResponse<String> fetched = poll("/api/dashboards/uid/php-usdt-uprobe", "pw", Duration.ofSeconds(15));
        JsonNode saved = JSON.readTree(fetched.body());
        assertTrue(saved.path("meta").path("provisioned").asBoolean());
        assertTrue(fetched.body().contains("${DS_PROMETHEUS}"), "file provisioning does not resolve __inputs");
        HttpResponse<String> imported = post("/api/dashboards/import",
                "{\"dashboard\":" + DASHBOARD + ",\"overwrite\":true,\"inputs\":" + INPUTS + "}");
        assertEquals(400, imported.statusCode());
        assertEquals("Cannot save provisioned dashboard", JSON.readTree(imported.body()).path("message").asText());
    }

    @Test
    void loginFormAndCurrentUser() throws Exception {
        start("pw", 0.2);
        HttpResponse<String> good = http.send(HttpRequest.newBuilder(base.resolve("/login"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"user\":\"admin\",\"password\":\"pw\"}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, good.statusCode());
        assertTrue(good.headers().firstValue("Set-Cookie").orElse("").startsWith("grafana_session="));
        HttpResponse<String> bad = http.send(HttpRequest.newBuilder(base.resolve("/login"))
                .POST(HttpRequest.BodyPublishers.ofString("{\"user\":\"admin\",\"password\":\"nope\"}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(401, bad.statusCode());
        JsonNode user = JSON.readTree(get("/api/user", "pw").body());
        assertEquals("admin", user.path("login").asText());
        assertTrue(user.path("isGrafanaAdmin").asBoolean());
    }

    @Test
    void dsQueryExpandsMacrosSendsEachExprToPrometheusAndAnswersDataFrames() throws Exception {
        try (FakeHttpServer prometheus = fakePrometheus()) {
            startWithPrometheus(prometheus.endpoint());
            HttpResponse<String> r = post("/api/ds/query", """
                    {"from":"1700000000000","to":"1700000900000","queries":[
                      {"refId":"A","datasource":{"uid":"prometheus","type":"prometheus"},"range":true,
                       "expr":"sum(rate(ebpf_exporter_php_request_time_sec_bucket[$__rate_interval])) by (le)",
                       "intervalMs":15000,"maxDataPoints":100},
                      {"refId":"B","datasource":{"uid":"prometheus","type":"prometheus"},"instant":true,
                       "expr":"sum(ebpf_exporter_php_compile_file_total) by (filename)","intervalMs":15000,
                       "maxDataPoints":100},
                      {"refId":"C","datasource":{"uid":"prometheus","type":"prometheus"},"range":true,
                       "expr":"x[$__interval] + y[${__range}] + $__interval_ms","intervalMs":15000,"maxDataPoints":100}]}
                    """);
            assertEquals(200, r.statusCode(), r.body());
            JsonNode results = JSON.readTree(r.body()).path("results");

            JsonNode a = results.path("A").path("frames").get(0);
            assertEquals("A", a.path("schema").path("refId").asText());
            assertEquals("Time", a.path("schema").path("fields").get(0).path("name").asText());
            assertEquals("time", a.path("schema").path("fields").get(0).path("type").asText());
            assertEquals("Value", a.path("schema").path("fields").get(1).path("name").asText());
            assertEquals("number", a.path("schema").path("fields").get(1).path("type").asText());
            assertEquals("0.001", a.path("schema").path("fields").get(1).path("labels").path("le").asText());
            assertEquals("[1700000000000,1700000015000]", a.path("data").path("values").get(0).toString());
            assertEquals("[0.5,null]", a.path("data").path("values").get(1).toString(), "NaN is written as null");
            assertEquals("[null,{\"NaN\":[1]}]", a.path("data").path("entities").toString());
            JsonNode b = results.path("B").path("frames").get(0);
            assertEquals("[3.0]", b.path("data").path("values").get(1).toString());
            assertEquals(0, results.path("C").path("frames").get(0).path("schema").path("fields").size(),
                    "an empty result is one frame without fields");

            // 15 min / 100 points = 9 s is below intervalMs, so the step is 15 s; $__rate_interval is
            // max(15s + 15s, 4 × 15s) = 1m0s; start and end are aligned down to the step.
            assertEquals(List.of(
                    "POST /api/v1/query_range query=sum(rate(ebpf_exporter_php_request_time_sec_bucket[1m0s])) by (le)"
                            + "&start=1699999995&end=1700000895&step=15",
                    "POST /api/v1/query query=sum(ebpf_exporter_php_compile_file_total) by (filename)&time=1700000900",
                    "POST /api/v1/query_range query=x[15s] + y[900s] + 15000&start=1699999995&end=1700000895&step=15"),
                    prometheusCalls);
        }
    }

    @Test
    void aFailedQueryIsItsRefIdsErrorAndMakesTheAnswer400() throws Exception {
        try (FakeHttpServer prometheus = fakePrometheus()) {
            startWithPrometheus(prometheus.endpoint());
            HttpResponse<String> r = post("/api/ds/query", """
                    {"from":"now-15m","to":"now","queries":[
                      {"refId":"A","datasource":{"uid":"prometheus"},"expr":"bad(","intervalMs":15000},
                      {"refId":"B","datasource":{"uid":"prometheus"},"expr":"up","intervalMs":15000}]}
                    """);
            assertEquals(400, r.statusCode(), r.body());
            JsonNode results = JSON.readTree(r.body()).path("results");
            assertEquals("bad_data: 1:5: parse error: unclosed left parenthesis", results.path("A").path("error").asText());
            assertFalse(results.path("B").has("error"));
            assertEquals(1, results.path("B").path("frames").size());

            HttpResponse<String> unknown = post("/api/ds/query",
                    "{\"queries\":[{\"refId\":\"A\",\"datasource\":{\"uid\":\"nope\"},\"expr\":\"up\"}]}");
            assertEquals(404, unknown.statusCode());
            assertEquals("Data source not found", JSON.readTree(unknown.body()).path("message").asText());
            HttpResponse<String> anonymous = http.send(HttpRequest.newBuilder(base.resolve("/api/ds/query"))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"queries\":[]}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(401, anonymous.statusCode());
        }
    }

    @Test
    void theLoginsSessionCookieSignsInAndSurvivesARestart() throws Exception {
        LocalGrafana first = start("pw", 0.2);
        HttpResponse<String> login = http.send(HttpRequest.newBuilder(base.resolve("/login"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"user\":\"admin\",\"password\":\"pw\"}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, login.statusCode());
        String cookie = login.headers().firstValue("Set-Cookie").orElseThrow().split(";", 2)[0];
        assertTrue(cookie.matches("grafana_session=[0-9a-f]{32}"), cookie);
        assertEquals("admin", JSON.readTree(withCookie("/api/user", cookie).body()).path("login").asText());
        assertEquals(401, withCookie("/api/user", "grafana_session=" + "0".repeat(32)).statusCode());
        first.close();
        start("pw", 0.2);
        assertEquals(200, withCookie("/api/user", cookie).statusCode(), "sessions live in the database");
    }

    @Test
    void browserPagesAskForTheLoginThenNameTheDashboard() throws Exception {
        start("pw", 0.2);
        assertEquals(200, post("/api/dashboards/import",
                "{\"dashboard\":" + DASHBOARD + ",\"overwrite\":true,\"inputs\":" + INPUTS + ",\"folderUid\":\"\"}")
                .statusCode());
        HttpResponse<String> form = withCookie("/login", "");
        assertEquals(200, form.statusCode());
        assertTrue(form.body().contains("name=\"user\"") && form.body().contains("name=\"password\"")
                && form.body().contains("type=\"submit\""), form.body());
        HttpResponse<String> anonymous = withCookie("/d/php-usdt-uprobe/php-usdt-uprobe-samples", "");
        assertEquals(302, anonymous.statusCode());
        assertEquals("/login", anonymous.headers().firstValue("Location").orElseThrow());
        assertFalse(anonymous.body().contains("SAMPLES"), "nothing of the dashboard without a session");

        HttpResponse<String> login = http.send(HttpRequest.newBuilder(base.resolve("/login"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"user\":\"admin\",\"password\":\"pw\"}")).build(),
                HttpResponse.BodyHandlers.ofString());
        String cookie = login.headers().firstValue("Set-Cookie").orElseThrow().split(";", 2)[0];
        HttpResponse<String> page = withCookie("/d/php-usdt-uprobe/php-usdt-uprobe-samples", cookie);
        assertEquals(200, page.statusCode());
        assertTrue(page.body().contains("<h1>PHP USDT/uprobe SAMPLES</h1>"), page.body());
        assertEquals(404, withCookie("/d/no-such-uid", cookie).statusCode());
    }

    private HttpResponse<String> withCookie(String path, String cookie) throws Exception {
        return http.send(HttpRequest.newBuilder(base.resolve(path)).header("Cookie", cookie).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private final List<String> prometheusCalls = new java.util.concurrent.CopyOnWriteArrayList<>();

    /**
     * A Prometheus query API on loopback (Prometheus documentation: HTTP API, range and instant queries): records
     * "METHOD path decoded-form"; the request-time histogram has one series with a NaN sample, the compile counter one
     * instant sample, "bad(" is Prometheus' parse error, anything else an empty result.
     */
    private FakeHttpServer fakePrometheus() {
        return FakeHttpServer.start("fake-prometheus", 2, ex -> {
            String form = java.net.URLDecoder.decode(new String(ex.getRequestBody().readAllBytes(),
                    StandardCharsets.UTF_8), StandardCharsets.UTF_8);
            prometheusCalls.add(ex.getRequestMethod() + " " + ex.getRequestURI().getPath() + " " + form);
            String body;
            int status = 200;
            if (form.contains("query=bad(")) {
                status = 400;
                body = "{\"status\":\"error\",\"errorType\":\"bad_data\","
                        + "\"error\":\"1:5: parse error: unclosed left parenthesis\"}";
            } else if (form.contains("php_request_time_sec_bucket")) {
                body = "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[{\"metric\":"
                        + "{\"le\":\"0.001\"},\"values\":[[1700000000,\"0.5\"],[1700000015,\"NaN\"]]}]}}";
            } else if (form.contains("php_compile_file_total")) {
                body = "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":"
                        + "{\"filename\":\"/var/www/html\"},\"value\":[1700000900,\"3\"]}]}}";
            } else {
                body = "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[]}}";
            }
            FakeHttpServer.reply(ex, status, java.util.Map.of("Content-Type", "application/json"),
                    body.getBytes(StandardCharsets.UTF_8));
        });
    }

    /** The stand-in with the workshop's data source (templates/grafana/datasource.yaml.ftl) pointing at {@code url}. */
    private void startWithPrometheus(URI url) throws Exception {
        LocalGrafana grafana = LocalGrafana.start(dir, "pw", DATASOURCE.replace("http://127.0.0.1:9090", url.toString())
                + "    jsonData:\n      httpMethod: POST\n      timeInterval: 15s\n", Duration.ofMillis(200));
        grafanas.add(grafana);
        base = grafana.baseUri();
        poll("/api/datasources/uid/prometheus", "pw", Duration.ofSeconds(15));
    }

    @Test
    void cliResetsTheAdminPassword() throws Exception {
        start("first-pw", 0.2).close();
        Process cli = new ProcessBuilder(script().toString(), "cli", "cfg:default.paths.data=" + dir.resolve("data"),
                "admin", "reset-admin-password", "--password-from-stdin")
                .redirectErrorStream(true).start();
        cli.getOutputStream().write("reset-pw\n".getBytes(StandardCharsets.UTF_8));
        cli.getOutputStream().close();
        String out = new String(cli.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, cli.waitFor(), out);
        assertFalse(out.contains("reset-pw"), "the password is not echoed");
        for (LocalGrafana g : grafanas) {
            assertFalse(g.log().contains("first-pw"), "the server never logs the admin password");
        }
        start("first-pw", 0.2);
        assertEquals(200, get("/api/search", "reset-pw").statusCode());
        assertEquals(401, get("/api/search", "first-pw").statusCode());
    }

    // --- harness -------------------------------------------------------------------------------------------------

    private Path script() {
        return dir.resolve("bin/grafana");
    }

    private LocalGrafana start(String adminPassword, double provisioningDelaySeconds) throws Exception {
        return startIn(dir, adminPassword, provisioningDelaySeconds);
    }

    private LocalGrafana startIn(Path home, String adminPassword, double provisioningDelaySeconds) throws Exception {
        LocalGrafana grafana = LocalGrafana.start(home, adminPassword, DATASOURCE,
                Duration.ofMillis((long) (provisioningDelaySeconds * 1000)));
        grafanas.add(grafana);
        base = grafana.baseUri();
        return grafana;
    }

    private HttpResponse<String> get(String path, String password) throws Exception {
        return http.send(request(path, password).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> post(String path, String body) throws Exception {
        return http.send(request(path, "pw").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpRequest.Builder request(String path, String password) {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(10));
        if (password != null) {
            b.header("Authorization", "Basic " + Base64.getEncoder()
                    .encodeToString(("admin:" + password).getBytes(StandardCharsets.UTF_8)));
        }
        return b;
    }

    private HttpResponse<String> poll(String path, String password, Duration timeout) throws Exception {
        Instant deadline = Instant.now().plus(timeout);
        HttpResponse<String> last;
        do {
            last = get(path, password);
            if (last.statusCode() == 200) {
                return last;
            }
            Thread.sleep(200);
        } while (Instant.now().isBefore(deadline));
        fail(path + " still " + last.statusCode() + " after " + timeout);
        return last;
    }
}
