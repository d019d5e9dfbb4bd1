package org.workshopfleet.command;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.workshopfleet.cloud.Cloud;
import org.workshopfleet.cloud.LaunchContext;
import org.workshopfleet.error.Interrupted;
import org.workshopfleet.provision.MachineResult;
import org.workshopfleet.spec.Tags;
import org.workshopfleet.state.Ledger;
import org.workshopfleet.state.MachinePhase;
import org.workshopfleet.state.MachineRecord;

/**
 * Moves a seat onto another machine: a spare that passes the readiness checks now, else a new machine made, provisioned
 * and checked for it; then destroys the seat's old machine, and makes new spares to keep their number. New machines
 * launch from the fleet's baked image when it still fits ({@link ReplacementImage}), else from the stock image. The ledger is
 * written before and after each cloud call, in an order a crash can stop anywhere: the old machine is retired (so no
 * seat counts on it, and {@code up} and {@code teardown} still destroy it) before the spare takes the seat, and a
 * new machine is recorded (as a spare) before its launch. A spare that fails its checks is retired and destroyed.
 */
final class Replacement {

    private final WorkshopContext ctx;
    private final FleetRun run;
    private final Cloud cloud;
    private final LaunchContext context;
    private final MachineReadiness readiness;
    private final ReplacementImage image;
    private boolean prepared;

    /**
     * @param prepared whether {@code cloud.prepare(context)} ran in this command already; if not, it runs before the
     *                 first new machine (moving a seat onto a spare needs no key pair or ingress call)
     */
    Replacement(WorkshopContext ctx, FleetRun run, Cloud cloud, LaunchContext context, MachineReadiness readiness,
                boolean prepared) {
        this(ctx, run, cloud, context, readiness, prepared, new ReplacementImage(ctx, run.ledger(), cloud));
    }

    /** As above, new machines launching from {@code image}'s choice (shared with the command's own launches). */
    Replacement(WorkshopContext ctx, FleetRun run, Cloud cloud, LaunchContext context, MachineReadiness readiness,
                boolean prepared, ReplacementImage image) {
        this.prepared = prepared;
        this.ctx = ctx;
        this.run = run;
        this.cloud = cloud;
        this.context = context;
        this.readiness = readiness;
        this.image = image;
    }

    /** The live machine serving {@code seat}, or null. */
    MachineRecord machineOf(int seat) {
        return live().stream().filter(r -> !r.isSpare() && r.seatNumber() == seat).findFirst().orElse(null);
    }

    /**
     * Moves {@code seat} onto a machine that passes every check, retiring and destroying its old machine. Returns the
     * machine that now serves the seat, or null when neither a spare nor a new machine passed (the seat keeps its old
     * machine then).
     */
    MachineRecord moveSeat(int seat, String why) {
        return moveSeat(seat, why, true);
    }

    /** As {@link #moveSeat(int, String)}; with {@code orNew} false only onto a spare (null when none passes). */
    MachineRecord moveSeat(int seat, String why, boolean orNew) {
        MachineRecord target = verifiedSpare();
        if (target == null && !orNew) {
            return null;
        }
        if (target == null) {
            ctx.out().println("replace: no spare ready for seat " + seat(seat) + ": making a new machine for it");
            List<MachineRecord> made = newSpares(1);
            if (made.isEmpty()) {
                return null;
            }
            target = made.get(0);
        }
        Ledger ledger = run.ledger();
        MachineRecord old = machineOf(seat);
        String to = target.name();
        if (old != null) {
            ledger.updateMachine(old.attendee(), old.name(), r -> r.retired("replaced by " + to + ": " + why));
        }
        MachineRecord moved = ledger.updateMachine(target.attendee(), target.name(), r -> r.forSeat(seat));
        retag(moved, seat);
        ctx.out().println("replace: seat " + seat(seat) + " is now on " + moved.name() + " (" + moved.publicIp() + ")"
                + (old == null ? "" : ", was on " + old.name()));
        if (old != null) {
            destroy(List.of(old));
        }
        return moved;
    }

    /** Makes and checks new spares until {@code wanted} live spares exist; returns how many are missing still. */
    int topUpSpares(int wanted) {
        long have = live().stream().filter(MachineRecord::isSpare).count();
        if (have >= wanted) {
            return 0;
        }
        int missing = (int) (wanted - have);
        ctx.out().println("replace: making " + missing + " new spare(s) to keep " + wanted);
        return missing - newSpares(missing).size();
    }

