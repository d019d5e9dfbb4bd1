package org.workshopfleet.provision;

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
 * with each panel bound to it (through a port forward); and the attendee's password login.
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
            Remote.Result r = remote.exec(login.sudo() + "env ATTENDEE_USER=" + attendeeUser + " EBPF_EXPORTER_RECORDED="
                    + ebpfExporterSha256 + " PHP_MODULE=" + Renderer.shellQuoted(os.phpModulePath())
                    + " BUNDLE_DIR=" + Renderer.shellQuoted(layout.bundleRoot()) + " bash -s",
                    script());
            checks.addAll(parse(r.stdout()));
            if (checks.size() == 1) {
                checks.add(new Check("checks", false, "the check script printed nothing (exit " + r.exitCode() + ")"));
            }
            checks.add(grafana(remote, t));
        } catch (RuntimeException e) {
            checks.add(new Check("checks", false, "lost the machine: " + e.getMessage()));
        }
        boolean password = t.attendeePassword() != null
                && Remote.passwordAccepted(t.ssh(), attendeeUser, t.attendeePassword());
        checks.add(new Check("attendee_login", password,
                password ? attendeeUser + " logs in with the handout password" : attendeeUser + "'s handout password is refused"));
        return checks;
    }

    private Check grafana(Remote remote, Target t) {
        try (PortForward fwd = remote.forward(layout.grafanaPort())) {
            GrafanaClient g = new GrafanaClient(URI.create("http://127.0.0.1:" + fwd.localPort()), t.grafanaPassword());
            g.awaitHealthy(Duration.ofSeconds(10));
            g.awaitDatasource(GrafanaClient.DATASOURCE_UID, Duration.ofSeconds(10));
            List<String> uids = new ArrayList<>();
            for (Path d : dashboards) {
                String uid = GrafanaClient.uidOf(d);
                g.verifyDashboard(uid);
                uids.add(uid);
            }
            return new Check("grafana_dashboard", true, "datasource answers; bound: " + String.join(", ", uids));
        } catch (FleetException e) {
            return new Check("grafana_dashboard", false, e.getMessage());
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
