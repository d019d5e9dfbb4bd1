package org.workshopfleet.provision;

import org.workshopfleet.concurrent.Waiter;
import org.workshopfleet.error.FleetException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.workshopfleet.grafana.GrafanaClient;
import org.workshopfleet.render.Renderer;
import org.workshopfleet.spec.OsProfile;
import org.workshopfleet.ssh.PortForward;
import org.workshopfleet.ssh.Remote;
import org.workshopfleet.ssh.SshLogin;
import org.workshopfleet.ssh.SshTarget;

/**
 * docs/machine.md's "Ready", checked on one machine: SSH with the pinned host key; the on-machine checks
 * of {@code verify-machine.sh} (one SSH command, the script fed on stdin); Grafana's datasource and every dashboard
 * with each panel bound to it, every panel returning data through Grafana's query API, and the card's Grafana login
 * (through a port forward); and the attendee's password login.
 */
public final class Verifier {

    /** One check's outcome; {@code detail} is one line and never holds a secret. */
    public record Check(String name, boolean ok, String detail) {
    }

    /** What verify needs to know about one machine. */
    public record Target(String name, SshTarget ssh, String grafanaPassword, String attendeePassword) {
        @Override
        public String toString() {
            return "Verifier.Target[" + name + " " + ssh + "]";
        }
    }

    /** How far back the panels' queries look: verify's own requests and exporter run are minutes old at most. */
    static final int PANEL_WINDOW_MINUTES = 15;
    /** One 15 s step of the panels' queries and a second's margin. */
    static final Duration PANEL_SECOND_LOOK = Duration.ofSeconds(16);
    /**
     * How long the exporter verify started keeps serving after the script, for the panel queries, if verify loses the
     * machine before it stops it: a watchdog on the machine stops it then.
     */
    static final int EXPORTER_LINGER_SECONDS = 300;
    static final String SCRIPT_RESOURCE = "/org/workshopfleet/provision/verify-machine.sh";

    private final SshLogin login;
    private final MachineLayout layout;
    private final List<Path> dashboards;
    private final Duration sshTimeout;
    private final String attendeeUser;
    private final String ebpfExporterSha256;
    private final OsProfile os;

    /**
     * @param ebpfExporterSha256 the exporter hash the workshop pinned or recorded ({@code Runner.exporterPin}), or empty:
     *                           the machine's exporter binary is run ({@code --version}, as root) only when its SHA-256
     *                           is this one, or the pin in the machine's own fleet.env when this is empty
     * @param os                 the system the machines run: the deep checks trace its PHP module's USDT probes
     */
    public Verifier(SshLogin login, MachineLayout layout, List<Path> dashboards, Duration sshTimeout, String attendeeUser,
                    String ebpfExporterSha256, OsProfile os) {
        this.login = login;
        this.layout = layout;
        this.dashboards = List.copyOf(dashboards);
        this.sshTimeout = sshTimeout;
        this.attendeeUser = attendeeUser;
        // It goes into a shell command line: a hash or nothing.
        this.ebpfExporterSha256 = ebpfExporterSha256 != null && ebpfExporterSha256.matches("[0-9a-f]{64}")
                ? ebpfExporterSha256 : "";
        this.os = os;
    }

    /** Runs every check on one machine; a check that cannot run is a failed check, never an exception. */
    public List<Check> verify(Target t) {
        List<Check> checks = new ArrayList<>();
        Remote remote;
        try {
            remote = Remote.await(t.ssh(), login, sshTimeout);
            checks.add(new Check("ssh", true, "pinned host key, login key accepted"));
        } catch (FleetException e) {
            checks.add(new Check("ssh", false, e.getMessage()));
            return checks;
        }
        try (remote) {
            Remote.Result r = remote.exec(scriptCommand("checks"), script());
            checks.addAll(parse(r.stdout()));
            if (checks.size() == 1) {
                checks.add(new Check("checks", false, "the check script printed nothing (exit " + r.exitCode() + ")"));
            }
            try {
                checks.addAll(grafana(remote, t));
            } finally {
                // The exporter the script started serves until the panels are queried: Prometheus marks a stopped
                // target's series stale at its next scrape, and an instant-query panel would then show nothing.
                remote.exec(scriptCommand("stop-exporter"), script());
            }
        } catch (RuntimeException e) {
            checks.add(new Check("checks", false, "lost the machine: " + e.getMessage()));
        }
        boolean password = t.attendeePassword() != null
                && Remote.passwordAccepted(t.ssh(), attendeeUser, t.attendeePassword());
        checks.add(new Check("attendee_login", password,
                password ? attendeeUser + " logs in with the handout password" : attendeeUser + "'s handout password is refused"));
        return checks;
    }

