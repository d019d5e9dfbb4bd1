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
 * {@code __requires}, {@code __elements} removed). Basic auth as admin; a wrong password is 401.
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
            if (!authorised(ex)) {
                reply(ex, 401, "{\"message\":\"Invalid username or password\"}");
                return;
            }
            if (method.equals("GET") && path.startsWith("/api/datasources/uid/")) {
                String uid = path.substring("/api/datasources/uid/".length());
                if (!uid.equals("prometheus") || missingDatasourceAnswers.getAndDecrement() > 0) {
                    reply(ex, 404, "{\"message\":\"Data source not found\"}");
                } else {
                    reply(ex, 200, "{\"id\":1,\"uid\":\"prometheus\",\"name\":\"Prometheus\",\"type\":\"prometheus\","
                            + "\"url\":\"http://127.0.0.1:9090\",\"isDefault\":true,\"readOnly\":true}");
                }
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
