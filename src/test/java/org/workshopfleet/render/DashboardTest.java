package org.workshopfleet.render;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Checks every dashboard in dashboards/ against the metrics the ebpf_exporter PHP example exports and Grafana's
 * dashboard import rules (Grafana documentation: Dashboard HTTP API, "Import dashboard").
 */
class DashboardTest {

    /** The ebpf_exporter PHP example's metrics: name (with the exporter's prefix) -> kind. */
    static final Map<String, String> METRICS = Map.of(
            "ebpf_exporter_php_compile_file_total", "counter",
            "ebpf_exporter_php_exception_thrown_total", "counter",
            "ebpf_exporter_php_exception_caught_total", "counter",
            "ebpf_exporter_php_request_time_sec", "histogram",
            "ebpf_exporter_memcached_set_val_length", "histogram");

    private static final Pattern PLACEHOLDER = Pattern.compile("\\$\\{(.+?)\\}"); // Grafana's DashTemplateEvaluator regex
    private static final Pattern LE_MATCHER = Pattern.compile("\\ble\\s*(=~|!~|=|!=)\\s*\"([^\"]*)\"");
    private static final Pattern IDENT = Pattern.compile("[A-Za-z_:][A-Za-z0-9_:]*");
    private static final Set<String> PROMQL_WORDS = Set.of("by", "without", "on", "ignoring", "group_left",
            "group_right", "bool", "and", "or", "unless", "offset", "inf", "nan");
    /** What the orchestrator sends to /api/dashboards/import (BRIEF contract). */
    private static final List<Map<String, String>> IMPORT_INPUTS =
            List.of(Map.of("name", "DS_PROMETHEUS", "type", "datasource", "pluginId", "prometheus", "value", "prometheus"));

    private final ObjectMapper json = new ObjectMapper();

    static List<Path> dashboards() throws IOException {
        try (Stream<Path> s = Files.list(Path.of("dashboards"))) {
            return s.filter(p -> p.toString().endsWith(".json")).sorted().toList();
        }
    }

    private JsonNode load(Path p) throws IOException {
        return json.readTree(p.toFile());
    }

