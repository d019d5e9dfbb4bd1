package org.workshopfleet.grafana;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The queries a stored dashboard's panels send, worked out as Grafana's dashboard does it: every panel (rows' nested
 * panels included) with targets, hidden targets left out, each target's data source resolved — its own, else the
 * panel's, else the default data source; {@code $var}, {@code ${var}} and {@code [[var]]} naming a dashboard variable
 * of type {@code datasource} become that variable's current value, or the default data source of its plugin type when
 * the value is empty or {@code default} — and each expression's Grafana macros expanded for the time range
 * ({@link QueryInterval}).
 */
public final class DashboardPanels {

    /** One data source of the Grafana instance, as {@code GET /api/datasources} lists it. */
    public record Datasource(String uid, String name, String type, boolean isDefault, long scrapeMs) {
    }

    /** One query, ready for {@code /api/ds/query}; {@code expr} is expanded. */
    public record Query(String refId, Datasource datasource, String expr, boolean instant, String format,
                        QueryInterval interval, long maxDataPoints, String minStep) {
    }

    /**
     * One panel: its title and queries, or (in {@code problem}, else null) why its queries cannot be sent: a data
     * source that does not resolve.
     */
    public record Panel(String title, List<Query> queries, String problem) {
    }

    /** Max data points when the panel sets none: the query API's documented default. */
    static final long DEFAULT_MAX_DATA_POINTS = 100;

    private final List<Datasource> datasources;
    private final Map<String, JsonNode> datasourceVariables = new LinkedHashMap<>();

    /**
     * @param dashboard   the dashboard as Grafana stores it ({@code dashboard} of {@code GET /api/dashboards/uid/:uid})
     * @param datasources the instance's data sources
     */
    private DashboardPanels(JsonNode dashboard, List<Datasource> datasources) {
        this.datasources = List.copyOf(datasources);
        for (JsonNode v : dashboard.path("templating").path("list")) {
            if ("datasource".equals(v.path("type").asText()) && !v.path("name").asText().isEmpty()) {
                datasourceVariables.put(v.path("name").asText(), v);
            }
        }
    }

    /** The panels of {@code dashboard} that query data, in dashboard order, for a range of {@code rangeMs}. */
    public static List<Panel> of(JsonNode dashboard, List<Datasource> datasources, long rangeMs) {
        DashboardPanels d = new DashboardPanels(dashboard, datasources);
        List<Panel> panels = new ArrayList<>();
        d.collect(dashboard.path("panels"), rangeMs, panels);
        return panels;
    }

    private void collect(JsonNode panels, long rangeMs, List<Panel> out) {
        for (JsonNode panel : panels) {
            collect(panel.path("panels"), rangeMs, out);
            List<JsonNode> targets = new ArrayList<>();
            for (JsonNode t : panel.path("targets")) {
                if (!t.path("hide").asBoolean(false)) {
                    targets.add(t);
                }
            }
            if (targets.isEmpty()) {
                continue;
            }
            String title = panel.path("title").asText("").isEmpty()
                    ? "#" + panel.path("id").asText("?") : panel.path("title").asText();
            out.add(panel(title, panel, targets, rangeMs));
        }
    }

    private Panel panel(String title, JsonNode panel, List<JsonNode> targets, long rangeMs) {
        List<Query> queries = new ArrayList<>();
        long maxDataPoints = panel.path("maxDataPoints").asLong(0) > 0
                ? panel.path("maxDataPoints").asLong() : DEFAULT_MAX_DATA_POINTS;
        for (JsonNode t : targets) {
            JsonNode ref = t.hasNonNull("datasource") && !mixed(t.path("datasource")) ? t.path("datasource")
                    : panel.path("datasource");
            Optional<Datasource> ds = resolve(ref);
            if (ds.isEmpty()) {
                return new Panel(title, List.of(), "data source " + describe(ref) + " not found");
            }
            long scrape = ds.get().scrapeMs() > 0 ? ds.get().scrapeMs() : QueryInterval.DEFAULT_SCRAPE_MS;
            long panelMin = QueryInterval.parse(panel.path("interval").asText(""));
            long minStep = QueryInterval.parse(t.path("interval").asText(""));
            QueryInterval interval = QueryInterval.of(rangeMs, maxDataPoints, panelMin > 0 ? panelMin : scrape, scrape,
                    Math.max(minStep, 0));
            boolean instant = t.path("instant").asBoolean(false) && !t.path("range").asBoolean(false);
            queries.add(new Query(t.path("refId").asText("A"), ds.get(), interval.expand(t.path("expr").asText("")),
                    instant, t.path("format").asText("time_series"), interval, maxDataPoints,
                    minStep > 0 ? t.path("interval").asText() : ""));
        }
        return new Panel(title, queries, null);
    }

    private static boolean mixed(JsonNode ref) {
        return "-- Mixed --".equals(ref.isObject() ? ref.path("uid").asText() : ref.asText());
    }

    /** A data source reference (absent, a name, or {@code {type, uid}}) resolved against variables and the list. */
    Optional<Datasource> resolve(JsonNode ref) {
        if (ref == null || ref.isMissingNode() || ref.isNull()) {
            return defaultOf(null);
        }
        String type = ref.isObject() ? ref.path("type").asText("") : "";
        String key = ref.isObject() ? ref.path("uid").asText("") : ref.asText("");
        if (key.isEmpty()) {
            return defaultOf(type.isEmpty() ? null : type);
        }
        String variable = variableName(key);
        if (variable != null) {
            JsonNode v = datasourceVariables.get(variable);
            if (v == null) {
                return Optional.empty();
            }
            String current = v.path("current").path("value").asText("");
            String pluginType = v.path("query").asText("");
            if (current.isEmpty() || current.equals("default") || variableName(current) != null) {
                return defaultOf(pluginType.isEmpty() ? null : pluginType);
            }
            key = current;
        }
        String k = key;
        return datasources.stream().filter(d -> d.uid().equals(k)).findFirst()
                .or(() -> datasources.stream().filter(d -> d.name().equals(k)).findFirst());
    }

    private Optional<Datasource> defaultOf(String type) {
        return datasources.stream().filter(d -> type == null || d.type().equals(type)).filter(Datasource::isDefault)
                .findFirst().or(() -> type == null ? Optional.empty()
                        : datasources.stream().filter(d -> d.type().equals(type)).findFirst());
    }

    /** The variable named by {@code $x}, {@code ${x}} or {@code [[x]]}, or null for a plain value. */
    private static String variableName(String s) {
        if (s.startsWith("${") && s.endsWith("}")) {
            return s.substring(2, s.length() - 1).split(":", 2)[0];
        }
        if (s.startsWith("[[") && s.endsWith("]]")) {
            return s.substring(2, s.length() - 2).split(":", 2)[0];
        }
        if (s.startsWith("$") && s.length() > 1) {
            return s.substring(1);
        }
        return null;
    }

    private static String describe(JsonNode ref) {
        if (ref == null || ref.isMissingNode() || ref.isNull()) {
            return "(default)";
        }
        return "'" + (ref.isObject() ? ref.path("uid").asText("") : ref.asText()) + "'";
    }
}
