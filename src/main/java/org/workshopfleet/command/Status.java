package org.workshopfleet.command;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.workshopfleet.cloud.Cloud;
import org.workshopfleet.cloud.Machine;
import org.workshopfleet.cloud.ResourceRecorder;
import org.workshopfleet.error.FleetException;
import org.workshopfleet.report.PriceTable;
import org.workshopfleet.report.StatusTable;
import org.workshopfleet.spec.WorkshopSpec;
import org.workshopfleet.spec.WebEntry;
import org.workshopfleet.state.Ledger;
import org.workshopfleet.state.LedgerData;
import org.workshopfleet.state.StateFolder;

/** {@code status}: the ledger's machines with the cloud's live state. */
public final class Status {

    private final WorkshopContext ctx;

    /** @param ctx the workshop this command works on, and the steps it shares with the others */
    public Status(WorkshopContext ctx) {
        this.ctx = ctx;
    }

    /** Prints the table (the ledger only when the cloud cannot be asked); always 0. */
    public int run() {
        StateFolder folder = ctx.folder();
        if (!Ledger.exists(folder)) {
            ctx.out().println("workshop " + ctx.spec().name() + ": no ledger in " + folder.root()
                    + " (nothing launched from here)");
            return 0;
        }
        // No lock: status only reads, and the ledger reads consistently while a command writes it (see Ledger#open).
        Ledger ledger = ctx.openLedger(folder);
        WorkshopSpec spec = ctx.spec();
        Map<Integer, Machine> live = new HashMap<>();
        String cloudNote = "";
        try {
            ctx.wiring().credentials().check(spec);
            try (Cloud cloud = ctx.wiring().clouds().create(spec, ResourceRecorder.NONE)) {
                for (Machine m : cloud.listNodes()) {
                    live.put(m.attendee(), m);
                }
            }
        } catch (FleetException e) {
            cloudNote = " (cloud state unavailable: " + e.getMessage() + ")";
        }
        LedgerData data = ledger.snapshot();
        ctx.out().println("workshop " + data.workshop() + " on " + data.provider() + " " + data.region()
                + (data.isClosed() ? ", torn down " + data.closedAt() : "") + ", ingress from "
                + ledger.setting(WorkshopContext.SETTING_CIDR)
                + (WebEntry.Access.ANYWHERE.id().equals(ledger.setting(WorkshopContext.SETTING_ACCESS))
                ? " (443 from every address: -Daccess=anywhere)" : "") + cloudNote);
        ctx.out().print(StatusTable.render(Providers.ofLedger(data.provider()), data, List.copyOf(live.values()),
                PriceTable.load(), ctx.wiring().clock().instant()));
        return 0;
    }
}
