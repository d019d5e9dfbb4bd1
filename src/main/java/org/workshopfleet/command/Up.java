package org.workshopfleet.command;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.workshopfleet.bake.ImageBaker;
import org.workshopfleet.bake.ImageMode;
import org.workshopfleet.bake.ImageRecipe;
import org.workshopfleet.cloud.Cloud;
import org.workshopfleet.cloud.IngressRule;
import org.workshopfleet.cloud.LaunchContext;
import org.workshopfleet.cloud.Machine;
import org.workshopfleet.cloud.MachineImage;
import org.workshopfleet.cloud.NodeRequest;
import org.workshopfleet.error.ExitCode;
import org.workshopfleet.provision.MachineResult;
import org.workshopfleet.provision.Pipeline;
import org.workshopfleet.provision.ProvisionListener;
import org.workshopfleet.provision.Runner;
import org.workshopfleet.render.Bundle;
import org.workshopfleet.render.MachineModel;
import org.workshopfleet.report.DnsRecords;
import org.workshopfleet.report.FleetSpend;
import org.workshopfleet.report.Handout;
import org.workshopfleet.report.PlanSummary;
import org.workshopfleet.report.PriceTable;
import org.workshopfleet.report.ProgressBoard;
import org.workshopfleet.report.ProvisionBoard;
import org.workshopfleet.report.TerminalText;
import org.workshopfleet.spec.Cidr;
import org.workshopfleet.spec.Tags;
import org.workshopfleet.spec.WorkshopSpec;
import org.workshopfleet.ssh.SshKeyPair;
import org.workshopfleet.ssh.SshLogin;
import org.workshopfleet.tls.TlsMaterial;
import org.workshopfleet.state.BakedImage;
import org.workshopfleet.state.Ledger;
import org.workshopfleet.state.MachinePhase;
import org.workshopfleet.state.MachineRecord;
import org.workshopfleet.state.Secrets;
import org.workshopfleet.state.StateFolder;
import org.workshopfleet.state.WorkshopLock;

/**
 * {@code up}: brings the fleet to {@code -Dcount} ready machines and {@code -Dspares} spares ({@link Roster} says which
 * machine serves which seat). Prints the plan and asks (unless {@code -Dyes}), prepares the cloud, removes a surplus,
 * bakes the image if asked, launches the missing machines (from the fleet's baked image when it recorded one that
 * still fits, {@link ReplacementImage}) and provisions all of them concurrently ({@link Provisioning}), prints the
 * results, checks every machine and heals the seats that fail ({@link Heal}), and writes the handout. "ready" means
 * every seat verified. Re-running resumes.
 */
public final class Up {

    /** Ledger setting written by {@code up}: the spares the fleet keeps, which {@code replace} makes up again. */
    static final String SETTING_SPARES = "spares";

    private final WorkshopContext ctx;

    /** @param ctx the workshop this command works on, and the steps it shares with the others */
    public Up(WorkshopContext ctx) {
        this.ctx = ctx;
    }

    /**
     * 0 when every seat's machine is ready and passed every check (and every spare is there); 1 when one failed (or
     * the bake did); 2 when refused before anything changed; 130 when stopped by Ctrl-C.
     */
    public int run(boolean yes, ImageMode image) {
        try (WorkshopLock held = ctx.lock("up")) {
            return upLocked(yes, image);
        }
    }

