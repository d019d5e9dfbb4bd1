package org.workshopfleet.cloud;

/** A machine's lifecycle as the cloud reports it (EC2's names; the others map onto them). */
public enum MachineState {
    PENDING, RUNNING, STOPPING, STOPPED, SHUTTING_DOWN, TERMINATED, UNKNOWN;

    /** True once the machine can never become running again. */
    public boolean isGone() {
        return this == SHUTTING_DOWN || this == TERMINATED;
    }
}
