package org.workshopfleet.ssh;

import java.util.Objects;

/**
 * Who the tool logs in as: the user ({@code ubuntu} on the machines) and the workshop's login key.
 * {@link #toString()} names the key by fingerprint only.
 */
public record SshLogin(String user, SshKeyPair key) {
    public SshLogin {
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(key, "key");
    }

    /** The user every workshop machine is reached as. */
    public static final String MACHINE_USER = "ubuntu";

    /** True when commands need no {@code sudo} (the login is root already; used by loopback tests). */
    public boolean isRoot() {
        return user.equals("root");
    }

    /** {@code "sudo "} for an ordinary user, {@code ""} for root. */
    public String sudo() {
        return isRoot() ? "" : "sudo ";
    }
}