    @Test
    void theWorkshopDashboardHasTheContractedShape() throws IOException {
        JsonNode d = load(Path.of("dashboards/php-usdt-uprobe.json"));
        assertEquals("php-usdt-uprobe", d.path("uid").asText());
        assertEquals("PHP USDT/uprobe SAMPLES", d.path("title").asText());
        assertTrue(d.path("id").isNull(), "export form: id null so that import creates the dashboard");
        JsonNode inputs = d.path("__inputs");
        assertEquals(1, inputs.size());
        assertEquals("DS_PROMETHEUS", inputs.get(0).path("name").asText());
        assertEquals("datasource", inputs.get(0).path("type").asText());
        assertEquals("prometheus", inputs.get(0).path("pluginId").asText());

        List<String> rows = new ArrayList<>();
        Map<String, List<String>> typesByRow = new java.util.LinkedHashMap<>();
        for (JsonNode p : d.path("panels")) {
            if (p.path("type").asText().equals("row")) {
                rows.add(p.path("title").asText());
                typesByRow.put(p.path("title").asText(), new ArrayList<>());
            } else {
                assertFalse(rows.isEmpty(), "panel before the first row: " + p.path("title"));
                typesByRow.get(rows.get(rows.size() - 1)).add(p.path("type").asText());
            }
        }
        assertEquals(List.of("Description", "Uprobe", "USDT"), rows);
        assertEquals(List.of("text"), typesByRow.get("Description"));
        assertEquals(List.of("heatmap", "timeseries"), typesByRow.get("Uprobe"));
        assertEquals(List.of("timeseries", "piechart", "stat"), typesByRow.get("USDT"));

        Set<String> exprs = new LinkedHashSet<>();
        for (JsonNode p : d.path("panels")) {
            p.path("targets").forEach(t -> exprs.add(t.path("expr").asText()));
        }
        for (String q : List.of("0.99", "0.95", "0.5")) {
            assertTrue(exprs.contains("histogram_quantile(" + q
                    + ", sum(rate(ebpf_exporter_memcached_set_val_length_bucket[5m])) by (le))"), q);
        }
        for (String q : List.of("0.99", "0.95", "0.9", "0.5")) {
            assertTrue(exprs.contains("histogram_quantile(" + q
                    + ", sum(rate(ebpf_exporter_php_request_time_sec_bucket[5m])) by (le))"), q);
        }
        assertTrue(exprs.contains("rate(ebpf_exporter_php_exception_thrown_total[10m])"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"dashboards/php-usdt-uprobe.json"})
    void everyQueriedMetricIsInTheWorkshopTable(String file) throws IOException {
        for (JsonNode panel : dataPanels(load(Path.of(file)))) {
            assertTrue(panel.path("targets").size() > 0, "panel without queries: " + panel.path("title"));
            for (JsonNode t : panel.path("targets")) {
                Set<String> metrics = metricNames(t.path("expr").asText());
                assertFalse(metrics.isEmpty(), "query names no metric: " + t.path("expr"));
                for (String m : metrics) {
                    assertTrue(inWorkshopTable(m), panel.path("title").asText() + " queries " + m
                            + ", which the ebpf_exporter PHP example does not export");
                }
            }
        }
    }

    @Test
    void noDashboardMatchesAnIntegerLe() throws IOException {
        for (Path p : dashboards()) {
            for (JsonNode panel : dataPanels(load(p))) {
                for (JsonNode t : panel.path("targets")) {
                    String expr = t.path("expr").asText();
                    assertFalse(matchesIntegerLe(expr), p + ": " + expr
                            + " matches an integer le; Prometheus 3 stores le=\"1.0\"");
                }
            }
        }
    }

    @Test
    void everyPlaceholderHasAnInputAndResolvesOnImport() throws IOException {
        for (Path p : dashboards()) {
            JsonNode d = load(p);
            Set<String> declared = new LinkedHashSet<>();
            d.path("__inputs").forEach(i -> declared.add(i.path("name").asText()));
            Set<String> used = new LinkedHashSet<>();
            strings(d, s -> {
                Matcher m = PLACEHOLDER.matcher(s);
                while (m.find()) {
                    used.add(m.group(1));
                }
            });
            assertFalse(used.isEmpty(), p + " uses no ${...} input: export form expected");
            for (String u : used) {
                assertTrue(declared.contains(u), p + " uses ${" + u + "} without an __inputs entry");
            }

            JsonNode imported = importLikeGrafana(d, IMPORT_INPUTS);
            strings(imported, s -> assertFalse(PLACEHOLDER.matcher(s).find(), p + ": unresolved after import: " + s));
            for (JsonNode panel : dataPanels(imported)) {
                assertEquals("prometheus", panel.path("datasource").path("uid").asText(), panel.path("title").asText());
                assertEquals("prometheus", panel.path("datasource").path("type").asText());
                for (JsonNode t : panel.path("targets")) {
                    assertEquals("prometheus", t.path("datasource").path("uid").asText(), panel.path("title").asText());
                }
            }
        }
    }

    // --- the checks themselves must catch mistakes -------------------------------------------------------------

    @Test
    void checksRejectBrokenQueries() throws IOException {
        assertTrue(matchesIntegerLe("sum(x_bucket{le=\"1024\"})"));
        assertTrue(matchesIntegerLe("sum(x_bucket{le=~\"512|1024.0\"})"));
        assertFalse(matchesIntegerLe("sum(x_bucket{le=\"1024.0\"})"));
        assertFalse(matchesIntegerLe("sum(x_bucket{le=\"+Inf\"})"));
        assertFalse(matchesIntegerLe("histogram_quantile(0.9, sum(rate(x_bucket[5m])) by (le))"));

        assertEquals(Set.of("ebpf_exporter_php_request_time_sec_bucket"),
                metricNames("histogram_quantile(0.99, sum(rate(ebpf_exporter_php_request_time_sec_bucket[5m])) by (le))"));
        assertEquals(Set.of("ebpf_exporter_php_compile_file_total"),
                metricNames("sum by (filename) (ebpf_exporter_php_compile_file_total{filename=~\"/var.*\"})"));
        assertFalse(inWorkshopTable("ebpf_exporter_php_function_calls_total"));
        assertFalse(inWorkshopTable("ebpf_exporter_php_compile_file_total_bucket"));
        assertTrue(inWorkshopTable("ebpf_exporter_memcached_set_val_length_count"));

        ObjectNode d = (ObjectNode) load(Path.of("dashboards/php-usdt-uprobe.json"));
        ((ObjectNode) d.path("panels").get(3).path("datasource")).put("uid", "${DS_PROM}");
        JsonNode imported = importLikeGrafana(d, IMPORT_INPUTS);
        List<String> left = new ArrayList<>();
        strings(imported, s -> {
            if (PLACEHOLDER.matcher(s).find()) {
                left.add(s);
            }
        });
        assertEquals(List.of("${DS_PROM}"), left, "an undeclared placeholder stays unresolved, as in Grafana");
        try {
            importLikeGrafana(d, List.of(Map.of("name", "DS_OTHER", "type", "datasource", "value", "x")));
            fail("an unmatched __inputs entry must fail the import");
        } catch (IllegalStateException expected) {
            // as Grafana: "missing dashboard input variable"
        }
    }

    // --- helpers -------------------------------------------------------------------------------------------------

    static boolean inWorkshopTable(String metric) {
        if ("counter".equals(METRICS.get(metric))) {
            return true;
        }
        for (String suffix : List.of("_bucket", "_sum", "_count")) {
            if (metric.endsWith(suffix)
                    && "histogram".equals(METRICS.get(metric.substring(0, metric.length() - suffix.length())))) {
                return true;
            }
        }
        return false;
    }

    static boolean matchesIntegerLe(String expr) {
        Matcher m = LE_MATCHER.matcher(expr);
        while (m.find()) {
            for (String alternative : m.group(2).split("\\|")) {
                if (alternative.trim().matches("[+-]?\\d+")) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Metric names in a PromQL expression: identifiers outside strings, label sets, ranges and grouping clauses that are not function calls. */
    static Set<String> metricNames(String expr) {
        String s = expr.replaceAll("\"(?:[^\"\\\\]|\\\\.)*\"", "\"\"")
                .replaceAll("\\{[^}]*\\}", " ")
                .replaceAll("\\[[^\\]]*\\]", " ")
                .replaceAll("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)", " ");
        Set<String> names = new LinkedHashSet<>();
        Matcher m = IDENT.matcher(s);
        while (m.find()) {
            String id = m.group();
            int after = m.end();
            while (after < s.length() && Character.isWhitespace(s.charAt(after))) {
                after++;
            }
            boolean call = after < s.length() && s.charAt(after) == '(';
            boolean partOfNumber = m.start() > 0 && (Character.isDigit(s.charAt(m.start() - 1)) || s.charAt(m.start() - 1) == '.');
            if (!call && !partOfNumber && !PROMQL_WORDS.contains(id.toLowerCase()) && !id.startsWith("$")) {
                names.add(id);
            }
        }
        return names;
    }

    private static List<JsonNode> dataPanels(JsonNode d) {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode p : d.path("panels")) {
            String type = p.path("type").asText();
            if (type.equals("row")) {
                p.path("panels").forEach(out::add); // collapsed rows keep their panels inside
            } else if (!type.equals("text")) {
                out.add(p);
            }
        }
        return out;
    }

    /**
     * A stand-in for Grafana's DashTemplateEvaluator (grafana/grafana's dashboard import service): every
     * {@code __inputs} entry must be matched by a request input of the same type and name; each {@code ${NAME}} in
     * every string is replaced by its value; unknown placeholders stay; {@code __inputs}/{@code __requires} are dropped.
     */
    static JsonNode importLikeGrafana(JsonNode dashboard, List<Map<String, String>> inputs) {
        Map<String, String> values = new java.util.HashMap<>();
        for (JsonNode in : dashboard.path("__inputs")) {
            String name = in.path("name").asText();
            String value = null;
            if ("__expr__".equals(in.path("pluginId").asText())) {
                value = "__expr__";
            }
            for (Map<String, String> given : inputs) {
                if (given.get("type").equals(in.path("type").asText())
                        && (given.get("name").equals(name) || given.get("name").equals("*"))) {
                    value = given.get("value");
                }
            }
            if (value == null) {
                throw new IllegalStateException("missing dashboard input variable " + name);
            }
            values.put(name, value);
        }
        JsonNode copy = dashboard.deepCopy();
        replaceStrings(copy, s -> {
            Matcher m = PLACEHOLDER.matcher(s);
            StringBuilder sb = new StringBuilder();
            while (m.find()) {
                String v = values.get(m.group(1));
                m.appendReplacement(sb, Matcher.quoteReplacement(v == null ? m.group() : v));
            }
            m.appendTail(sb);
            return sb.toString();
        });
        ((ObjectNode) copy).remove(List.of("__inputs", "__requires", "__elements"));
        return copy;
    }

    private static void strings(JsonNode n, java.util.function.Consumer<String> each) {
        if (n.isTextual()) {
            each.accept(n.asText());
        }
        n.forEach(c -> strings(c, each));
        if (n.isObject()) {
            n.fieldNames().forEachRemaining(each);
        }
    }

    private static void replaceStrings(JsonNode n, java.util.function.UnaryOperator<String> f) {
        if (n.isObject()) {
            ObjectNode o = (ObjectNode) n;
            for (Iterator<String> it = o.fieldNames(); it.hasNext();) {
                String k = it.next();
                JsonNode v = o.get(k);
                if (v.isTextual()) {
                    o.set(k, TextNode.valueOf(f.apply(v.asText())));
                } else {
                    replaceStrings(v, f);
                }
            }
        } else if (n.isArray()) {
            ArrayNode a = (ArrayNode) n;
            for (int i = 0; i < a.size(); i++) {
                if (a.get(i).isTextual()) {
                    a.set(i, TextNode.valueOf(f.apply(a.get(i).asText())));
                } else {
                    replaceStrings(a.get(i), f);
                }
            }
        }
    }
}
