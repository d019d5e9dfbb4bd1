package org.workshopfleet.provision;

/** Where one machine's provisioning is, in order. */
public enum ProvisionPhase {
    /** Waiting until SSH answers with the pinned host key and accepts the login key. */
    CONNECTING,
    /** Waiting for cloud-init's result file ({@link CloudInitWait}). */
    CLOUD_INIT,
    /** Sending the bundle (on the provisioning command's stdin) and unpacking it. */
    UPLOADING,
    /** Running the setup steps. */
    STEPS,
    /** Waiting for Grafana and importing dashboards. */
    GRAFANA,
    /** Ready. */
    DONE,
    /** Stopped with a failure (see {@link ProvisionListener#failed}). */
    FAILED
}
