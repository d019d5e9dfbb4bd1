package org.workshopfleet.provision;

import java.util.Objects;
import org.workshopfleet.render.Bundle;
import org.workshopfleet.ssh.SshTarget;

/**
 * One machine to provision.
 *
 * @param attendee        attendee number, 1-based
 * @param name            machine name {@code <workshop>-NN}
 * @param target          where to reach it, with its pinned host key
 * @param grafanaPassword the machine's Grafana admin password (secret; {@link #toString()} hides it)
 * @param bundle          everything the machine receives
 */
public record MachineJob(int attendee, String name, SshTarget target, String grafanaPassword, Bundle bundle) {
    public MachineJob {
        Objects.requireNonNull(name);
        Objects.requireNonNull(target);
        Objects.requireNonNull(bundle);
    }

    /** This job with another bundle (the same machine, e.g. once its TLS files are known). */
    public MachineJob withBundle(Bundle other) {
        return new MachineJob(attendee, name, target, grafanaPassword, other);
    }

    @Override
    public String toString() {
        return "MachineJob[" + name + " " + target + "]";
    }
}
