package org.workshopfleet.command;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.IntStream;
import org.workshopfleet.concurrent.FanOut;
import org.workshopfleet.error.BadInput;
import org.workshopfleet.error.Interrupted;
import org.workshopfleet.provision.Verifier;
import org.workshopfleet.report.TerminalText;
import org.workshopfleet.spec.WorkshopSpec;
import org.workshopfleet.state.Ledger;
import org.workshopfleet.state.MachinePhase;
import org.workshopfleet.state.MachineRecord;
import org.workshopfleet.state.Secrets;
import org.workshopfleet.state.StateFolder;

/** {@code verify}: the "ready" checks on every machine of the ledger, as a machine × check matrix. */
public final class Verify {

    private final WorkshopContext ctx;

    /** @param ctx the workshop this command works on, and the steps it shares with the others */
    public Verify(WorkshopContext ctx) {
        this.ctx = ctx;
    }

    /** 0 when every check passed on every machine, 1 otherwise; refuses (2) without a ledger or an addressed machine. */
    public int run() {
        StateFolder folder = ctx.requireLedger("run up first, or pass -Dname / -DstateDir of the fleet to verify");
        // No lock: verify only reads the ledger and the secrets up wrote, and checks the machines.
        Ledger ledger = ctx.openLedger(folder);
        WorkshopSpec spec = ctx.spec();
        Secrets secrets = new Secrets(folder, spec.name());
        List<MachineRecord> machines = ledger.snapshot().machines().values().stream()
                .filter(r -> r.publicIp() != null && r.phase() != MachinePhase.DESTROYED)
                .sorted(Comparator.comparingInt(MachineRecord::attendee)).toList();
        if (machines.isEmpty()) {
            throw new BadInput("workshop " + spec.name() + " has no machine with an address: run up first");
        }
        Verifier verifier = ctx.verifier(ledger, secrets);
        List<Callable<List<Verifier.Check>>> checks = new ArrayList<>();
        for (MachineRecord r : machines) {
            Verifier.Target t = ctx.verifyTarget(r, secrets);
            checks.add(() -> verifier.verify(t));
        }
        List<FanOut.Outcome<List<Verifier.Check>>> outcomes;
        try {
            outcomes = new FanOut("verify", spec.parallelism()).each(checks);
        } catch (Interrupted e) {
            throw new Interrupted("verifying the machines", e);
        }
        Map<String, List<Verifier.Check>> matrix = new LinkedHashMap<>();
        for (int i = 0; i < machines.size(); i++) {
            FanOut.Outcome<List<Verifier.Check>> o = outcomes.get(i);
            matrix.put(machines.get(i).name(), o.ok() ? o.value()
                    : List.of(new Verifier.Check("checks", false, String.valueOf(o.failure()))));
        }
        return printMatrix(ctx.out(), matrix) ? 0 : 1;
    }

    /** Prints the matrix and the failures' details; true when everything passed. */
    static boolean printMatrix(PrintStream out, Map<String, List<Verifier.Check>> matrix) {
        List<String> checks = new ArrayList<>();
        matrix.values().forEach(list -> list.forEach(c -> {
            if (!checks.contains(c.name())) {
                checks.add(c.name());
            }
        }));
        StringBuilder header = new StringBuilder(String.format(Locale.ROOT, "%-16s", "MACHINE"));
        for (int i = 0; i < checks.size(); i++) {
            header.append(String.format(Locale.ROOT, " %4d", i + 1));
        }
        out.println(header);
        boolean allOk = true;
        List<String> details = new ArrayList<>();
        for (Map.Entry<String, List<Verifier.Check>> e : matrix.entrySet()) {
            StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "%-16s", e.getKey()));
            for (String name : checks) {
                Verifier.Check c = e.getValue().stream().filter(x -> x.name().equals(name)).findFirst().orElse(null);
                String cell = c == null ? "-" : c.ok() ? "ok" : "FAIL";
                if (c == null || !c.ok()) {
                    allOk = false;
                    details.add(e.getKey() + " " + name + ": " + (c == null ? "not run" : c.detail()));
                }
                row.append(String.format(Locale.ROOT, " %4s", cell));
            }
            out.println(row);
        }
        out.println("checks: " + String.join(", ", IntStream.range(0, checks.size())
                .mapToObj(i -> (i + 1) + "=" + checks.get(i)).toList()));
        details.forEach(d -> out.println("  FAIL " + TerminalText.clean(d)));
        out.println(allOk ? "verify: all " + matrix.size() + " machine(s) pass every check"
                : "verify: " + details.size() + " failed check(s)");
        return allOk;
    }
}
