package org.workshopfleet.command;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.workshopfleet.cloud.Cloud;
import org.workshopfleet.concurrent.FanOut;
import org.workshopfleet.error.BadInput;
import org.workshopfleet.error.Interrupted;
import org.workshopfleet.render.ExpiryTimer;
import org.workshopfleet.report.FleetSpend;
import org.workshopfleet.report.PriceTable;
import org.workshopfleet.spec.Tags;
import org.workshopfleet.spec.WorkshopSpec;
import org.workshopfleet.ssh.Remote;
import org.workshopfleet.ssh.SshLogin;
import org.workshopfleet.ssh.SshTarget;
import org.workshopfleet.state.Ledger;
import org.workshopfleet.state.MachinePhase;
import org.workshopfleet.state.MachineRecord;
import org.workshopfleet.state.Secrets;
import org.workshopfleet.state.StateFolder;
import org.workshopfleet.state.WorkshopLock;

/**
 * {@code extend}: moves the fleet's expiry to now + {@code -Dttl}: the {@code ExpiresAt} tags, each machine's power-off
 * timer (over SSH) and the ledger.
 */
public final class Extend {

    private final WorkshopContext ctx;

    /** @param ctx the workshop this command works on, and the steps it shares with the others */
    public Extend(WorkshopContext ctx) {
        this.ctx = ctx;
    }

    /** After confirmation (unless {@code yes}); 0 when every timer moved, 1 when some machine could not be reached. */
    public int run(boolean yes) {
        StateFolder folder = ctx.requireLedger("run up first");
        try (WorkshopLock held = ctx.lock("extend")) {
            return extendLocked(yes, folder);
        }
    }

    private int extendLocked(boolean yes, StateFolder folder) {
        Ledger ledger = ctx.openLedger(folder);
        WorkshopSpec spec = ctx.spec();
        ctx.wiring().credentials().check(spec);
        List<MachineRecord> machines = ledger.snapshot().machines().values().stream()
                .filter(r -> r.cloudId() != null && r.phase() != MachinePhase.DESTROYED)
                .sorted(Comparator.comparingInt(MachineRecord::attendee)).toList();
        if (machines.isEmpty()) {
            throw new BadInput("workshop " + spec.name() + " has no machine to extend: run up first");
        }
        Instant next = ctx.wiring().clock().instant().plus(spec.ttl());
        ctx.out().println("extend: workshop " + spec.name() + " expires " + ledger.setting(WorkshopContext.SETTING_EXPIRES_AT)
                + "; move it to " + next + " on " + machines.size() + " machine(s)" + extraCost(ledger, next));
        ctx.confirm(yes, "Move the expiry?");
        try (Cloud cloud = ctx.wiring().clouds().create(spec, ledger)) {
            // Clouds without tags (the lab) keep the expiry in the ledger and on the machine only.
            cloud.tagging().ifPresent(t -> t.retag(machines.stream().map(MachineRecord::cloudId).toList(),
                    Map.of(Tags.EXPIRES_AT, next.toString())));
        }
        List<String> failures = moveTimers(folder, machines, next);
        ledger.putSetting(WorkshopContext.SETTING_EXPIRES_AT, next.toString());
        ctx.out().println(failures.isEmpty() ? "extend: every machine now expires " + next
                : "extend: " + failures.size() + " machine(s) keep their old power-off time: " + String.join(", ", failures)
                + "; re-run -Daction=extend once they are reachable");
        return failures.isEmpty() ? 0 : 1;
    }

    /** Moves every machine's power-off timer, one line each; returns the names of those not moved. */
    private List<String> moveTimers(StateFolder folder, List<MachineRecord> machines, Instant next) {
        Secrets secrets = new Secrets(folder, ctx.spec().name());
        SshLogin login = new SshLogin(ctx.wiring().sshUser(), secrets.loginKey());
        List<Callable<String>> moves = new ArrayList<>();
        for (MachineRecord r : machines) {
            if (r.publicIp() == null) {
                // Launched but never given an address (e.g. failed at launch): nothing to reach, say so.
                moves.add(() -> "no address recorded");
                continue;
            }
            SshTarget target = new SshTarget(r.publicIp(), ctx.wiring().sshPort(),
                    secrets.hostKey(r).publicKeyNoComment());
            moves.add(() -> reschedule(target, login, next));
        }
        List<FanOut.Outcome<String>> outcomes;
        try {
            outcomes = new FanOut("extend", ctx.spec().parallelism()).each(moves);
        } catch (Interrupted e) {
            throw new Interrupted("extending the machines' expiry", e);
        }
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < machines.size(); i++) {
            FanOut.Outcome<String> o = outcomes.get(i);
            String problem = o.ok() ? o.value() : String.valueOf(o.failure().getMessage());
            ctx.out().println("  " + machines.get(i).name() + ": "
                    + (problem == null ? "power-off timer moved" : "NOT moved: " + problem));
            if (problem != null) {
                failures.add(machines.get(i).name());
            }
        }
        return failures;
    }

    /**
     * What the longer life costs, each machine at the price of the type it was launched with: {@code ; about $0.87 more
     * at list price (…)}; empty for the lab or when the expiry does not move later.
     */
    private String extraCost(Ledger ledger, Instant next) {
        if (!ctx.profile().billed()) {
            return "";
        }
        Instant now = ctx.wiring().clock().instant();
        Instant known = ctx.recordedExpiry(ledger);
        Instant from = known == null || known.isBefore(now) ? now : known;
        if (!next.isAfter(from)) {
            return "";
        }
        FleetSpend spend = FleetSpend.fromLedger(ledger.snapshot(), PriceTable.load(), ctx.profile(), ctx.spec().region(),
                ctx.profile().sizeName(ctx.spec()), now);
        return "; about " + spend.forLonger(Duration.between(from, next));
    }

    /** Moves one machine's timer; null when done, else the reason. */
    private String reschedule(SshTarget target, SshLogin login, Instant next) {
        try (Remote remote = Remote.await(target, login, Duration.ofSeconds(30))) {
            Remote.Result r = remote.exec(ExpiryTimer.rescheduleCommand(next));
            return r.exitCode() == 0 ? null : "exit " + r.exitCode() + " " + r.stderr().strip();
        }
    }
}
