package org.workshopfleet.command;

import java.nio.file.Path;
import org.workshopfleet.state.Ledger;
import org.workshopfleet.state.Secrets;
import org.workshopfleet.state.StateFolder;
import org.workshopfleet.state.WorkshopLock;

/** {@code handout}: rewrites the attendee cards, CSV and JSON from the ledger and the secrets. */
public final class Handout {

    private final WorkshopContext ctx;

    /** @param ctx the workshop this command works on, and the steps it shares with the others */
    public Handout(WorkshopContext ctx) {
        this.ctx = ctx;
    }

    /** Writes {@code workshops/<name>/handout/}; 0, or refuses (exit 2) when the workshop has no ledger. */
    public int run() {
        StateFolder folder = ctx.requireLedger("run up first, or pass -Dname / -DstateDir of the fleet");
        try (WorkshopLock held = ctx.lock("handout")) {
            Ledger ledger = ctx.openLedger(folder);
            Path page = org.workshopfleet.report.Handout.fromLedger(ledger.snapshot(),
                    new Secrets(folder, ctx.spec().name()), org.workshopfleet.report.Handout.DEFAULT_TITLE,
                    ctx.wiring().clock().instant(), ctx.seatNames(ledger)).writeTo(folder);
            ctx.out().println("handout: " + page + " (+ attendees.csv, attendees.json)");
            return 0;
        }
    }
}
