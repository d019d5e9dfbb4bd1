package org.workshopfleet.command;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.workshopfleet.state.MachinePhase;
import org.workshopfleet.state.MachineRecord;

/**
 * The end of {@code up}: every ready machine gets the readiness checks; a seat whose machine fails them moves to a
 * machine that passes ({@link Replacement}: a spare, else a new one), at most {@link #ATTEMPTS} times per seat, each
 * attempt reported with the seat, the machine and the failed checks; a spare that fails is destroyed; then the spares
 * are made up again. A seat whose machine failed provisioning moves onto a spare that passes; without one it is left
 * to a re-run of {@code up}, which resumes it.
 */
final class Heal {

    /** Machines tried per seat before {@code up} gives up on it. */
    static final int ATTEMPTS = 2;

    private final WorkshopContext ctx;
    private final MachineReadiness readiness;
    private final Replacement replacement;

    Heal(WorkshopContext ctx, MachineReadiness readiness, Replacement replacement) {
        this.ctx = ctx;
        this.readiness = readiness;
        this.replacement = replacement;
    }

    /** The outcome: seats still failing their checks, and spares still missing. */
    record Result(List<Integer> failingSeats, int missingSpares) {
        boolean healthy() {
            return failingSeats.isEmpty() && missingSpares == 0;
        }
    }

    /**
     * Checks the ready ones of {@code machines}, heals the seats that fail, moves the seats whose machine failed
     * provisioning onto a spare when one passes (without spares they are left to a re-run of {@code up}, which resumes
     * them), and keeps {@code spares} spares.
     */
    Result run(List<MachineRecord> machines, int spares) {
        List<MachineRecord> ready = machines.stream()
                .filter(r -> r.phase() == MachinePhase.READY && r.publicIp() != null).toList();
        Map<Integer, List<String>> failures = ready.isEmpty() ? Map.of() : readiness.failures(ready);
        List<MachineRecord> brokenSpares = new ArrayList<>();
        List<Integer> failingSeats = new ArrayList<>();
        for (MachineRecord r : ready) {
            List<String> failed = failures.get(r.attendee());
            if (failed.isEmpty()) {
                continue;
            }
            if (r.isSpare()) {
                ctx.out().println("heal: spare " + r.name() + " fails " + String.join(", ", failed) + ": replacing it");
                brokenSpares.add(r);
            } else {
                ctx.out().println("heal: seat " + Replacement.seat(r.seatNumber()) + " on " + r.name() + " fails "
                        + String.join(", ", failed));
                failingSeats.add(r.seatNumber());
            }
        }
        replacement.destroy(brokenSpares);
        List<Integer> stillFailing = new ArrayList<>();
        for (int seat : failingSeats) {
            if (!heal(seat)) {
                stillFailing.add(seat);
            }
        }
        List<Integer> unprovisioned = new ArrayList<>();
        for (MachineRecord r : machines) {
            if (!r.isSpare() && r.phase() != MachinePhase.READY) {
                unprovisioned.add(r.seatNumber());
            }
        }
        for (int seat : unprovisioned) {
            MachineRecord from = replacement.machineOf(seat);
            MachineRecord to = replacement.moveSeat(seat, "failed provisioning", false);
            if (to == null) {
                stillFailing.add(seat);
            } else {
                ctx.out().println("heal: seat " + Replacement.seat(seat) + " moved off " + (from == null ? "its machine"
                        : from.name()) + ", which failed provisioning, onto the spare " + to.name());
            }
        }
        return new Result(stillFailing.stream().sorted().toList(), replacement.topUpSpares(spares));
    }

    private boolean heal(int seat) {
        for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
            MachineRecord from = replacement.machineOf(seat);
            ctx.out().println("heal: seat " + Replacement.seat(seat) + ", attempt " + attempt + " of " + ATTEMPTS
                    + ": replacing " + (from == null ? "its machine" : from.name()));
            MachineRecord to = replacement.moveSeat(seat, "failed its checks");
            if (to != null) {
                ctx.out().println("heal: seat " + Replacement.seat(seat) + " healed on " + to.name()
                        + " (every check passed)");
                return true;
            }
            ctx.out().println("heal: seat " + Replacement.seat(seat) + ", attempt " + attempt + " of " + ATTEMPTS
                    + " failed: no machine passed its checks");
        }
        return false;
    }
}
