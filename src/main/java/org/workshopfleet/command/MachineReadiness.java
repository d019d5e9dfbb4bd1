package org.workshopfleet.command;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.workshopfleet.concurrent.FanOut;
import org.workshopfleet.provision.Verifier;
import org.workshopfleet.state.Ledger;
import org.workshopfleet.state.MachineRecord;
import org.workshopfleet.state.Secrets;

/**
 * The readiness checks of {@code verify} ({@link Verifier}, through the wiring's {@link ReadinessCheck}) on the
 * machines {@code up}'s heal and {@code replace} are about to count on, all at once.
 */
final class MachineReadiness {

    private final WorkshopContext ctx;
    private final Secrets secrets;
    private final Verifier verifier;

    MachineReadiness(WorkshopContext ctx, Ledger ledger, Secrets secrets) {
        this.ctx = ctx;
        this.secrets = secrets;
        this.verifier = ctx.verifier(ledger, secrets);
    }

    /** The names of the failed checks of each machine (empty: it passes), by machine number. */
    Map<Integer, List<String>> failures(List<MachineRecord> machines) {
        List<Callable<List<Verifier.Check>>> checks = new ArrayList<>();
        for (MachineRecord r : machines) {
            Verifier.Target t = ctx.verifyTarget(r, secrets);
            checks.add(() -> ctx.wiring().readiness().check(verifier, t));
        }
        List<FanOut.Outcome<List<Verifier.Check>>> outcomes = new FanOut("verify", ctx.spec().parallelism())
                .each(checks);
        Map<Integer, List<String>> failed = new LinkedHashMap<>();
        for (int i = 0; i < machines.size(); i++) {
            FanOut.Outcome<List<Verifier.Check>> o = outcomes.get(i);
            List<String> names = o.ok()
                    ? o.value().stream().filter(c -> !c.ok()).map(Verifier.Check::name).toList()
                    : List.of("checks");
            failed.put(machines.get(i).attendee(), names);
        }
        return failed;
    }
}
