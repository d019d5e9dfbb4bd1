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
import org.workshopfleet.state.Ledger;
import org.workshopfleet.state.MachinePhase;
import org.workshopfleet.state.MachineRecord;
import org.workshopfleet.state.Secrets;
import org.workshopfleet.state.StateFolder;
import org.workshopfleet.state.WorkshopLock;

/**
 * {@code up}: brings the fleet to {@code -Dcount} ready machines. Prints the plan and asks (unless {@code -Dyes}),
 * prepares the cloud, removes a surplus, bakes the image if asked, launches the missing machines and provisions all
 * of them concurrently, then prints the results and writes the handout. Re-running resumes.
 */
public final class Up {

    private final WorkshopContext ctx;

    /** @param ctx the workshop this command works on, and the steps it shares with the others */
    public Up(WorkshopContext ctx) {
        this.ctx = ctx;
    }

    /** What one run of {@code up} works with once confirmed. */
    private record Run(StateFolder folder, Ledger ledger, Secrets secrets, SshKeyPair loginKey, MachineRendering renderer,
                       WorkshopSpec machineSpec, String exporterPin, Instant expiresAt, List<Path> dashboards) {
    }

    /** Every machine of the fleet, rendered. */
    private record Rendered(Map<Integer, MachineModel> models, Map<Integer, String> userData,
                            Map<Integer, Bundle> bundles) {
    }

    /**
     * 0 when every machine is ready; 1 when one failed (or the bake did); 2 when refused before anything changed;
     * 130 when stopped by Ctrl-C.
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
        List<MachineRecord> surplus = ledger.snapshot().machines().values().stream()
                .filter(r -> r.attendee() > spec.count() && r.phase() != MachinePhase.DESTROYED)
                .sorted(Comparator.comparingInt(MachineRecord::attendee)).toList();
        Instant expiresAt = ctx.expiry(ledger);
        List<IngressRule> ingress = ctx.ingressRules();

        ctx.out().println(planLine(ledger, ingress, cidr.toString(), expiresAt));
        if (!surplus.isEmpty()) {
            ctx.out().println("count " + spec.count() + " is smaller than the fleet: these machines would be destroyed: "
                    + String.join(", ", surplus.stream().map(MachineRecord::name).toList()));
        }
        ctx.confirm(yes, surplus.isEmpty() ? "Launch and provision?"
                : "Destroy the surplus machines, then launch and provision?");

        Secrets secrets = new Secrets(folder, spec.name());
        SshKeyPair loginKey = secrets.loginKey();
        MachineRendering renderer = ctx.rendering();
        LaunchContext context = new LaunchContext(loginKey.publicKeyLine(), cidr, ingress, expiresAt);
        // Every machine verifies the exporter against the same hash (the pin, or the one the ledger recorded), so
        // fleet.env, and with it every step's content hash and the image recipe, is the same for all of them.
        String exporterPin = Runner.exporterPin(spec.sources().ebpfExporterSha256(), ledger);
        WorkshopSpec machineSpec = spec.withSources(spec.sources().withEbpfExporterSha256(exporterPin));
        Run run = new Run(folder, ledger, secrets, loginKey, renderer, machineSpec, exporterPin, expiresAt,
                ctx.dashboards());
        try (Cloud cloud = ctx.wiring().clouds().create(spec, ledger)) {
            return onCloud(run, cloud, context, cidr, surplus, image);
        }
    }

    /** From the first cloud call on: capacity, settings, prepare, surplus, bake, then launch and provision. */
    private int onCloud(Run run, Cloud cloud, LaunchContext context, Cidr cidr, List<MachineRecord> surplus,
                        ImageMode image) {
        // Render every machine before the first cloud call: a broken template or oversized user data is bad input
        // and must fail before anything exists (and never after machines were launched).
        Rendered rendered = render(run, cloud);
        // Before anything exists: a fleet the account's quota cannot hold is refused here, not half-launched.
        cloud.capacity().flatMap(c -> c.checkCapacity(ctx.spec().count()))
                .ifPresent(notice -> ctx.out().println("notice: " + notice));
        run.ledger().putSetting(WorkshopContext.SETTING_CIDR, cidr.toString());
        run.ledger().putSetting(WorkshopContext.SETTING_EXPIRES_AT, run.expiresAt().toString());
        cloud.prepare(context);
        removeSurplus(cloud, run.ledger(), run.secrets(), surplus);
        LaunchContext launchFrom = context;
        if (image == ImageMode.BAKE) {
            try {
                launchFrom = context.withImage(bakedImage(run, cloud, context, rendered.bundles().get(1)).id());
            } catch (ImageBaker.Failed e) {
                // Reported like a failed machine of a normal up (step, reason, log tail), then what it means here.
                ctx.printTable(List.of(e.builder()));
                ctx.out().println(TerminalText.clean(e.getMessage()));
                ctx.out().println("the builder " + e.builder().name() + " was destroyed; nothing was baked: " + e.next());
                return 1;
            }
        }
        return launchAndProvision(run, cloud, launchFrom, rendered);
    }

