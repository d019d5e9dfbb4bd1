package org.workshopfleet.grafana;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * STAND-IN for Grafana's HTTP API (test scope), faithful to the parts the provisioner uses (Grafana documentation:
 * Other HTTP API for the health check, Data source HTTP API, Dashboard HTTP API): {@code /api/health}
 * without auth (503 while "starting"), {@code /api/datasources/uid/:uid} 404 until "provisioned", and
 * {@code POST /api/dashboards/import} resolving {@code __inputs} the way Grafana's DashTemplateEvaluator does (match on
 * type + name or name "*", unmatched input → 400, every {@code ${NAME}} in every string replaced, {@code __inputs},
 * {@code __requires}, {@code __elements} removed). {@code GET /api/datasources} lists the provisioned Prometheus data
 * source. {@code POST /api/ds/query} (Data source HTTP API, "Query a data source") forwards each query's expr, as
 * received, to the data source's URL ({@code /api/v1/query_range}, or {@code /api/v1/query} for an instant query) and
 * answers Grafana's data frames: per refId {@code frames[]} with {@code schema.fields} Time/Value and
 * {@code data.values} arrays, NaN as null; a Prometheus error becomes the refId's {@code error} and the answer 400.
 * {@code POST /grafana/login} (the login form's JSON call, under Grafana's sub path) sets a {@code grafana_session} cookie. API calls need basic auth as
 * admin or a session cookie; anything else is 401.
 */
