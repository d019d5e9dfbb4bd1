package org.workshopfleet.report;

import org.workshopfleet.state.MachinePhase;

/** Where a machine is, as the progress board shows it during {@code up} and {@code teardown}. */
public enum Stage {
    WAITING, LAUNCHING, BOOTING, PROVISIONING, VERIFYING, READY, FAILED, DESTROYING, DESTROYED;

    /** The stage matching a ledger phase ({@code PLANNED} is waiting). */
    public static Stage of(MachinePhase phase) {
        return switch (phase) {
            case PLANNED -> WAITING;
            case LAUNCHING -> LAUNCHING;
            case BOOTING -> BOOTING;
            case PROVISIONING -> PROVISIONING;
            case READY -> READY;
            case FAILED -> FAILED;
            case DESTROYED -> DESTROYED;
        };
    }

    /** Still moving: neither ready, failed nor destroyed. */
    public boolean working() {
        return this != READY && this != FAILED && this != DESTROYED;
    }

    String label() {
        return this == FAILED ? "FAILED" : name().toLowerCase(java.util.Locale.ROOT);
    }
}