    private Rendered render(Run run, Cloud cloud) {
        Map<Integer, MachineModel> models = new TreeMap<>();
        Map<Integer, String> userData = new TreeMap<>();
        Map<Integer, Bundle> bundles = new TreeMap<>();
        for (int n = 1; n <= ctx.spec().count(); n++) {
            MachineModel model = ctx.model(run.machineSpec(), n, run.secrets(), run.loginKey(), run.expiresAt());
            models.put(n, model);
            userData.put(n, run.renderer().userData(model, cloud.profile().userDataFormat()));
            bundles.put(n, run.renderer().bundle(model));
        }
        return new Rendered(models, userData, bundles);
    }

    /**
     * The image of this fleet's recipe: found on the cloud, or baked now (see {@link ImageBaker}). A builder that ran
     * without an exporter pin records the hash it observed in the ledger, as the first machine of a stock fleet does:
     * the attendees launched from the image are compared with it, and later runs receive it as their pin.
     */
    private MachineImage bakedImage(Run run, Cloud cloud, LaunchContext context, Bundle anyMachine) {
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
        if (made.builderEbpfExporterSha256() != null && run.machineSpec().sources().ebpfExporterSha256().isEmpty()) {
            run.ledger().putSetting(Runner.EBPF_SETTING, made.builderEbpfExporterSha256());
        }
        return made.image();
    }

    /**
     * Launch → wait → provision, overlapped: each machine is handed to the runner as soon as the cloud reports it
     * running with an address, so the first machines are provisioned while the others still boot.
     */
    private int launchAndProvision(Run run, Cloud cloud, LaunchContext context, Rendered rendered) {
        WorkshopSpec spec = ctx.spec();
        Map<Integer, Machine> live = new TreeMap<>();
        for (Machine m : cloud.listNodes()) {
            if (m.attendee() >= 1 && m.attendee() <= spec.count() && !m.state().isGone()) {
                live.put(m.attendee(), m);
            }
        }
        List<NodeRequest> requests = new ArrayList<>();
        for (int n = 1; n <= spec.count(); n++) {
            if (!live.containsKey(n)) {
                requests.add(new NodeRequest(n, spec.machineName(n), rendered.userData().get(n),
                        ctx.tags(n, run.expiresAt())));
            }
        }
        Wiring wiring = ctx.wiring();
        Pipeline pipeline = new Pipeline(new SshLogin(wiring.sshUser(), run.loginKey()), wiring.layout(),
                run.folder().logsDir(), run.dashboards(), wiring.sshTimeout(), Duration.ofSeconds(180))
                .withBootHostKey(cloud.profile().userDataFormat().bootHostKey());
        String atATime = Math.min(spec.parallelism(), spec.count()) + " at a time; logs in " + run.folder().logsDir();
        ctx.out().println(requests.isEmpty()
                ? "provisioning " + live.size() + " machine(s), " + atATime
                : "launching " + requests.size() + " machine(s) on " + cloud.providerName()
                        + "; each is provisioned as soon as it runs, " + atATime);
        List<MachineResult> results;
        boolean interrupted;
        try (ProgressBoard board = progressBoard(run.ledger())) {
            for (int n = 1; n <= spec.count(); n++) {
                board.expect(n, spec.machineName(n));
            }
            Runner runner = new Runner(pipeline, run.ledger(), spec.parallelism(),
                    ProvisionListener.all(List.of(new ProvisionBoard(board), wiring.display())));
            Runner.Batch batch = runner.start();
            Launch launch = new Launch(wiring, cloud, run.ledger(), rendered.models(), rendered.bundles(), board, batch);
            results = new ArrayList<>(new InterruptibleBatch(runner, batch, ctx.out())
                    .run(run.exporterPin(), () -> launch.run(context, requests, live)));
            interrupted = batch.wasInterrupted();
        }
        if (interrupted) {
            ctx.out().println(Runner.INTERRUPTED_NOTICE);
            return ExitCode.INTERRUPTED;
        }
        return finish(run, results);
    }

