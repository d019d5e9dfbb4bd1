package org.workshopfleet.provision;

import org.workshopfleet.render.Bundle;

/**
 * Where things live on a machine. {@link #STANDARD} is the contract every real machine follows; loopback tests give
 * each "machine" its own folders, since two test sshd servers share one file system.
 *
 * @param bundleRoot       where the bundle is unpacked ({@code /opt/workshop-fleet})
 * @param stateRoot        markers and observations ({@code /var/lib/workshop-fleet}: {@code steps/}, {@code observed/})
 * @param grafanaPort      Grafana's port on the machine's loopback
 * @param cloudInitWait    the command that blocks until cloud-init finished and prints {@code status: …}
 */
public record MachineLayout(String bundleRoot, String stateRoot, int grafanaPort, String cloudInitWait) {

    public static final MachineLayout STANDARD =
            new MachineLayout(Bundle.REMOTE_ROOT, "/var/lib/workshop-fleet", 3000, "cloud-init status --wait");

    public String markersDir() {
        return stateRoot + "/steps";
    }

    public String ebpfExporterHashFile() {
        return stateRoot + "/observed/ebpf_exporter.sha256";
    }
}