    /**
     * The check script run as root; {@code action} {@code checks} runs every check and leaves the exporter it started
     * serving for at most {@value #EXPORTER_LINGER_SECONDS} s, {@code stop-exporter} stops it at once.
     */
    private String scriptCommand(String action) {
        return login.sudo() + "env ATTENDEE_USER=" + attendeeUser + " EBPF_EXPORTER_RECORDED=" + ebpfExporterSha256
                + " PHP_MODULE=" + Renderer.shellQuoted(os.phpModulePath()) + " EXPORTER_LINGER="
                + EXPORTER_LINGER_SECONDS + " BUNDLE_DIR=" + Renderer.shellQuoted(layout.bundleRoot()) + " bash -s -- "
                + action;
    }

    /**
     * Grafana through a port forward: the datasource and every dashboard bound to it ({@code grafana_dashboard}),
     * every panel's queries returning data through the data source query API over the last
     * {@value #PANEL_WINDOW_MINUTES} minutes ({@code grafana_panels}), and the card's login and password accepted by
     * Grafana's login form ({@code grafana_login}).
     */
    private List<Check> grafana(Remote remote, Target t) {
        List<Check> checks = new ArrayList<>();
        try (PortForward fwd = remote.forward(layout.grafanaPort())) {
            GrafanaClient g = new GrafanaClient(URI.create("http://127.0.0.1:" + fwd.localPort()), t.grafanaPassword());
            List<String> uids = new ArrayList<>();
            try {
                g.awaitHealthy(Duration.ofSeconds(10));
                g.awaitDatasource(GrafanaClient.DATASOURCE_UID, Duration.ofSeconds(10));
                for (Path d : dashboards) {
                    String uid = GrafanaClient.uidOf(d);
                    g.verifyDashboard(uid);
                    uids.add(uid);
                }
                checks.add(new Check("grafana_dashboard", true, "datasource answers; bound: " + String.join(", ", uids)));
            } catch (FleetException e) {
                checks.add(new Check("grafana_dashboard", false, e.getMessage()));
            }
            checks.add(panels(g));
            checks.add(login(g, t));
        } catch (FleetException e) {
            checks.add(new Check("grafana_dashboard", false, e.getMessage()));
        }
        return checks;
    }

    private Check panels(GrafanaClient g) {
        try {
            GrafanaClient.PanelCheck p = queryPanels(g);
            if (!p.failing().isEmpty() && p.failing().stream().allMatch(f -> f.endsWith("(no data)"))) {
                // Grafana aligns a range query's end down to its step (15 s here): series scraped twice only moments
                // ago show once the next step boundary has passed, so empty panels get one more look a step later.
                Waiter.sleep(PANEL_SECOND_LOOK, "waiting for Grafana's next step");
                p = queryPanels(g);
            }
            if (p.failing().isEmpty()) {
                return new Check("grafana_panels", true, p.withData().size() + " panels return data");
            }
            return new Check("grafana_panels", false, p.failing().size() + " of "
                    + (p.failing().size() + p.withData().size()) + " panels return no data: "
                    + String.join(", ", p.failing()));
        } catch (FleetException e) {
            return new Check("grafana_panels", false, e.getMessage());
        }
    }

    private GrafanaClient.PanelCheck queryPanels(GrafanaClient g) {
        List<String> withData = new ArrayList<>();
        List<String> failing = new ArrayList<>();
        for (Path d : dashboards) {
            GrafanaClient.PanelCheck p = g.queryPanels(GrafanaClient.uidOf(d), Duration.ofMinutes(PANEL_WINDOW_MINUTES));
            withData.addAll(p.withData());
            failing.addAll(p.failing());
        }
        return new GrafanaClient.PanelCheck(withData, failing);
    }

    private static Check login(GrafanaClient g, Target t) {
        String user = GrafanaClient.ADMIN_USER;
        try {
            if (t.grafanaPassword() != null && g.login(user, t.grafanaPassword())) {
                return new Check("grafana_login", true, user + " logs in to Grafana with the card's password");
            }
            return new Check("grafana_login", false, "Grafana refuses the card's password for " + user + " (HTTP 401)");
        } catch (FleetException e) {
            return new Check("grafana_login", false, e.getMessage());
        }
    }

    /** Parses {@code CHECK <name> ok|fail <detail>} lines. */
    static List<Check> parse(String output) {
        List<Check> checks = new ArrayList<>();
        for (String line : output.split("\n")) {
            String[] parts = line.trim().split(" ", 4);
            if (parts.length >= 3 && parts[0].equals("CHECK")) {
                checks.add(new Check(parts[1], parts[2].equals("ok"), parts.length == 4 ? parts[3] : ""));
            }
        }
        return checks;
    }

    static byte[] script() {
        try (InputStream in = Verifier.class.getResourceAsStream(SCRIPT_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(SCRIPT_RESOURCE + " is missing from the build");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The script's text, for tests and docs. */
    public static String scriptText() {
        return new String(script(), StandardCharsets.UTF_8);
    }
}