    /** The results table, the exporter hash note, the handout; 0 when every machine is ready. */
    private int finish(Run run, List<MachineResult> results) {
        results.sort(Comparator.comparingInt(MachineResult::attendee));
        ctx.printResults(results);
        String recorded = run.ledger().setting(Runner.EBPF_SETTING);
        if (run.exporterPin().isEmpty() && recorded != null) {
            ctx.out().println("ebpf_exporter.x86_64: recorded SHA-256 " + recorded + " (no pin given): later machines"
                    + " and re-runs verify their download against it, and verify runs the binary only when it matches");
        }
        Path handout = Handout.fromLedger(run.ledger().snapshot(), run.secrets(), Handout.DEFAULT_TITLE,
                ctx.wiring().clock().instant()).writeTo(run.folder());
        ctx.out().println("handout: " + handout + " (print it: one card per attendee; it holds their passwords)");
        return results.stream().allMatch(MachineResult::ok) ? 0 : 1;
    }

    private void removeSurplus(Cloud cloud, Ledger ledger, Secrets secrets, List<MachineRecord> surplus) {
        if (surplus.isEmpty()) {
            return;
        }
        List<String> ids = new ArrayList<>();
        for (MachineRecord r : surplus) {
            if (r.cloudId() != null) {
                ids.add(r.cloudId());
            }
        }
        for (Machine m : cloud.listNodes()) {
            if (m.attendee() > ctx.spec().count() && !ids.contains(m.id())) {
                ids.add(m.id());
            }
        }
        ctx.out().println("destroying " + ids.size() + " surplus machine(s) ...");
        cloud.destroyNodes(ids);
        for (MachineRecord r : surplus) {
            ledger.removeMachine(r.attendee());
            secrets.forget(r.attendee());
        }
    }

    /**
     * The line printed before anything is created: machines, size, price, ingress, expiry ({@link PlanSummary}). The
     * machines the fleet keeps are priced at the types the ledger recorded for them, the others at the first type.
     */
    private String planLine(Ledger ledger, List<IngressRule> ingress, String cidr, Instant expiresAt) {
        WorkshopSpec spec = ctx.spec();
        List<FleetSpend.Item> kept = FleetSpend.launched(ledger.snapshot().machines().values().stream()
                .filter(r -> r.attendee() <= spec.count()).toList());
        return spec.provider().id() + ": " + PlanSummary.withExpiry(ctx.profile(), spec, spec.count(), kept,
                PriceTable.load(), ingress, cidr, ctx.wiring().clock().instant(), expiresAt);
    }

    /**
     * The live board for {@code up}: in place in a terminal, timestamped lines otherwise; cost so far from the ledger,
     * each machine at the price of the type it was launched with.
     */
    private ProgressBoard progressBoard(Ledger ledger) {
        PriceTable prices = PriceTable.load();
        WorkshopSpec spec = ctx.spec();
        return new ProgressBoard(ctx.out(), ProgressBoard.Mode.detect(), ctx.wiring().clock(),
                "up: " + spec.name() + ", " + spec.count() + " machine(s) on " + spec.provider().id())
                .costSource(() -> FleetSpend.fromLedger(ledger.snapshot(), prices, ctx.profile(), spec.region(),
                        ctx.profile().sizeName(spec), ctx.wiring().clock().instant())).start();
    }
}