    /** The first ready spare that passes every check now; those that fail are retired and destroyed. */
    private MachineRecord verifiedSpare() {
        List<MachineRecord> spares = live().stream()
                .filter(r -> r.isSpare() && r.phase() == MachinePhase.READY && r.publicIp() != null).toList();
        for (MachineRecord spare : spares) {
            List<String> failed = readiness.failures(List.of(spare)).get(spare.attendee());
            if (failed.isEmpty()) {
                return spare;
            }
            ctx.out().println("replace: spare " + spare.name() + " fails " + String.join(", ", failed)
                    + ": destroying it");
            destroy(List.of(spare));
        }
        return null;
    }

    /**
     * Launches, provisions and checks {@code k} new spares; returns those that passed. Those that failed are
     * destroyed. Ctrl-C during their provisioning is an {@link Interrupted}.
     */
    List<MachineRecord> newSpares(int k) {
        Map<Integer, Integer> numbers = new TreeMap<>();
        Set<Integer> used = Roster.usedNumbers(run.ledger().snapshot());
        int next = ctx.spec().count();
        for (int i = 0; i < k; i++) {
            next = Roster.nextFree(next, used, numbers);
            numbers.put(next, MachineRecord.SPARE);
        }
        Provisioning provisioning = new Provisioning(ctx, run, cloud);
        if (!prepared) {
            cloud.prepare(context);
            prepared = true;
        }
        Provisioning.Rendered rendered = provisioning.render(numbers.keySet());
        LaunchContext from = image.launchContext(context, rendered.bundles().values().iterator().next());
        Provisioning.Outcome outcome = provisioning.run(from, numbers, rendered,
                "replace: " + ctx.spec().name() + ", " + k + " new machine(s) on " + ctx.spec().provider().id());
        if (outcome.interrupted()) {
            throw new Interrupted("making new machines; re-run to resume (every machine is in the ledger)");
        }
        List<MachineRecord> ready = new ArrayList<>();
        List<MachineRecord> broken = new ArrayList<>();
        for (MachineResult result : outcome.results()) {
            MachineRecord r = run.ledger().snapshot().machines().get(result.attendee());
            if (result.ok()) {
                ready.add(r);
            } else {
                ctx.out().println("replace: new machine " + result.name() + " failed at " + result.failedStep() + ": "
                        + result.error());
                broken.add(r);
            }
        }
        Map<Integer, List<String>> failures = ready.isEmpty() ? Map.of() : readiness.failures(ready);
        List<MachineRecord> passed = new ArrayList<>();
        for (MachineRecord r : ready) {
            List<String> failed = failures.get(r.attendee());
            if (failed.isEmpty()) {
                passed.add(r);
            } else {
                ctx.out().println("replace: new machine " + r.name() + " fails " + String.join(", ", failed));
                broken.add(r);
            }
        }
        destroy(broken);
        return passed;
    }

    /** Retires, destroys and forgets these machines: retired in the ledger first, removed once the cloud is done. */
    void destroy(List<MachineRecord> machines) {
        if (machines.isEmpty()) {
            return;
        }
        Ledger ledger = run.ledger();
        List<String> ids = new ArrayList<>();
        for (MachineRecord r : machines) {
            if (r.isLive()) {
                ledger.updateMachine(r.attendee(), r.name(), x -> x.retired("destroyed by replace"));
            }
            if (r.cloudId() != null) {
                ids.add(r.cloudId());
            }
        }
        ctx.out().println("replace: destroying " + String.join(", ", machines.stream().map(MachineRecord::name).toList()));
        if (!ids.isEmpty()) {
            cloud.destroyNodes(ids);
        }
        for (MachineRecord r : machines) {
            ledger.removeMachine(r.attendee());
            run.secrets().forget(r.attendee());
        }
    }

    /** The seat on the machine's cloud tags too, where the cloud has tags (the lab keeps it in the ledger only). */
    private void retag(MachineRecord r, int seat) {
        if (r.cloudId() != null) {
            cloud.tagging().ifPresent(t -> t.retag(List.of(r.cloudId()), Map.of(Tags.SEAT, WorkshopContext.seatTag(seat))));
        }
    }

    private List<MachineRecord> live() {
        return run.ledger().snapshot().machines().values().stream().filter(MachineRecord::isLive)
                .sorted(Comparator.comparingInt(MachineRecord::attendee)).toList();
    }

    static String seat(int seat) {
        return String.format(java.util.Locale.ROOT, "%02d", seat);
    }
}