    private int upLocked(boolean yes, ImageMode image) {
        StateFolder folder = ctx.folder();
        Ledger ledger = ctx.openLedger(folder);
        WorkshopSpec spec = ctx.spec();
        ctx.wiring().credentials().check(spec);
        Cidr cidr = ctx.resolveCidr();
        Roster roster = Roster.of(ledger.snapshot(), spec.count(), spec.spares());
        List<MachineRecord> surplus = roster.surplus().stream().filter(MachineRecord::isLive).toList();
        Instant expiresAt = ctx.expiry(ledger);
        List<IngressRule> ingress = ctx.ingressRules();
        TlsMaterial givenTls = ctx.givenTls(ledger, expiresAt);

        ctx.out().println(planLine(ledger, roster, ingress, cidr.toString(), expiresAt));
        if (!surplus.isEmpty()) {
            ctx.out().println("count " + spec.count() + (spec.spares() > 0 ? " and spares " + spec.spares() : "")
                    + " is smaller than the fleet: these machines would be destroyed: "
                    + String.join(", ", surplus.stream().map(MachineRecord::name).toList()));
        }
        ctx.confirm(yes, surplus.isEmpty() ? "Launch and provision?"
                : "Destroy the surplus machines, then launch and provision?");

        FleetRun run = FleetRun.open(ctx, folder, ledger, expiresAt, givenTls);
        LaunchContext context = new LaunchContext(run.loginKey().publicKeyLine(), cidr, ingress, expiresAt);
        try (Cloud cloud = ctx.wiring().clouds().create(spec, ledger)) {
            return onCloud(run, cloud, context, cidr, roster, image);
        }
    }

    /** From the first cloud call on: capacity, settings, prepare, surplus, bake, launch and provision, heal. */
    private int onCloud(FleetRun run, Cloud cloud, LaunchContext context, Cidr cidr, Roster roster, ImageMode image) {
        // Render every machine before the first cloud call: a broken template or oversized user data is bad input
        // and must fail before anything exists (and never after machines were launched).
        Provisioning provisioning = new Provisioning(ctx, run, cloud);
        Provisioning.Rendered rendered = provisioning.render(roster.keep().keySet());
        // Before anything exists: a fleet the account's quota cannot hold is refused here, not half-launched.
        cloud.capacity().flatMap(c -> c.checkCapacity(roster.machines()))
                .ifPresent(notice -> ctx.out().println("notice: " + notice));
        WorkshopSpec spec = ctx.spec();
        run.ledger().putSetting(WorkshopContext.SETTING_CIDR, cidr.toString());
        run.ledger().putSetting(WorkshopContext.SETTING_EXPIRES_AT, run.expiresAt().toString());
        run.ledger().putSetting(SETTING_SPARES, String.valueOf(spec.spares()));
        // allow-ip and replace keep what up opened; handout and replace name the cards as up did.
        run.ledger().putSetting(WorkshopContext.SETTING_ACCESS, spec.web().access().id());
        // What the fleet keeps (recorded, or given for a new one): a later up without the options keeps them.
        String pattern = ctx.hostnamePattern(run.ledger());
        WorkshopContext.TlsFiles tls = ctx.tlsFiles(run.ledger());
        run.ledger().putSetting(WorkshopContext.SETTING_HOSTNAME_PATTERN, pattern == null ? "" : pattern);
        run.ledger().putSetting(WorkshopContext.SETTING_TLS_CERT, tls == null ? "" : tls.cert().toString());
        run.ledger().putSetting(WorkshopContext.SETTING_TLS_KEY, tls == null ? "" : tls.key().toString());
        cloud.prepare(context);
        removeSurplus(cloud, run, roster);
        LaunchContext launchFrom = context;
        if (image == ImageMode.BAKE) {
            try {
                launchFrom = context.withImage(bakedImage(run, cloud, context,
                        rendered.bundles().values().iterator().next()).id());
            } catch (ImageBaker.Failed e) {
                // Reported like a failed machine of a normal up (step, reason, log tail), then what it means here.
                ctx.printTable(List.of(e.builder()));
                ctx.out().println(TerminalText.clean(e.getMessage()));
                ctx.out().println("the builder " + e.builder().name() + " was destroyed; nothing was baked: " + e.next());
                return 1;
            }
        }
        // Missing machines of a fleet baked earlier launch from its image, as replace and heal do (one line says
        // which image, or why the stock one).
        ReplacementImage fleetImage = new ReplacementImage(ctx, run.ledger(), cloud);
        Bundle anyMachine = rendered.bundles().values().iterator().next();
        Provisioning.Outcome outcome = provisioning.run(launchFrom, c -> fleetImage.launchContext(c, anyMachine),
                roster.keep(), rendered, "up: " + spec.name() + ", "
                + spec.count() + " machine(s)" + (spec.spares() > 0 ? " + " + spec.spares() + " spare(s)" : "")
                + " on " + spec.provider().id());
        if (outcome.interrupted()) {
            ctx.out().println(Runner.INTERRUPTED_NOTICE);
            return ExitCode.INTERRUPTED;
        }
        return finish(run, cloud, launchFrom, fleetImage, outcome.results());
    }

