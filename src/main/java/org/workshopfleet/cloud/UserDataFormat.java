package org.workshopfleet.cloud;

import org.workshopfleet.ssh.BootHostKey;

/** The form of first-boot configuration a cloud accepts. */
public enum UserDataFormat {
    /** A {@code #cloud-config} YAML document (EC2, the lab's NoCloud seed). */
    CLOUD_CONFIG,
    /** A shell script run at first boot (Lightsail's launch script). */
    SHELL_SCRIPT;

    /**
     * When a machine configured this way presents its pinned host key: cloud-init writes a cloud-config's keys before
     * sshd starts; a launch script runs in cloud-init's final stage, after sshd started with the image's own keys.
     */
    public BootHostKey bootHostKey() {
        return this == SHELL_SCRIPT ? BootHostKey.AFTER_LAUNCH_SCRIPT : BootHostKey.BEFORE_SSHD;
    }
}