public final class FakeGrafana implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern PLACEHOLDER = Pattern.compile("\\$\\{(.+?)\\}");

    private final HttpServer server;
    private final String password;
    private final AtomicInteger unhealthyAnswers;
    private final AtomicInteger missingDatasourceAnswers;
    private final Map<String, JsonNode> dashboards = new ConcurrentHashMap<>();
    /** Every request as "METHOD path", in order. */
    public final List<String> requests = new CopyOnWriteArrayList<>();
    /** Bodies of import requests, as received. */
    public final List<JsonNode> importBodies = new CopyOnWriteArrayList<>();
    /** Bodies of {@code /api/ds/query} requests, as received. */
    public final List<JsonNode> queryBodies = new CopyOnWriteArrayList<>();
    private final java.util.Set<String> sessions = ConcurrentHashMap.newKeySet();
    private volatile String datasourceUrl = "http://127.0.0.1:9090";
    private final HttpClient http = HttpClient.newHttpClient();

    /**
     * @param unhealthy      how many health calls answer 503 before 200
     * @param datasourceLate how many datasource calls answer 404 before 200
     */
    public FakeGrafana(String password, int unhealthy, int datasourceLate) throws IOException {
        this.password = password;
        this.unhealthyAnswers = new AtomicInteger(unhealthy);
        this.missingDatasourceAnswers = new AtomicInteger(datasourceLate);
        this.server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", this::handle);
        server.start();
    }

    public int port() {
        return server.getAddress().getPort();
    }

    /** Points the provisioned data source at this Prometheus (default {@code http://127.0.0.1:9090}). */
    public void datasourceUrl(URI url) {
        this.datasourceUrl = url.toString().replaceAll("/$", "");
    }

    public JsonNode dashboard(String uid) {
        return dashboards.get(uid);
    }

    /** Stores a dashboard as if saved by someone else (e.g. with a panel bound elsewhere). */
    public void putDashboard(String uid, JsonNode dashboard) {
        dashboards.put(uid, dashboard);
    }

    private void handle(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath();
        String method = ex.getRequestMethod();
        requests.add(method + " " + path);
        try {
            if (path.equals("/api/health")) {
                if (unhealthyAnswers.getAndDecrement() > 0) {
                    reply(ex, 503, "{\"database\":\"failing\"}");
                } else {
                    reply(ex, 200, "{\"database\":\"ok\",\"version\":\"12.3.0\",\"commit\":\"fake\"}");
                }
                return;
            }
            if (method.equals("POST") && path.equals("/grafana/login")) {
                login(ex);
                return;
            }
            if (!authorised(ex)) {
                reply(ex, 401, "{\"message\":\"Invalid username or password\"}");
                return;
            }
            if (method.equals("GET") && path.startsWith("/api/datasources/uid/")) {
                String uid = path.substring("/api/datasources/uid/".length());
                if (!uid.equals("prometheus") || missingDatasourceAnswers.getAndDecrement() > 0) {
                    reply(ex, 404, "{\"message\":\"Data source not found\"}");
                } else {
                    reply(ex, 200, datasource().toString());
                }
                return;
            }
            if (method.equals("GET") && path.equals("/api/datasources")) {
                ArrayNode list = JSON.createArrayNode();
                if (missingDatasourceAnswers.get() <= 0) {
                    list.add(datasource());
                }
                reply(ex, 200, list.toString());
                return;
            }
            if (method.equals("POST") && path.equals("/api/ds/query")) {
                query(ex);
                return;
            }
            if (method.equals("GET") && path.equals("/api/user")) {
                reply(ex, 200, "{\"id\":1,\"login\":\"admin\",\"isGrafanaAdmin\":true}");
                return;
            }
            if (method.equals("POST") && path.equals("/api/dashboards/import")) {
                importDashboard(ex);
                return;
            }
            if (method.equals("GET") && path.startsWith("/api/dashboards/uid/")) {
                JsonNode d = dashboards.get(path.substring("/api/dashboards/uid/".length()));
                if (d == null) {
                    reply(ex, 404, "{\"message\":\"Dashboard not found\"}");
                } else {
                    ObjectNode body = JSON.createObjectNode();
                    body.set("dashboard", d);
                    body.putObject("meta").put("slug", d.path("title").asText().toLowerCase());
                    reply(ex, 200, body.toString());
                }
                return;
            }
            reply(ex, 404, "{\"message\":\"Not found\"}");
        } finally {
            ex.close();
        }
    }

    private void importDashboard(HttpExchange ex) throws IOException {
        JsonNode body;
        try {
            body = JSON.readTree(ex.getRequestBody().readAllBytes());
        } catch (IOException e) {
            reply(ex, 400, "{\"message\":\"bad request data\"}");
            return;
        }
        importBodies.add(body);
        if (!body.path("dashboard").isObject()) {
            reply(ex, 422, "{\"message\":\"Dashboard must be set\"}");
            return;
        }
        ObjectNode dashboard = (ObjectNode) body.path("dashboard").deepCopy();
        Map<String, String> values = new java.util.HashMap<>();
        for (JsonNode declared : dashboard.path("__inputs")) {
            String name = declared.path("name").asText();
            String type = declared.path("type").asText();
            String value = null;
            if ("__expr__".equals(declared.path("pluginId").asText())) {
                value = "__expr__";
            }
            for (JsonNode given : body.path("inputs")) {
                if (type.equals(given.path("type").asText())
                        && (name.equals(given.path("name").asText()) || "*".equals(given.path("name").asText()))) {
                    value = given.path("value").asText();
                }
            }
            if (value == null) {
                reply(ex, 400, "{\"message\":\"dashboard import failed: missing dashboard input variable " + name + "\"}");
                return;
            }
            values.put(name, value);
        }
        JsonNode evaluated = substitute(dashboard, values);
        ObjectNode saved = (ObjectNode) evaluated;
        saved.remove(List.of("__inputs", "__requires", "__elements"));
        String uid = saved.path("uid").asText();
        JsonNode existing = dashboards.get(uid);
        if (existing != null && !body.path("overwrite").asBoolean(false)) {
            reply(ex, 412, "{\"status\":\"name-exists\",\"message\":\"A dashboard with the same name in the folder already exists\"}");
            return;
        }
        saved.put("id", dashboards.size() + 1);
        dashboards.put(uid, saved);
        reply(ex, 200, "{\"uid\":\"" + uid + "\",\"imported\":true,\"importedUrl\":\"/d/" + uid + "\"}");
    }

    private ObjectNode datasource() {
        ObjectNode ds = JSON.createObjectNode();
        ds.put("id", 1).put("uid", "prometheus").put("name", "Prometheus").put("type", "prometheus")
                .put("url", datasourceUrl).put("access", "proxy").put("isDefault", true).put("readOnly", true);
        ds.putObject("jsonData").put("httpMethod", "POST").put("timeInterval", "15s");
        return ds;
    }

    private void login(HttpExchange ex) throws IOException {
        JsonNode body;
        try {
            body = JSON.readTree(ex.getRequestBody().readAllBytes());
        } catch (IOException e) {
            reply(ex, 400, "{\"message\":\"bad login data\"}");
            return;
        }
        if (!"admin".equals(body.path("user").asText()) || !password.equals(body.path("password").asText())) {
            reply(ex, 401, "{\"message\":\"Invalid username or password\"}");
            return;
        }
        String token = java.util.UUID.randomUUID().toString().replace("-", "");
        sessions.add(token);
        ex.getResponseHeaders().add("Set-Cookie", "grafana_session=" + token + "; Path=/; HttpOnly; SameSite=Lax");
        reply(ex, 200, "{\"message\":\"Logged in\",\"redirectUrl\":\"/\"}");
    }

    /** Each query forwarded to Prometheus as received; its answer turned into data frames. */
    private void query(HttpExchange ex) throws IOException {
        JsonNode body = JSON.readTree(ex.getRequestBody().readAllBytes());
        queryBodies.add(body);
        long from = Long.parseLong(body.path("from").asText());
        long to = Long.parseLong(body.path("to").asText());
        ObjectNode answerBody = JSON.createObjectNode();
        ObjectNode results = answerBody.putObject("results");
        boolean failed = false;
        for (JsonNode q : body.path("queries")) {
            String refId = q.path("refId").asText("A");
            ObjectNode result = results.putObject(refId);
            if (!"prometheus".equals(q.path("datasource").path("uid").asText())) {
                result.put("error", "data source not found").put("status", 404);
                failed = true;
                continue;
            }
            // The step: the interval the dashboard sent, or range / max data points if that is coarser.
            long step = Math.max(q.path("intervalMs").asLong(15_000),
                    (to - from) / Math.max(1, q.path("maxDataPoints").asLong(100)));
            long stepS = Math.max(1, step / 1000);
            boolean instant = q.path("instant").asBoolean(false);
            String form = "query=" + java.net.URLEncoder.encode(q.path("expr").asText(), StandardCharsets.UTF_8)
                    + (instant ? "&time=" + to / 1000
                    : "&start=" + from / 1000 / stepS * stepS + "&end=" + to / 1000 / stepS * stepS + "&step=" + stepS);
            HttpResponse<String> prom;
            try {
                prom = http.send(HttpRequest.newBuilder(URI.create(datasourceUrl + (instant ? "/api/v1/query"
                                : "/api/v1/query_range"))).header("Content-Type", "application/x-www-form-urlencoded")
                        .POST(HttpRequest.BodyPublishers.ofString(form)).build(), HttpResponse.BodyHandlers.ofString());
            } catch (IOException | InterruptedException e) {
                result.put("error", "Post \"" + datasourceUrl + "\": connection refused").put("status", 500);
                failed = true;
                continue;
            }
            JsonNode answer = JSON.readTree(prom.body());
            if (!"success".equals(answer.path("status").asText())) {
                result.put("error", answer.path("errorType").asText() + ": " + answer.path("error").asText())
                        .put("status", 400);
                failed = true;
                continue;
            }
            ArrayNode frames = result.putArray("frames");
            for (JsonNode series : answer.path("data").path("result")) {
                ObjectNode frame = frames.addObject();
                ArrayNode fields = frame.putObject("schema").put("refId", refId).putArray("fields");
                fields.addObject().put("name", "Time").put("type", "time");
                ObjectNode value = fields.addObject().put("name", "Value").put("type", "number");
                value.set("labels", series.path("metric"));
                ArrayNode values = frame.putObject("data").putArray("values");
                ArrayNode times = values.addArray();
                ArrayNode numbers = values.addArray();
                List<JsonNode> samples = new ArrayList<>();
                if (series.has("values")) {
                    series.path("values").forEach(samples::add);
                } else {
                    samples.add(series.path("value"));
                }
                for (JsonNode sample : samples) {
                    times.add((long) (sample.get(0).asDouble() * 1000));
                    double v = Double.parseDouble(sample.get(1).asText());
                    if (Double.isFinite(v)) {
                        numbers.add(v);
                    } else {
                        numbers.addNull();
                    }
                }
            }
        }
        reply(ex, failed ? 400 : 200, answerBody.toString());
    }

    private static JsonNode substitute(JsonNode node, Map<String, String> values) {
        if (node.isTextual()) {
            Matcher m = PLACEHOLDER.matcher(node.asText());
            StringBuilder sb = new StringBuilder();
            while (m.find()) {
                String v = values.get(m.group(1));
                m.appendReplacement(sb, Matcher.quoteReplacement(v == null ? m.group() : v));
            }
            m.appendTail(sb);
            return new TextNode(sb.toString());
        }
        if (node.isObject()) {
            ObjectNode o = (ObjectNode) node;
            List<String> names = new ArrayList<>();
            for (Iterator<String> it = o.fieldNames(); it.hasNext(); ) {
                names.add(it.next());
            }
            for (String n : names) {
                o.set(n, substitute(o.get(n), values));
            }
            return o;
        }
        if (node.isArray()) {
            ArrayNode a = (ArrayNode) node;
            for (int i = 0; i < a.size(); i++) {
                a.set(i, substitute(a.get(i), values));
            }
        }
        return node;
    }

    private boolean authorised(HttpExchange ex) {
        String cookies = ex.getRequestHeaders().getFirst("Cookie");
        if (cookies != null) {
            for (String c : cookies.split(";")) {
                String[] kv = c.trim().split("=", 2);
                if (kv.length == 2 && kv[0].equals("grafana_session") && sessions.contains(kv[1])) {
                    return true;
                }
            }
        }
        String h = ex.getRequestHeaders().getFirst("Authorization");
        String expected = "Basic " + Base64.getEncoder().encodeToString(("admin:" + password).getBytes(StandardCharsets.UTF_8));
        return expected.equals(h);
    }

    private static void reply(HttpExchange ex, int code, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(code, b.length);
        ex.getResponseBody().write(b);
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