    /**
     * The image of this fleet's recipe: found on the cloud, or baked now (see {@link ImageBaker}), and recorded in the
     * ledger as the fleet's image ({@link BakedImage}). A builder that ran
     * without an exporter pin records the hash it observed in the ledger, as the first machine of a stock fleet does:
     * the attendees launched from the image are compared with it, and later runs receive it as their pin.
     */
    private MachineImage bakedImage(FleetRun run, Cloud cloud, LaunchContext context, Bundle anyMachine) {
        WorkshopSpec spec = ctx.spec();
        ImageRecipe recipe = ImageRecipe.of(ctx.profile().stockImage(spec.region(), ctx.projectRoot()), anyMachine);
        int b = ImageBaker.BUILDER_ATTENDEE;
        Secrets secrets = run.secrets();
        MachineModel builder = new MachineModel(run.machineSpec(), b, spec.name() + "-bake", ctx.profile().os(),
                secrets.hostKey(b), run.loginKey().publicKeyLine(), secrets.grafanaPassword(b), secrets.sshPassword(b),
                run.expiresAt());
        Map<String, String> tags = ctx.tags(b, run.expiresAt());
        tags.put(Tags.NAME, builder.hostname());
        ImageBaker.Builder request = new ImageBaker.Builder(
                new NodeRequest(b, builder.hostname(), run.renderer().userData(builder, cloud.profile().userDataFormat()), tags),
                builder.hostKey().publicKeyNoComment(), recipe.builderBundle(run.renderer().bundle(builder)));
        Wiring wiring = ctx.wiring();
        ImageBaker.Baked made = new ImageBaker(new SshLogin(wiring.sshUser(), run.loginKey()), wiring.layout(),
                wiring.sshPort(), run.folder().logsDir(), wiring.launchTimeout(), wiring.sshTimeout(),
                Duration.ofMinutes(60), ctx.out()).ensure(cloud, context, recipe, request);
        secrets.forget(b);
        // Before any machine is launched from it: replace and a later up's heal launch theirs from the same image.
        run.ledger().putImage(new BakedImage(made.image().id(), recipe.hash()));
        if (made.builderEbpfExporterSha256() != null && run.machineSpec().sources().ebpfExporterSha256().isEmpty()) {
            run.ledger().putSetting(Runner.EBPF_SETTING, made.builderEbpfExporterSha256());
        }
        return made.image();
    }

