package org.workshopfleet.provision;

/** Where one machine's provisioning is, in order. */
public enum ProvisionPhase {
    /** Waiting until SSH answers with the pinned host key and accepts the login key. */
    CONNECTING,
    /** {@code cloud-init status --wait}. */
    CLOUD_INIT,
    /** Uploading and unpacking the bundle. */
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
