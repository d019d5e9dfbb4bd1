package org.workshopfleet.ssh;

/** When a new machine's sshd starts presenting the pinned host key, which decides what another key means at first. */
public enum BootHostKey {
    /**
     * From sshd's first start: cloud-init writes the cloud-config's host keys in its init stage, before sshd starts
     * (EC2, the lab). Another key is a different machine: refused at once.
     */
    BEFORE_SSHD,
    /**
     * Only once the launch script has run: Lightsail runs it in cloud-init's final stage, after sshd started with the
     * keys the image generated at first boot, and it restarts sshd with the pinned key. Another key until then means
     * "not ready yet"; only one still presented when the wait for SSH ends is refused.
     */
    AFTER_LAUNCH_SCRIPT
}
