package org.workshopfleet.cloud.lab;

import org.workshopfleet.ssh.SshKeyPair;

/** A minimal cloud-config like the product's: a pinned ed25519 host key and an {@code ubuntu} login with sudo. */
final class LabUserData {

    private LabUserData() {
    }

    static String cloudConfig(SshKeyPair hostKey, SshKeyPair login, String extra) {
        StringBuilder y = new StringBuilder("#cloud-config\n");
        y.append("ssh_deletekeys: true\n");
        y.append("ssh_genkeytypes: []\n");
        y.append("ssh_keys:\n");
        y.append("  ed25519_private: |\n");
        for (String line : hostKey.privateKeyOpenSsh().split("\n")) {
            y.append("    ").append(line).append('\n');
        }
        y.append("  ed25519_public: ").append(hostKey.publicKeyLine()).append('\n');
        y.append("users:\n");
        y.append("  - default\n");
        y.append("  - name: ubuntu\n");
        y.append("    sudo: ALL=(ALL) NOPASSWD:ALL\n");
        y.append("    shell: /bin/bash\n");
        y.append("    ssh_authorized_keys:\n");
        y.append("      - ").append(login.publicKeyLine()).append('\n');
        y.append(extra);
        return y.toString();
    }
}
