package org.workshopfleet.provision;

import java.util.Map;
import org.workshopfleet.render.Bundle;
import org.workshopfleet.render.Renderer;

/**
 * Where things live on a machine. {@link #STANDARD} is the contract every real machine follows; loopback tests give
 * each "machine" its own folders, since two test sshd servers share one file system.
 *
 * @param bundleRoot      where the bundle is unpacked ({@code /opt/workshop-fleet})
 * @param stateRoot       markers and observations ({@code /var/lib/workshop-fleet}: {@code steps/}, {@code observed/})
 * @param grafanaPort     Grafana's port on the machine's loopback
 * @param cloudInitResult the file cloud-init writes when its last stage is over ({@code /run/cloud-init/result.json},
 *                        {@code {"v1": {"datasource": …, "errors": [...]}}}); {@link CloudInitWait} polls for it
 */
public record MachineLayout(String bundleRoot, String stateRoot, int grafanaPort, String cloudInitResult) {

    /** cloud-init's own location of its result file (a tmpfs, so it never survives from an earlier boot). */
    public static final String CLOUD_INIT_RESULT = "/run/cloud-init/result.json";

    public static final MachineLayout STANDARD =
            new MachineLayout(Bundle.REMOTE_ROOT, "/var/lib/workshop-fleet", 3000, CLOUD_INIT_RESULT);

    /** cloud-init's output log, whose tail the machine's log shows when cloud-init failed. */
    public static final String CLOUD_INIT_LOG = "/var/log/cloud-init-output.log";

    /** The folder of the step markers: one file per step holding the content hash of its last successful run. */
    public String markersDir() {
        return stateRoot + "/steps";
    }

    /**
     * The lock file that keeps provisioning sessions on the machine apart: each holds an {@code flock(1)} lock on it
     * from the unpack through its last step (templates/session/machine-session.sh.ftl). It lies beside the bundle root
     * ({@code /opt/workshop-fleet.lock}), whose parent folder exists before a machine's first session, so taking the
     * lock needs no {@code mkdir} first; not inside the root, which a later bundle replaces.
     */
    public String sessionLock() {
        return bundleRoot + ".lock";
    }

    /** The ebpf_exporter hash the machine observed (written by scripts/03-ebpf-exporter.sh under STATE_DIR). */
    public String ebpfExporterHashFile() {
        return stateRoot + "/observed/ebpf_exporter.sha256";
    }

    /**
     * {@code env} assignments that give a script on the machine these folders as scripts/lib.sh reads them:
     * {@code BUNDLE_DIR=… STATE_DIR=…}, each a quoted shell word.
     */
    public String scriptEnvironment() {
        return "BUNDLE_DIR=" + Renderer.shellQuoted(bundleRoot) + " STATE_DIR=" + Renderer.shellQuoted(stateRoot);
    }

    /**
     * The command line (after sudo) that runs a bundle script, e.g. {@code scripts/seal.sh}, with these folders, under
     * the machine's session lock ({@link #sessionLock()}): it waits up to {@code MachineSession.LOCK_WAIT} for a
     * provisioning session on the machine to end and never runs beside one; when the wait runs out it exits 1 without
     * running the script. The machine's log shows each step as this command, to re-run it by hand.
     */
    public String runScript(String bundlePath) {
        return "flock -w " + MachineSession.LOCK_WAIT.toSeconds() + " " + Renderer.shellQuoted(sessionLock()) + " env "
                + scriptEnvironment() + " bash " + Renderer.shellQuoted(bundleRoot + "/" + bundlePath);
    }

    /**
     * These paths for a template's model (templates/session/machine-session.sh.ftl): {@code bundleRoot},
     * {@code stateRoot}, {@code markersDir}, {@code sessionLock}, {@code cloudInitResult}, {@code cloudInitLog},
     * {@code ebpfExporterHashFile}.
     */
    public Map<String, String> asModel() {
        return Map.of("bundleRoot", bundleRoot, "stateRoot", stateRoot, "markersDir", markersDir(),
                "sessionLock", sessionLock(), "cloudInitResult", cloudInitResult, "cloudInitLog", CLOUD_INIT_LOG,
                "ebpfExporterHashFile", ebpfExporterHashFile());
    }
}
