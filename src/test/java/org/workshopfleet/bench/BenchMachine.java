package org.workshopfleet.bench;

import org.workshopfleet.render.Bundle;
import org.workshopfleet.ssh.SshKeyPair;

/** One machine of the benchmark fleet: its name, lab address, pinned host key and the bundle it was given. */
record BenchMachine(String name, String ip, SshKeyPair hostKey, Bundle bundle) {
}
