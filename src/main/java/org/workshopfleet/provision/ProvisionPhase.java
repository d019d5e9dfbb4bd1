package org.workshopfleet.provision;

/** Where one machine's provisioning is, in order. */
public enum ProvisionPhase {
    /** Waiting until SSH answers with the pinned host key and accepts the login key. */
    CONNECTING,
    /** Waiting for cloud-init's result file ({@link CloudInitWait}). */
    CLOUD_INIT,
    /** Sending the bundle (on the provisioning command's stdin) and unpacking it. */
    UPLOADING,
    /**
     * Another provisioning session still holds the machine ({@link MachineLayout#sessionLock()}): this one waits for it
     * to end, {@code MachineSession.LOCK_WAIT} at most, before it unpacks anything.
     */
    WAITING_FOR_EARLIER_SESSION,
    /** Running the setup steps. */
    STEPS,
    /** Waiting for Grafana and importing dashboards. */
    GRAFANA,
    /** Ready. */
    DONE,
    /** Stopped with a failure (see {@link ProvisionListener#failed}). */
    FAILED
}
