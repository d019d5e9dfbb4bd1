package org.workshopfleet.provision;

import java.util.List;
import org.workshopfleet.state.Ledger;
import org.workshopfleet.state.MachinePhase;

/**
 * Records every machine's progress in the ledger as it happens, so an interrupted run leaves an honest record. The
 * frequent events (phases, steps) are written in the background ({@link Ledger#updateMachineSoon}) so that no machine
 * waits for the disk between its steps; a machine's end, ready or failed, is on disk before its result is returned.
 */
final class LedgerProgress implements ProvisionListener {

    private final Ledger ledger;

    LedgerProgress(Ledger ledger) {
        this.ledger = ledger;
    }

    @Override
    public void phase(int attendee, String machine, ProvisionPhase phase) {
        switch (phase) {
            case CONNECTING, CLOUD_INIT -> ledger.updateMachineSoon(attendee, machine, r -> r.inPhase(MachinePhase.BOOTING, null));
            case UPLOADING, GRAFANA -> ledger.updateMachineSoon(attendee, machine,
                    r -> r.inPhase(MachinePhase.PROVISIONING, phase.name().toLowerCase(java.util.Locale.ROOT)));
            case WAITING_FOR_EARLIER_SESSION -> ledger.updateMachineSoon(attendee, machine,
                    r -> r.inPhase(MachinePhase.PROVISIONING, "waiting for an earlier session"));
            case DONE -> ledger.updateMachine(attendee, machine, r -> r.inPhase(MachinePhase.READY, null));
            default -> {
                // STEPS is recorded per step; FAILED by failed().
            }
        }
    }

    @Override
    public void stepStarted(int attendee, String machine, int index, int total, String step) {
        ledger.updateMachineSoon(attendee, machine, r -> r.inPhase(MachinePhase.PROVISIONING, step));
    }

    @Override
    public void stepFinished(int attendee, String machine, int index, int total, String step, boolean skipped) {
        ledger.updateMachineSoon(attendee, machine, r -> r.stepDone(step));
    }

    @Override
    public void failed(int attendee, String machine, String step, String reason, List<String> logTail) {
        ledger.updateMachine(attendee, machine, r -> r.failed(step, reason, logTail));
    }
}
