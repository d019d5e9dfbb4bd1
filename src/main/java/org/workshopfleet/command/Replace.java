package org.workshopfleet.command;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.Collectors;
import org.workshopfleet.cloud.Cloud;
import org.workshopfleet.cloud.IngressRule;
import org.workshopfleet.cloud.LaunchContext;
import org.workshopfleet.error.BadInput;
import org.workshopfleet.report.AttendeeCard;
import org.workshopfleet.report.Handout;
import org.workshopfleet.spec.Cidr;
import org.workshopfleet.spec.WorkshopSpec;
import org.workshopfleet.tls.TlsMaterial;
import org.workshopfleet.state.Ledger;
import org.workshopfleet.state.MachineRecord;
import org.workshopfleet.state.StateFolder;
import org.workshopfleet.state.WorkshopLock;

/**
 * {@code replace -Dseat=N}: moves seat N onto a spare that passes every readiness check now (else onto a new machine
 * made and checked for it), prints the seat's new card (and writes it alone, {@code handout/seat-NN.html}) and rewrites
 * the handout, destroys the seat's old machine, and makes new spares to keep as many as {@code up} was given. New
 * machines launch from the image {@code up -Dimage=bake} launched the fleet from while it still fits the project
 * ({@link ReplacementImage}). See {@link Replacement} for the order of ledger writes and cloud calls.
 */
public final class Replace {

    private final WorkshopContext ctx;

    /** @param ctx the workshop this command works on, and the steps it shares with the others */
    public Replace(WorkshopContext ctx) {
        this.ctx = ctx;
    }

    /** 0 once the seat is on a verified machine and the spares are made up; 1 otherwise; 2 for a bad seat. */
    public int run(boolean yes, int seat) {
        try (WorkshopLock held = ctx.lock("replace")) {
            return replaceLocked(yes, seat);
        }
    }

    private int replaceLocked(boolean yes, int seat) {
        Instant started = ctx.wiring().clock().instant();
        StateFolder folder = ctx.requireLedger("run up first, or pass -Dname / -DstateDir of the fleet");
        Ledger ledger = ctx.openLedger(folder);
        WorkshopSpec spec = ctx.spec();
        List<Integer> seats = ledger.snapshot().machines().values().stream()
                .filter(r -> r.isLive() && !r.isSpare()).map(MachineRecord::seatNumber).sorted().distinct().toList();
        if (!seats.contains(seat)) {
            throw new BadInput("seat " + seat + " is not a seat of workshop " + spec.name() + ": its seats are "
                    + (seats.isEmpty() ? "none (run up first)" : seats.stream().map(String::valueOf)
                    .collect(Collectors.joining(", "))) + "; use -Dseat= one of them");
        }
        ctx.wiring().credentials().check(spec);
        String recordedCidr = ledger.setting(WorkshopContext.SETTING_CIDR);
        Cidr cidr = recordedCidr != null ? Cidr.parse(recordedCidr) : ctx.resolveCidr();
        Instant expiresAt = ctx.expiry(ledger);
        // The new machine opens what up opened (-Daccess as recorded), not what this command line says.
        List<IngressRule> ingress = ctx.ingressRules(ctx.recordedAccess(ledger));
        TlsMaterial givenTls = ctx.givenTls(ledger, expiresAt);
        int spares = spares(ledger);
        MachineRecord old = ledger.snapshot().machines().values().stream()
                .filter(r -> r.isLive() && !r.isSpare() && r.seatNumber() == seat).findFirst().orElseThrow();
        ctx.out().println("replace: seat " + Replacement.seat(seat) + " on " + old.name() + "; "
                + ledger.snapshot().machines().values().stream().filter(r -> r.isLive() && r.isSpare()).count()
                + " spare(s), " + spares + " kept");
        ctx.confirm(yes, "Move seat " + seat + " off " + old.name() + " (destroying it) onto a verified spare?");

        FleetRun run = FleetRun.open(ctx, folder, ledger, expiresAt, givenTls);
        LaunchContext context = new LaunchContext(run.loginKey().publicKeyLine(), cidr, ingress, expiresAt);
        try (Cloud cloud = ctx.wiring().clouds().create(spec, ledger)) {
            MachineReadiness readiness = new MachineReadiness(ctx, ledger, run.secrets());
            Replacement replacement = new Replacement(ctx, run, cloud, context, readiness, false);
            MachineRecord moved = replacement.moveSeat(seat, "-Daction=replace");
            Handout handout = Handout.fromLedger(ledger.snapshot(), run.secrets(), Handout.DEFAULT_TITLE,
                    ctx.wiring().clock().instant(), ctx.seatNames(ledger));
            Path page = handout.writeTo(folder);
            if (moved == null) {
                ctx.out().println("replace: seat " + Replacement.seat(seat) + " stays on " + old.name()
                        + ": no spare and no new machine passed every check; see the lines above, then re-run");
                return 1;
            }
            printCard(handout.seatCard(seat).orElseThrow(), handout.writeSeatCard(folder, seat), page);
            ctx.out().println("replace: seat " + Replacement.seat(seat) + " verified on " + moved.name() + " in "
                    + Duration.between(started, ctx.wiring().clock().instant()).toSeconds() + " s");
            int missing = replacement.topUpSpares(spares);
            // Again with the new spares' cards.
            Path rewritten = Handout.fromLedger(ledger.snapshot(), run.secrets(), Handout.DEFAULT_TITLE,
                    ctx.wiring().clock().instant(), ctx.seatNames(ledger)).writeTo(folder);
            ctx.out().println("handout: " + rewritten + " rewritten");
            if (missing > 0) {
                ctx.out().println("replace: " + missing + " of " + spares + " spare(s) could not be made to pass their"
                        + " checks; run up to make them");
                return 1;
            }
            return 0;
        }
    }

    /** The spares {@code up} was given (a ledger setting), else as many as live now. */
    private static int spares(Ledger ledger) {
        String recorded = ledger.setting(Up.SETTING_SPARES);
        if (recorded != null && recorded.matches("[0-9]{1,3}")) {
            return Integer.parseInt(recorded);
        }
        return (int) ledger.snapshot().machines().values().stream().filter(r -> r.isLive() && r.isSpare()).count();
    }

    /** The new card on the console, passwords left to the printed card (the console may be projected or logged). */
    private void printCard(AttendeeCard card, Path alone, Path handout) {
        ctx.out().println("new card for seat " + Replacement.seat(card.attendee()) + ": machine " + card.machineName());
        ctx.out().println("  terminal " + card.terminalUrl());
        ctx.out().println("  web      " + card.webUrl());
        ctx.out().println("  grafana  " + card.grafanaHttpsUrl() + " (user " + card.grafanaUser() + "; also "
                + card.grafanaUrl() + ")");
        ctx.out().println("  shell    " + card.sshCommand());
        ctx.out().println("  host key " + card.hostKey());
        if (card.tlsSha256() != null) {
            ctx.out().println("  TLS cert SHA-256 " + card.tlsSha256());
        }
        String record = org.workshopfleet.report.DnsRecords.record(card);
        if (record != null) {
            // The seat's name must now point at the new machine.
            ctx.out().println("  update DNS: " + record);
        }
        ctx.out().println("  print it: " + alone + " (passwords on the card; the whole handout: " + handout + ")");
    }
}
