package org.workshopfleet.grafana;

import org.workshopfleet.error.BadInput;
import org.workshopfleet.error.FleetException;
import org.workshopfleet.error.Interrupted;
import org.workshopfleet.error.MachineFailure;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
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
import java.util.Objects;
import org.workshopfleet.concurrent.Waiter;

/**
 * Grafana's HTTP API on one machine (reached through an SSH port forward): waits until Grafana is healthy and its
 * provisioned Prometheus datasource exists, imports dashboards in export form (with {@code __inputs}) through
 * {@code POST /api/dashboards/import}, and checks that every panel ended up bound to the datasource.
 *
 * <p>Health is not datasource readiness: provisioning runs after the HTTP server is up (docs/machine.md), so
 * both are awaited. Authenticated calls use basic auth as {@code admin}; a 401 is final (no retry loop against
 * Grafana's brute-force protection). The password never appears in an exception message.
 *
 * <p>For verify it also logs in as a person does ({@link #login}) and sends every panel's queries through Grafana's
 * data source query API ({@link #queryPanels}), expanded as the dashboard would send them (docs/machine.md, "Panel
 * data").
 */
public final class GrafanaClient {

    /**
     * Where Grafana serves its pages on every machine ({@code serve_from_sub_path}, so Apache's
     * {@code https://<machine>/grafana/} passes paths through): the login form is under it, while the HTTP API also
     * answers without it ({@code /api/…}, which Grafana never redirects), which is how this client calls it.
     */
    public static final String SUB_PATH = "/grafana";

    /** The Grafana login on every machine; the handout prints it on each card. */
    public static final String ADMIN_USER = "admin";
    /** The uid of the provisioned Prometheus datasource; templates/grafana/datasource.yaml.ftl must give the same. */
    public static final String DATASOURCE_UID = "prometheus";
    /** How long Grafana may take to answer health and have its datasource. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(180);

    private static final ObjectMapper JSON = new ObjectMapper();

    private final URI base;
    private final String authorization;
    private final HttpClient http;
    private static final Duration MAX_POLL_DELAY = Duration.ofSeconds(5);
    private static final String WAITING_FOR = "waiting for Grafana";
    /** The cookie Grafana's login sets (Grafana's default {@code [auth] login_cookie_name}). */
    private static final String SESSION_COOKIE = "grafana_session";
    private final Duration firstDelay;

    /** A client for Grafana at {@code base} (e.g. {@code http://127.0.0.1:41234}) as admin with this password. */
    public GrafanaClient(URI base, String adminPassword) {
        this(base, adminPassword, Duration.ofMillis(500));
    }

    /** As above, with the first retry delay (doubling, at most 5 s); tests shorten it. */
    public GrafanaClient(URI base, String adminPassword, Duration firstDelay) {
        this.base = Objects.requireNonNull(base);
        this.authorization = "Basic " + Base64.getEncoder()
                .encodeToString((ADMIN_USER + ":" + adminPassword).getBytes(StandardCharsets.UTF_8));
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        this.firstDelay = firstDelay;
    }

    /**
     * Everything the pipeline needs: health, datasource, then each dashboard imported and verified.
     *
     * @return the uids of the imported dashboards, in file order
     */
    public List<String> installDashboards(List<Path> dashboardFiles, Duration timeout) {
        awaitHealthy(timeout);
        awaitDatasource(DATASOURCE_UID, timeout);
        List<String> uids = new ArrayList<>();
        for (Path file : dashboardFiles) {
            String uid = importDashboard(file);
            verifyDashboard(uid);
            uids.add(uid);
        }
        return uids;
    }

    /** Polls {@code GET /api/health} (no auth) until it answers 200. */
    public void awaitHealthy(Duration timeout) {
        poll("/api/health", false, timeout, "Grafana /api/health did not answer 200");
    }

