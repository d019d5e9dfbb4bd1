package org.workshopfleet.command;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.workshopfleet.cloud.Cloud;
import org.workshopfleet.cloud.CloudResource;
import org.workshopfleet.cloud.MachineState;
import org.workshopfleet.cloud.ResourceKind;
import org.workshopfleet.error.BadInput;
import org.workshopfleet.spec.Tags;
import org.workshopfleet.spec.WorkshopSpec;
import org.workshopfleet.state.Ledger;
import org.workshopfleet.state.StateFolder;
import org.workshopfleet.state.WorkshopLock;

/**
 * {@code teardown}: removes everything of the workshop (ledger ∪ tag search) and closes the ledger. An unreadable
 * ledger is moved aside and the resources are found by tag; a ledger whose machines the cloud does not know at all
 * (another account or region) is kept and the teardown refused, never reported as an all-clear.
 */
public final class Teardown {

    /** Ledger setting: the machines a teardown began to destroy (a re-run after a kill may find them gone). */
    static final String SETTING_TEARING_DOWN = "tearingDown";

    private final WorkshopContext ctx;

    /** @param ctx the workshop this command works on, and the steps it shares with the others */
    public Teardown(WorkshopContext ctx) {
        this.ctx = ctx;
    }

    /** After confirmation (unless {@code yes}); 0 once nothing is left, safe to repeat. */
    public int run(boolean yes) {
        try (WorkshopLock held = ctx.lock("teardown")) {
            return teardownLocked(yes);
        }
    }

    private int teardownLocked(boolean yes) {
        StateFolder folder = ctx.folder();
        boolean hasLedger = Ledger.exists(folder);
        Ledger ledger;
        try {
            ledger = ctx.openLedger(folder);
        } catch (Ledger.Unreadable e) {
            // Teardown is what must still work: the tags name everything of the workshop without the ledger. The file
            // is moved aside once confirmed, below.
            ledger = null;
        }
        WorkshopSpec spec = ctx.spec();
        ctx.wiring().credentials().check(spec);
        int known = ledger == null ? 0 : ledger.liveResources().size();
        ctx.out().println("teardown of workshop " + spec.name() + " on " + spec.provider().id() + " " + spec.region()
                + ": " + (ledger == null ? "the ledger is unreadable" : known + " resource(s) in the ledger")
                + (hasLedger ? "" : " (no ledger here)") + ", plus anything tagged " + Tags.WORKSHOP + "=" + spec.name());
        ctx.confirm(yes, "Destroy every machine and resource of workshop " + spec.name() + "?");
        if (ledger == null) {
            Path aside = Ledger.moveAside(folder, ctx.wiring().clock());
            ctx.out().println("ledger " + folder.ledgerFile() + " is unreadable: moved aside to " + aside.getFileName()
                    + "; tearing down by tag " + Tags.WORKSHOP + "=" + spec.name());
            ledger = Ledger.open(folder, spec.name(), spec.provider().id(), spec.region(), ctx.wiring().clock());
        }
        List<CloudResource> live = ledger.liveResources();
        try (Cloud cloud = ctx.wiring().clouds().create(spec, new TeardownProgress(ledger, live, ctx.out()))) {
            requireMachinesFound(cloud, ledger, live);
            ledger.putSetting(SETTING_TEARING_DOWN, String.join(",", machineIds(live)));
            cloud.teardown(live);
        }
        ledger.close();
        ctx.out().println("teardown done: nothing of workshop " + spec.name() + " is left running; ledger closed");
        return 0;
    }

    private static List<String> machineIds(List<CloudResource> live) {
        return live.stream().filter(r -> r.kind() == ResourceKind.INSTANCE || r.kind() == ResourceKind.LAB_MACHINE)
                .map(CloudResource::id).sorted().toList();
    }

    /**
     * Refuses a teardown that finds none of the ledger's machines by tag (nor, on EC2, by id): the credentials or the
     * region point elsewhere, and what the ledger names still runs. Not when an earlier teardown of the same machines
     * began (it may have destroyed them before it was stopped).
     */
    private void requireMachinesFound(Cloud cloud, Ledger ledger, List<CloudResource> live) {
        List<String> ids = machineIds(live);
        String begun = ledger.setting(SETTING_TEARING_DOWN);
        if (ids.isEmpty() || (begun != null && List.of(begun.split(",")).containsAll(ids))) {
            return;
        }
        if (!cloud.listNodes().isEmpty()) {
            return;
        }
        if (ctx.profile().findsMachinesById()
                && cloud.awaitRunning(ids, Duration.ZERO).stream().anyMatch(m -> m.state() != MachineState.UNKNOWN)) {
            return;
        }
        throw new BadInput("the ledger lists " + ids.size() + " machine(s) but none was found on "
                + ctx.spec().provider().id() + " " + ctx.spec().region() + " by id or tag: check"
                + " -Dprovider/-Dregion/credentials; ledger kept (if they were deleted outside workshop-fleet, move "
                + ledger.ledgerFileName() + " aside and re-run teardown, which then goes by tag)");
    }
}
