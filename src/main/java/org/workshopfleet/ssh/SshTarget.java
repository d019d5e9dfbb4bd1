package org.workshopfleet.ssh;

import java.util.Objects;

/**
 * One machine's SSH endpoint and the host key pinned for it.
 *
 * @param host          address (IPv4 or name)
 * @param port          SSH port, 22 on machines
 * @param pinnedHostKey the host public key the machine must present, {@code ssh-ed25519 AAAA…} (comment optional)
 */
public record SshTarget(String host, int port, String pinnedHostKey) {
    public SshTarget {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(pinnedHostKey, "pinnedHostKey");
    }

    public static SshTarget of(String host, SshKeyPair hostKey) {
        return new SshTarget(host, 22, hostKey.publicKeyNoComment());
    }

    @Override
    public String toString() {
        return host + ":" + port;
    }
}