    /**
     * The results table, the exporter hash note, then the heal ({@link Heal}): of the machines that fail their checks,
     * and of those that failed provisioning where a spare can take their seat; the handout, and the verdict: 0 only
     * when every seat's machine passed every check and every spare is there.
     */
    private int finish(FleetRun run, Cloud cloud, LaunchContext context, ReplacementImage fleetImage,
                       List<MachineResult> results) {
        ctx.printResults(results);
        String recorded = run.ledger().setting(Runner.EBPF_SETTING);
        if (run.exporterPin().isEmpty() && recorded != null) {
            ctx.out().println("ebpf_exporter.x86_64: recorded SHA-256 " + recorded + " (no pin given): later machines"
                    + " and re-runs verify their download against it, and verify runs the binary only when it matches");
        }
        MachineReadiness readiness = new MachineReadiness(ctx, run.ledger(), run.secrets());
        Heal.Result healed = new Heal(ctx, readiness, new Replacement(ctx, run, cloud, context, readiness, true,
                fleetImage))
                .run(run.ledger().snapshot().machines().values().stream().filter(MachineRecord::isLive).toList(),
                        ctx.spec().spares());
        Handout cards = Handout.fromLedger(run.ledger().snapshot(), run.secrets(), Handout.DEFAULT_TITLE,
                ctx.wiring().clock().instant(), ctx.seatNames(run.ledger()));
        Path handout = cards.writeTo(run.folder());
        ctx.out().println("handout: " + handout + " (print it: one card per attendee; it holds their passwords)");
        String records = DnsRecords.zoneBlock(cards.cards());
        if (!records.isEmpty()) {
            ctx.out().print(records);
        }
        if (!healed.failingSeats().isEmpty()) {
            ctx.out().println("not ready: seat(s) " + String.join(", ", healed.failingSeats().stream()
                    .map(Replacement::seat).toList()) + " not verified (failed provisioning with no spare to move"
                    + " to, or failed their checks on " + Heal.ATTEMPTS + " more machines each): fix and re-run up"
                    + " (finished steps are skipped), or -Daction=replace -Dseat=N");
            return 1;
        }
        if (healed.missingSpares() > 0 || !results.stream().allMatch(r -> r.ok() || healedSeat(run, r))) {
            ctx.out().println("not ready: " + healed.missingSpares() + " of " + ctx.spec().spares()
                    + " spare(s) missing or not provisioned; re-run up to make them");
            return 1;
        }
        ctx.out().println("ready: all " + ctx.spec().count() + " seat(s) verified"
                + (ctx.spec().spares() > 0 ? ", " + ctx.spec().spares() + " verified spare(s)" : ""));
        return 0;
    }

    /** Whether a machine that failed provisioning no longer matters: it was moved off, or is a spare now replaced. */
    private static boolean healedSeat(FleetRun run, MachineResult failed) {
        MachineRecord r = run.ledger().snapshot().machines().get(failed.attendee());
        return r == null || !r.isLive();
    }

    /**
     * Destroys the surplus, if any: the roster's (each retired in the ledger first) and the machines the cloud runs
     * that the roster does not keep; removed from the ledger once the cloud destroyed them.
     */
    private void removeSurplus(Cloud cloud, FleetRun run, Roster roster) {
        if (roster.surplus().isEmpty()) {
            return;
        }
        List<String> ids = new ArrayList<>();
        for (MachineRecord r : roster.surplus()) {
            if (r.cloudId() != null) {
                ids.add(r.cloudId());
            }
        }
        for (Machine m : cloud.listNodes()) {
            if (m.attendee() > 0 && !roster.keep().containsKey(m.attendee()) && !ids.contains(m.id())) {
                ids.add(m.id());
            }
        }
        ctx.out().println("destroying " + ids.size() + " surplus machine(s) ...");
        Ledger ledger = run.ledger();
        for (MachineRecord r : roster.surplus()) {
            if (r.isLive()) {
                ledger.updateMachine(r.attendee(), r.name(), x -> x.retired("surplus"));
            }
        }
        if (!ids.isEmpty()) {
            cloud.destroyNodes(ids);
        }
        for (MachineRecord r : roster.surplus()) {
            ledger.removeMachine(r.attendee());
            run.secrets().forget(r.attendee());
        }
    }


    /**
     * The line printed before anything is created: machines, size, price, ingress, expiry ({@link PlanSummary}). The
     * machines the fleet keeps are priced at the types the ledger recorded for them, the others at the first type.
     */
    private String planLine(Ledger ledger, Roster roster, List<IngressRule> ingress, String cidr, Instant expiresAt) {
        WorkshopSpec spec = ctx.spec();
        List<FleetSpend.Item> kept = FleetSpend.launched(ledger.snapshot().machines().values().stream()
                .filter(r -> roster.keep().containsKey(r.attendee())).toList());
        return spec.provider().id() + ": " + PlanSummary.withExpiry(ctx.profile(), spec, roster.machines(), kept,
                PriceTable.load(), ingress, cidr, ctx.wiring().clock().instant(), expiresAt)
                + (spec.spares() > 0 ? " (" + spec.count() + " seat(s) + " + spec.spares() + " spare(s))" : "");
    }
}