    /** Polls {@code GET /api/datasources/uid/<uid>} until it answers 200 (provisioning has run). */
    public void awaitDatasource(String uid, Duration timeout) {
        poll("/api/datasources/uid/" + encode(uid), true, timeout,
                "Grafana datasource '" + uid + "' was not provisioned");
    }

    /**
     * Imports one exported dashboard: {@code id} set to null, {@code overwrite:true}, and every {@code __inputs}
     * entry of type {@code datasource} with pluginId {@code prometheus} mapped to the provisioned datasource.
     *
     * @return the dashboard's uid
     * @throws FleetException for an input that cannot be mapped (named), a dashboard without uid, or a refusal
     */
    public String importDashboard(Path file) {
        ObjectNode dashboard;
        try {
            JsonNode parsed = JSON.readTree(Files.readString(file, StandardCharsets.UTF_8));
            if (!(parsed instanceof ObjectNode)) {
                throw new BadInput("dashboard " + file + " is not a JSON object: export it again from Grafana");
            }
            dashboard = (ObjectNode) parsed;
        } catch (IOException e) {
            throw new BadInput("dashboard " + file + " is not readable JSON: " + e.getClass().getSimpleName());
        }
        String uid = dashboard.path("uid").asText("");
        if (uid.isEmpty()) {
            throw new BadInput("dashboard " + file + " has no uid: give it a stable \"uid\" so its URL stays the same");
        }
        ObjectNode body = JSON.createObjectNode();
        ObjectNode copy = dashboard.deepCopy();
        copy.putNull("id");
        body.set("dashboard", copy);
        body.put("overwrite", true);
        body.set("inputs", inputsFor(file, dashboard));
        body.put("folderUid", "");
        HttpResponse<String> resp = send(HttpRequest.newBuilder(base.resolve("/api/dashboards/import"))
                .header("Authorization", authorization)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString())), "import " + file.getFileName());
        if (resp.statusCode() == 401) {
            throw unauthorized();
        }
        if (resp.statusCode() != 200) {
            throw new MachineFailure("Grafana refused dashboard " + file.getFileName() + ": HTTP " + resp.statusCode()
                    + " " + oneLine(resp.body()));
        }
        return uid;
    }

    /** The {@code uid} of an exported dashboard file. */
    public static String uidOf(Path file) {
        try {
            String uid = JSON.readTree(Files.readString(file, StandardCharsets.UTF_8)).path("uid").asText("");
            if (uid.isEmpty()) {
                throw new BadInput("dashboard " + file + " has no uid: give it a stable \"uid\"");
            }
            return uid;
        } catch (IOException e) {
            throw new BadInput("dashboard " + file + " is not readable JSON: " + e.getClass().getSimpleName());
        }
    }

    /**
     * Checks {@code GET /api/dashboards/uid/<uid>} exists and every panel (rows' nested panels included) that queries
     * data is bound to the datasource uid {@value #DATASOURCE_UID}, as are its targets.
     */
    public void verifyDashboard(String uid) {
        HttpResponse<String> resp = send(HttpRequest.newBuilder(base.resolve("/api/dashboards/uid/" + encode(uid)))
                .header("Authorization", authorization).GET(), "read dashboard " + uid);
        if (resp.statusCode() == 401) {
            throw unauthorized();
        }
        if (resp.statusCode() != 200) {
            throw new MachineFailure("dashboard '" + uid + "' is missing after import (HTTP " + resp.statusCode() + ")");
        }
        JsonNode dashboard;
        try {
            dashboard = JSON.readTree(resp.body()).path("dashboard");
        } catch (IOException e) {
            throw new MachineFailure("Grafana answered dashboard '" + uid + "' with invalid JSON");
        }
        List<String> unbound = new ArrayList<>();
        collectUnbound(dashboard.path("panels"), unbound);
        if (!unbound.isEmpty()) {
            throw new MachineFailure("dashboard '" + uid + "' has panels not bound to datasource '" + DATASOURCE_UID
                    + "': " + String.join(", ", unbound));
        }
    }

    private static void collectUnbound(JsonNode panels, List<String> unbound) {
        for (JsonNode panel : panels) {
            if (panel.has("panels")) {
                collectUnbound(panel.path("panels"), unbound);
            }
            if ("row".equals(panel.path("type").asText())) {
                continue;
            }
            boolean queries = panel.has("datasource") || panel.path("targets").size() > 0;
            String title = "'" + panel.path("title").asText("#" + panel.path("id").asText("?")) + "'";
            if (queries && !boundToPrometheus(panel.path("datasource"))) {
                unbound.add(title);
                continue;
            }
            for (JsonNode target : panel.path("targets")) {
                if (target.has("datasource") && !boundToPrometheus(target.path("datasource"))) {
                    unbound.add(title);
                    break;
                }
            }
        }
    }

    private static boolean boundToPrometheus(JsonNode ds) {
        return ds.isObject() && DATASOURCE_UID.equals(ds.path("uid").asText());
    }

    /** Maps the dashboard's {@code __inputs} to request inputs; anything but a Prometheus datasource is refused. */
    static ArrayNode inputsFor(Path file, JsonNode dashboard) {
        ArrayNode inputs = JSON.createArrayNode();
        for (JsonNode in : dashboard.path("__inputs")) {
            String name = in.path("name").asText("");
            String type = in.path("type").asText("");
            String pluginId = in.path("pluginId").asText("");
            if (!type.equals("datasource") || !pluginId.equals("prometheus") || name.isEmpty()) {
                throw new BadInput("dashboard " + file.getFileName() + " has input '" + name + "' (type " + type
                        + ", pluginId " + pluginId + ") that cannot be mapped: only Prometheus datasource inputs are"
                        + " provisioned; remove it or replace it with the Prometheus datasource");
            }
            ObjectNode mapped = inputs.addObject();
            mapped.put("name", name);
            mapped.put("type", "datasource");
            mapped.put("pluginId", "prometheus");
            mapped.put("value", DATASOURCE_UID);
        }
        return inputs;
    }

    /** What {@link #queryPanels} found: the titles of panels with data, and each other panel with its reason. */
    public record PanelCheck(List<String> withData, List<String> failing) {
        public PanelCheck {
            withData = List.copyOf(withData);
            failing = List.copyOf(failing);
        }
    }

    /**
     * Logs in as a person does in Grafana's login form ({@code POST /grafana/login} with {@code {"user","password"}}: a
     * page path, which Grafana would redirect without {@link #SUB_PATH}), then
     * reads {@code GET /api/user} with only the session cookie it got.
     *
     * @return true when Grafana answered 200 with a {@code grafana_session} cookie that then signs the user in;
     *         false when it refused the password (401)
     * @throws FleetException when Grafana cannot be reached or answers anything else
     */
    public boolean login(String user, String password) {
        ObjectNode body = JSON.createObjectNode();
        body.put("user", user);
        body.put("password", password);
        HttpResponse<String> resp = send(HttpRequest.newBuilder(base.resolve(SUB_PATH + "/login"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString())), "log in");
        if (resp.statusCode() == 401) {
            return false;
        }
        if (resp.statusCode() != 200) {
            throw new MachineFailure("Grafana's login answered HTTP " + resp.statusCode() + " " + oneLine(resp.body()));
        }
        String session = resp.headers().allValues("Set-Cookie").stream()
                .map(c -> c.split(";", 2)[0].trim())
                .filter(c -> c.startsWith(SESSION_COOKIE + "=") && c.length() > SESSION_COOKIE.length() + 1)
                .findFirst().orElse(null);
        if (session == null) {
            throw new MachineFailure("Grafana's login answered 200 without a " + SESSION_COOKIE + " cookie");
        }
        HttpResponse<String> me = send(HttpRequest.newBuilder(base.resolve("/api/user")).header("Cookie", session)
                .GET(), "read the signed-in user");
        if (me.statusCode() != 200) {
            throw new MachineFailure("Grafana's session cookie from the login is refused by /api/user (HTTP "
                    + me.statusCode() + ")");
        }
        try {
            String login = JSON.readTree(me.body()).path("login").asText("");
            if (!login.equals(user)) {
                throw new MachineFailure("Grafana signed the login in as '" + login + "', not '" + user + "'");
            }
        } catch (IOException e) {
            throw new MachineFailure("Grafana answered /api/user with invalid JSON");
        }
        return true;
    }

    /** {@code GET /api/datasources}: the instance's data sources with their scrape interval. */
    public List<DashboardPanels.Datasource> datasources() {
        HttpResponse<String> resp = send(HttpRequest.newBuilder(base.resolve("/api/datasources"))
                .header("Authorization", authorization).GET(), "list data sources");
        JsonNode list = okJson(resp, "the data source list");
        List<DashboardPanels.Datasource> out = new ArrayList<>();
        for (JsonNode d : list) {
            out.add(new DashboardPanels.Datasource(d.path("uid").asText(), d.path("name").asText(),
                    d.path("type").asText(), d.path("isDefault").asBoolean(false),
                    Math.max(QueryInterval.parse(d.path("jsonData").path("timeInterval").asText("")), 0)));
        }
        return out;
    }

    /**
     * Runs every query of every panel of dashboard {@code uid} (as Grafana stores it) through Grafana's data source
     * query API ({@code POST /api/ds/query}) over the last {@code window}, one request per panel as the dashboard
     * sends them, and sorts the panels into those with at least one data point and the others (no data point, a
     * query error, or a data source that does not resolve). Macros are expanded before sending ({@link DashboardPanels}).
     */
    public PanelCheck queryPanels(String uid, Duration window) {
        HttpResponse<String> resp = send(HttpRequest.newBuilder(base.resolve("/api/dashboards/uid/" + encode(uid)))
                .header("Authorization", authorization).GET(), "read dashboard " + uid);
        JsonNode dashboard = okJson(resp, "dashboard '" + uid + "'").path("dashboard");
        long to = Instant.now().toEpochMilli();
        long from = to - window.toMillis();
        List<String> withData = new ArrayList<>();
        List<String> failing = new ArrayList<>();
        for (DashboardPanels.Panel panel : DashboardPanels.of(dashboard, datasources(), window.toMillis())) {
            String title = "'" + panel.title() + "'";
            if (panel.problem() != null) {
                failing.add(title + " (" + panel.problem() + ")");
                continue;
            }
            String problem = queryPanel(panel, from, to);
            if (problem == null) {
                withData.add(panel.title());
            } else {
                failing.add(title + " (" + problem + ")");
            }
        }
        return new PanelCheck(withData, failing);
    }

    /** Sends one panel's queries; null when a data point came back and no query failed, else why not. */
    private String queryPanel(DashboardPanels.Panel panel, long from, long to) {
        ObjectNode body = JSON.createObjectNode();
        body.put("from", Long.toString(from));
        body.put("to", Long.toString(to));
        ArrayNode queries = body.putArray("queries");
        for (DashboardPanels.Query q : panel.queries()) {
            ObjectNode n = queries.addObject();
            n.put("refId", q.refId());
            n.putObject("datasource").put("uid", q.datasource().uid()).put("type", q.datasource().type());
            n.put("expr", q.expr());
            n.put("range", !q.instant());
            n.put("instant", q.instant());
            n.put("format", q.format());
            n.put("intervalMs", q.interval().intervalMs());
            n.put("maxDataPoints", q.maxDataPoints());
            if (!q.minStep().isEmpty()) {
                n.put("interval", q.minStep());
            }
        }
        HttpResponse<String> resp = send(HttpRequest.newBuilder(base.resolve("/api/ds/query"))
                .header("Authorization", authorization).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString())), "query panel '" + panel.title() + "'");
        if (resp.statusCode() == 401) {
            throw unauthorized();
        }
        JsonNode results;
        try {
            results = JSON.readTree(resp.body()).path("results");
        } catch (IOException e) {
            results = JSON.missingNode();
        }
        // A failed query makes the whole answer 400 (207 with the multi-status toggle), the results still per query.
        if (!results.isObject()) {
            return "HTTP " + resp.statusCode() + " " + oneLine(resp.body());
        }
        List<String> errors = new ArrayList<>();
        long points = 0;
        for (DashboardPanels.Query q : panel.queries()) {
            JsonNode r = results.path(q.refId());
            if (!r.path("error").asText("").isEmpty()) {
                errors.add("query " + q.refId() + ": " + oneLine(r.path("error").asText()));
            }
            points += dataPoints(r.path("frames"));
        }
        if (!errors.isEmpty()) {
            return String.join("; ", errors);
        }
        return points > 0 ? null : "no data";
    }

    /** Non-null values in the frames' non-time fields (Grafana writes NaN and infinities as null). */
    static long dataPoints(JsonNode frames) {
        long n = 0;
        for (JsonNode frame : frames) {
            JsonNode fields = frame.path("schema").path("fields");
            JsonNode values = frame.path("data").path("values");
            for (int i = 0; i < values.size(); i++) {
                if ("time".equals(fields.path(i).path("type").asText())) {
                    continue;
                }
                for (JsonNode v : values.get(i)) {
                    if (v.isNumber()) {
                        n++;
                    }
                }
            }
        }
        return n;
    }

    private JsonNode okJson(HttpResponse<String> resp, String what) {
        if (resp.statusCode() == 401) {
            throw unauthorized();
        }
        if (resp.statusCode() != 200) {
            throw new MachineFailure("Grafana answered HTTP " + resp.statusCode() + " for " + what);
        }
        try {
            return JSON.readTree(resp.body());
        } catch (IOException e) {
            throw new MachineFailure("Grafana answered " + what + " with invalid JSON");
        }
    }

    private void poll(String path, boolean auth, Duration timeout, String failure) {
        Instant deadline = Instant.now().plus(timeout);
        // Doubling pauses up to 5 s: Grafana answers within seconds of starting, so longer pauses only waste time.
        Waiter backoff = new Waiter(firstDelay, firstDelay.compareTo(MAX_POLL_DELAY) > 0 ? firstDelay : MAX_POLL_DELAY,
                2, 0, timeout);
        String last = "no answer";
        for (int attempt = 0; ; attempt++) {
            long delay = backoff.delay(attempt, () -> 0).toMillis();
            HttpRequest.Builder req = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(10)).GET();
            if (auth) {
                req.header("Authorization", authorization);
            }
            try {
                HttpResponse<String> resp = http.send(req.build(), HttpResponse.BodyHandlers.ofString());
                if (resp.statusCode() == 200) {
                    return;
                }
                if (resp.statusCode() == 401) {
                    throw unauthorized();
                }
                last = "HTTP " + resp.statusCode();
            } catch (IOException e) {
                last = e.getClass().getSimpleName();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new Interrupted(WAITING_FOR, e);
            }
            if (Instant.now().plusMillis(delay).isAfter(deadline)) {
                throw new MachineFailure(failure + " within " + timeout.toSeconds() + " s (last: " + last
                        + "): check 'journalctl -u grafana-server' on the machine");
            }
            Waiter.sleep(Duration.ofMillis(delay), WAITING_FOR);
        }
    }

    private HttpResponse<String> send(HttpRequest.Builder req, String what) {
        try {
            return http.send(req.timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new MachineFailure("Grafana call failed (" + what + "): " + e.getClass().getSimpleName());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Interrupted("talking to Grafana", e);
        }
    }

    private static FleetException unauthorized() {
        return new MachineFailure("Grafana refused the admin password (HTTP 401): it is set only on Grafana's first start;"
                + " reset it on the machine with grafana-cli admin reset-admin-password");
    }

    private static String oneLine(String body) {
        String s = body == null ? "" : body.replaceAll("\\s+", " ").trim();
        return s.length() > 200 ? s.substring(0, 200) + "…" : s;
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
