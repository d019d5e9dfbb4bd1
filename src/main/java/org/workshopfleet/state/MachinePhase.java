package org.workshopfleet.state;

/** Where one attendee machine is in its life, as the ledger records it. */
public enum MachinePhase {
    PLANNED, LAUNCHING, BOOTING, PROVISIONING, READY, FAILED, DESTROYED
}
