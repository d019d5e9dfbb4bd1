package org.workshopfleet;

import org.workshopfleet.error.ExitCode;
import org.workshopfleet.error.BadInput;
import org.workshopfleet.error.FleetException;
import org.workshopfleet.error.Interrupted;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.workshopfleet.spec.Cidr;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.workshopfleet.bake.ImageBaker;
import org.workshopfleet.bake.ImageMode;
import org.workshopfleet.bake.ImageRecipe;
import org.workshopfleet.cloud.Cloud;
import org.workshopfleet.cloud.IngressExtension;
import org.workshopfleet.cloud.ImageExtension;
import org.workshopfleet.cloud.CloudResource;
import org.workshopfleet.cloud.MachineImage;
import org.workshopfleet.cloud.IngressRule;
import org.workshopfleet.cloud.IngressRules;
import org.workshopfleet.cloud.LaunchContext;
import org.workshopfleet.cloud.Machine;
import org.workshopfleet.cloud.MachineState;
import org.workshopfleet.cloud.ResourceKind;
import org.workshopfleet.cloud.NodeRequest;
import org.workshopfleet.cloud.PlannedCall;
import org.workshopfleet.cloud.ProviderProfile;
import org.workshopfleet.cloud.ResourceRecorder;
import org.workshopfleet.concurrent.FanOut;
import org.workshopfleet.provision.MachineJob;
import org.workshopfleet.provision.MachineResult;
import org.workshopfleet.provision.Pipeline;
import org.workshopfleet.provision.ProvisionListener;
import org.workshopfleet.render.ExpiryTimer;
import org.workshopfleet.ssh.Remote;
import org.workshopfleet.provision.Runner;
import org.workshopfleet.report.FleetSpend;
import org.workshopfleet.report.Handout;
import org.workshopfleet.report.PlanSummary;
import org.workshopfleet.report.TerminalText;
import org.workshopfleet.report.PriceTable;
import org.workshopfleet.report.ProgressBoard;
import org.workshopfleet.report.ProgressEvent;
import org.workshopfleet.report.Stage;
import org.workshopfleet.report.ProvisionBoard;
import org.workshopfleet.report.StatusTable;
import org.workshopfleet.provision.Verifier;
import org.workshopfleet.render.Bundle;
import org.workshopfleet.render.BundleFile;
import org.workshopfleet.render.MachineModel;
import org.workshopfleet.render.SetupStep;
import org.workshopfleet.spec.Provider;
import org.workshopfleet.spec.Tags;
import org.workshopfleet.spec.WorkshopSpec;
import org.workshopfleet.ssh.SshKeyPair;
import org.workshopfleet.ssh.SshLogin;
import org.workshopfleet.ssh.SshTarget;
import org.workshopfleet.state.Ledger;
import org.workshopfleet.state.LedgerData;
import org.workshopfleet.state.MachinePhase;
import org.workshopfleet.state.MachineRecord;
import org.workshopfleet.state.Secrets;
import org.workshopfleet.state.StateFolder;
import org.workshopfleet.state.WorkshopLock;

/**
 * The library's front door: one workshop's fleet. Every action validates first and fails with a one-line
 * {@link FleetException} before anything is created; each returns the process exit code (0 = all good, 1 = some
 * machine or check failed).
 */
public final class Fleet {

    /** Ledger settings written by {@code up}. */
    public static final String SETTING_CIDR = "cidr";
    public static final String SETTING_EXPIRES_AT = "expiresAt";

    /** The workshop as given, then moved to the provider and region its ledger records ({@link #openLedger}). */
    private WorkshopSpec spec;
    private final Path projectRoot;
    private final Wiring wiring;
    private final PrintStream out;
    private final Given given;

    /**
     * Which of the spec's provider and region the facilitator gave (-Dprovider, -Dregion) rather than left to their
     * defaults. A live ledger decides where its fleet is: a default gives way to it, a given value that differs is
     * refused (a teardown on the wrong cloud would find nothing and report an all-clear).
     *
     * @param provider whether -Dprovider was given
     * @param region   whether -Dregion was given (AWS_REGION counts as a default)
     */
    public record Given(boolean provider, boolean region) {
        /** Both given: what a caller of the library means by the spec it passes. */
        public static final Given BOTH = new Given(true, true);
    }

    /**
     * @param spec        the validated workshop
     * @param projectRoot folder with templates/, scripts/, dashboards/, security-groups/
     * @param wiring      clouds, look-ups, terminal, display
     * @param out         where progress and tables are printed
     */
    public Fleet(WorkshopSpec spec, Path projectRoot, Wiring wiring, PrintStream out) {
        this(spec, projectRoot, wiring, out, Given.BOTH);
    }

    /** As above; {@code given} says which of the spec's provider and region a ledger may override. */
    public Fleet(WorkshopSpec spec, Path projectRoot, Wiring wiring, PrintStream out, Given given) {
        this.spec = spec;
        this.projectRoot = projectRoot;
        this.wiring = wiring;
        this.out = out;
        this.given = given;
    }

    // ---------------------------------------------------------------- up

    /**
     * Brings the fleet to {@code spec.count()} ready machines: prints the plan and asks for confirmation (unless
     * {@code yes}), prepares the cloud, launches the machines that are missing, provisions all of them concurrently,
     * and prints a table. Re-running resumes; a larger count adds machines; a smaller one removes the surplus after
     * confirmation.
     */
    public int up(boolean yes) {
        return up(yes, ImageMode.STOCK);
    }

    /**
     * As {@link #up(boolean)}; with {@link ImageMode#BAKE} the attendee machines launch from the image of this fleet's
     * recipe (baked first on one builder machine if the cloud has none) and run only the per-machine steps.
     */
    public int up(boolean yes, ImageMode image) {
        try (WorkshopLock held = lock("up")) {
            return upLocked(yes, image);
        }
    }

    private int upLocked(boolean yes, ImageMode image) {
        StateFolder folder = new StateFolder(spec.stateDir());
        Ledger ledger = openLedger(folder);
        wiring.credentials().check(spec);
        Cidr cidr = resolveCidr();
        List<MachineRecord> surplus = ledger.snapshot().machines().values().stream()
                .filter(r -> r.attendee() > spec.count() && r.phase() != MachinePhase.DESTROYED)
                .sorted(Comparator.comparingInt(MachineRecord::attendee)).toList();
        Instant expiresAt = expiry(ledger);
        List<IngressRule> ingress = IngressRules.load(projectRoot.resolve("security-groups/workshop.json"));

        out.println(planLine(ledger, ingress, cidr.toString(), expiresAt));
        if (!surplus.isEmpty()) {
            out.println("count " + spec.count() + " is smaller than the fleet: these machines would be destroyed: "
                    + String.join(", ", surplus.stream().map(MachineRecord::name).toList()));
        }
        confirm(yes, surplus.isEmpty() ? "Launch and provision?" : "Destroy the surplus machines, then launch and provision?");

        Secrets secrets = new Secrets(folder, spec.name());
        SshKeyPair loginKey = secrets.loginKey();
        MachineRendering renderer = wiring.rendering().apply(projectRoot);
        LaunchContext context = new LaunchContext(loginKey.publicKeyLine(), cidr, ingress, expiresAt);
        // Every machine verifies the exporter against the same hash (the pin, or the one the ledger recorded), so
        // fleet.env, and with it every step's content hash and the image recipe, is the same for all of them.
        String exporterPin = Runner.exporterPin(spec.sources().ebpfExporterSha256(), ledger);
        WorkshopSpec machineSpec = spec.withSources(spec.sources().withEbpfExporterSha256(exporterPin));
        List<Path> dashboards = dashboards();

        try (Cloud cloud = wiring.clouds().create(spec, ledger)) {
            // Render every machine before the first cloud call: a broken template or oversized user data is bad input
            // and must fail before anything exists (and never after machines were launched).
            Map<Integer, MachineModel> models = new TreeMap<>();
            Map<Integer, String> userData = new TreeMap<>();
            Map<Integer, Bundle> bundles = new TreeMap<>();
            for (int n = 1; n <= spec.count(); n++) {
                MachineModel model = model(machineSpec, n, secrets, loginKey, expiresAt);
                models.put(n, model);
                userData.put(n, renderer.userData(model, cloud.userDataFormat()));
                bundles.put(n, renderer.bundle(model));
            }
            // Before anything exists: a fleet the account's quota cannot hold is refused here, not half-launched.
            cloud.capacity().flatMap(c -> c.checkCapacity(spec.count())).ifPresent(notice -> out.println("notice: " + notice));
            ledger.putSetting(SETTING_CIDR, cidr.toString());
            ledger.putSetting(SETTING_EXPIRES_AT, expiresAt.toString());
            cloud.prepare(context);
            removeSurplus(cloud, ledger, secrets, surplus);
            if (image == ImageMode.BAKE) {
                try {
                    context = context.withImage(bakedImage(machineSpec, cloud, context, renderer, secrets, loginKey,
                            expiresAt, bundles.get(1), folder, ledger).id());
                } catch (ImageBaker.Failed e) {
                    // Reported like a failed machine of a normal up (step, reason, log tail), then what it means here.
                    printTable(List.of(e.builder()));
                    out.println(TerminalText.clean(e.getMessage()));
                    out.println("the builder " + e.builder().name() + " was destroyed; nothing was baked: "
                            + e.next());
                    return 1;
                }
            }

            Map<Integer, Machine> live = new TreeMap<>();
            for (Machine m : cloud.listNodes()) {
                if (m.attendee() >= 1 && m.attendee() <= spec.count() && !m.state().isGone()) {
                    live.put(m.attendee(), m);
                }
            }
            List<NodeRequest> requests = new ArrayList<>();
            for (int n = 1; n <= spec.count(); n++) {
                if (!live.containsKey(n)) {
                    requests.add(new NodeRequest(n, spec.machineName(n), userData.get(n), tags(n, expiresAt)));
                }
            }
            // Launch → wait → provision, overlapped: each machine is handed to the runner as soon as the cloud reports
            // it running with an address, so the first machines are provisioned while the others still boot.
            Pipeline pipeline = new Pipeline(new SshLogin(wiring.sshUser(), loginKey), wiring.layout(), folder.logsDir(),
                    dashboards, wiring.sshTimeout(), Duration.ofSeconds(180)).withBootHostKey(
                    cloud.userDataFormat().bootHostKey());
            String atATime = Math.min(spec.parallelism(), spec.count()) + " at a time; logs in " + folder.logsDir();
            out.println(requests.isEmpty()
                    ? "provisioning " + live.size() + " machine(s), " + atATime
                    : "launching " + requests.size() + " machine(s) on " + cloud.providerName()
                            + "; each is provisioned as soon as it runs, " + atATime);
            List<MachineResult> results;
            boolean interrupted;
            try (ProgressBoard board = progressBoard(ledger)) {
                for (int n = 1; n <= spec.count(); n++) {
                    board.expect(n, spec.machineName(n));
                }
                Runner runner = new Runner(pipeline, ledger, spec.parallelism(),
                        ProvisionListener.all(List.of(new ProvisionBoard(board), wiring.display())));
                Runner.Batch batch = runner.start();
                LaunchContext launchFrom = context;
                results = new ArrayList<>(runInterruptibly(runner, batch, exporterPin, () -> launchAndFeed(cloud,
                        launchFrom, ledger, requests, live, models, bundles, board, batch)));
                interrupted = batch.wasInterrupted();
            }
            if (interrupted) {
                out.println(Runner.INTERRUPTED_NOTICE);
                return ExitCode.INTERRUPTED;
            }
            results.sort(Comparator.comparingInt(MachineResult::attendee));
            printResults(results);
            String recorded = ledger.setting(Runner.EBPF_SETTING);
            if (exporterPin.isEmpty() && recorded != null) {
                out.println("ebpf_exporter.x86_64: recorded SHA-256 " + recorded + " (no pin given): later machines and"
                        + " re-runs verify their download against it, and verify runs the binary only when it matches");
            }
            Path handout = Handout.fromLedger(ledger.snapshot(), secrets, Handout.DEFAULT_TITLE, wiring.clock().instant())
                    .writeTo(folder);
            out.println("handout: " + handout + " (print it: one card per attendee; it holds their passwords)");
            return results.stream().allMatch(MachineResult::ok) ? 0 : 1;
        }
    }

    /**
     * The image of this fleet's recipe: found on the cloud, or baked now (see {@link ImageBaker}). A builder that ran
     * without an exporter pin records the hash it observed in the ledger, as the first machine of a stock fleet does:
     * the attendees launched from the image are compared with it, and later runs receive it as their pin.
     */
    private MachineImage bakedImage(WorkshopSpec machineSpec, Cloud cloud, LaunchContext context, MachineRendering renderer,
                                    Secrets secrets, SshKeyPair loginKey, Instant expiresAt, Bundle anyMachine,
                                    StateFolder folder, Ledger ledger) {
        ImageRecipe recipe = ImageRecipe.of(profile().stockImage(spec.region(), projectRoot), anyMachine);
        int b = ImageBaker.BUILDER_ATTENDEE;
        MachineModel builder = new MachineModel(machineSpec, b, spec.name() + "-bake", profile().os(),
                secrets.hostKey(b), loginKey.publicKeyLine(), secrets.grafanaPassword(b), secrets.sshPassword(b), expiresAt);
        Map<String, String> tags = tags(b, expiresAt);
        tags.put(Tags.NAME, builder.hostname());
        ImageBaker.Builder request = new ImageBaker.Builder(
                new NodeRequest(b, builder.hostname(), renderer.userData(builder, cloud.userDataFormat()), tags),
                builder.hostKey().publicKeyNoComment(), recipe.builderBundle(renderer.bundle(builder)));
        ImageBaker.Baked made = new ImageBaker(new SshLogin(wiring.sshUser(), loginKey), wiring.layout(),
                wiring.sshPort(), folder.logsDir(), wiring.launchTimeout(), wiring.sshTimeout(), Duration.ofMinutes(60), out)
                .ensure(cloud, context, recipe, request);
        secrets.forget(b);
        if (made.builderEbpfExporterSha256() != null && machineSpec.sources().ebpfExporterSha256().isEmpty()) {
            ledger.putSetting(Runner.EBPF_SETTING, made.builderEbpfExporterSha256());
        }
        return made.image();
    }

    /**
     * Launches the missing machines, then hands every machine to {@code batch} as soon as the cloud reports it running
     * with an address; machines that never run are recorded as failed at {@code launch}. Ledger first, always.
     */
    private void launchAndFeed(Cloud cloud, LaunchContext context, Ledger ledger, List<NodeRequest> requests,
                               Map<Integer, Machine> live, Map<Integer, MachineModel> models, Map<Integer, Bundle> bundles,
                               ProgressBoard board, Runner.Batch batch) {
        if (!requests.isEmpty()) {
            requests.forEach(r -> board.update(ProgressEvent.stage(r.attendee(), r.name(), Stage.LAUNCHING, null)));
            for (Machine m : cloud.createNodes(context, requests)) {
                // The type comes from the launch answer: EC2 may have fallen back to a later -DinstanceType.
                ledger.updateMachine(m.attendee(), m.name(), r -> r.launched(m.id(), m.instanceType(), m.launchedAt()));
                live.put(m.attendee(), m);
            }
        }
        // Who a machine is comes from our own list: a cloud may answer for an id it lost without name or attendee.
        Map<String, Machine> byId = new LinkedHashMap<>();
        live.values().forEach(m -> byId.put(m.id(), m));
        java.util.Set<String> fed = java.util.concurrent.ConcurrentHashMap.newKeySet();
        java.util.function.Consumer<Machine> feed = m -> {
            Machine known = byId.get(m.id());
            if (known == null || !fed.add(m.id())) {
                return;
            }
            MachineModel model = models.get(known.attendee());
            batch.submit(new MachineJob(known.attendee(), known.name(),
                    new SshTarget(m.publicIp(), wiring.sshPort(), model.hostKey().publicKeyNoComment()),
                    model.grafanaPassword(), bundles.get(known.attendee())));
            // Not waited for: machines reported together (all of a re-run's, at once) would otherwise start one
            // fsync'd write apart. The instance is in the ledger since its launch; this adds its address (and, for a
            // machine of an older ledger, the type the cloud describes), which the machine's end writes for sure.
            ledger.updateMachineSoon(known.attendee(), known.name(),
                    r -> (r.cloudId() == null ? r.launched(m.id(), m.instanceType(), m.launchedAt())
                            : r.withTypeIfUnknown(m.instanceType())).withAddress(m.publicIp()));
        };
        List<Machine> states = cloud.awaitRunning(List.copyOf(byId.keySet()), wiring.launchTimeout(), feed);
        for (Machine m : states) {
            Machine known = byId.get(m.id());
            if (known == null || fed.contains(m.id())) {
                continue;
            }
            if (m.isRunningWithAddress()) {
                feed.accept(m); // running, though the cloud did not report it while waiting
                continue;
            }
            String why = "the cloud reports it " + m.state().name().toLowerCase(Locale.ROOT) + " without an address";
            ledger.updateMachine(known.attendee(), known.name(),
                    r -> (r.cloudId() == null ? r.launched(m.id(), m.instanceType(), m.launchedAt()) : r)
                            .withAddress(m.publicIp()));
            batch.failedBefore(known.attendee(), known.name(), m.publicIp(), "launch", why);
        }
    }

    /**
     * Runs {@code launch} (which feeds {@code batch}) and then waits for the batch, with a Ctrl-C hook that cancels the
     * runner and waits (briefly) for the machines in flight to record where they stopped. If launching fails, the
     * machines already in flight are stopped the same way before the error goes on.
     */
    private List<MachineResult> runInterruptibly(Runner runner, Runner.Batch batch, String exporterPin, Runnable launch) {
        Thread hook = new Thread(() -> {
            runner.cancel();
            batch.awaitStopped(Duration.ofSeconds(20));
            // The JVM ends with 130 after this hook (SIGINT); the main thread may not get to print anything.
            out.println(Runner.INTERRUPTED_NOTICE);
        }, "workshop-fleet-interrupt");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            try {
                launch.run();
            } catch (RuntimeException e) {
                // An interrupt (Ctrl-C in-process) is set aside so that the wait below and the machines' records work.
                boolean interrupted = Thread.interrupted();
                runner.cancel();
                batch.awaitStopped(Duration.ofSeconds(20));
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
                throw e;
            }
            return batch.finish(exporterPin);
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // The JVM is exiting (Ctrl-C): the hook is running and waits for the machines in flight.
            }
        }
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
            if (m.attendee() > spec.count() && !ids.contains(m.id())) {
                ids.add(m.id());
            }
        }
        out.println("destroying " + ids.size() + " surplus machine(s) ...");
        cloud.destroyNodes(ids);
        for (MachineRecord r : surplus) {
            ledger.removeMachine(r.attendee());
            secrets.forget(r.attendee());
        }
    }

    /**
     * The live board for {@code up}: in place in a terminal, timestamped lines otherwise; cost so far from the ledger,
     * each machine at the price of the type it was launched with.
     */
    private ProgressBoard progressBoard(Ledger ledger) {
        PriceTable prices = PriceTable.load();
        return new ProgressBoard(out, ProgressBoard.Mode.detect(), wiring.clock(),
                "up: " + spec.name() + ", " + spec.count() + " machine(s) on " + spec.provider().id())
                .costSource(() -> FleetSpend.fromLedger(ledger.snapshot(), prices, profile(), spec.region(),
                        profile().sizeName(spec), wiring.clock().instant())).start();
    }

    // ---------------------------------------------------------------- handout

    /** Rewrites {@code workshops/<name>/handout/} (HTML cards, CSV, JSON) from the ledger and the secrets. */
    public int handout() {
        StateFolder folder = new StateFolder(spec.stateDir());
        if (!Ledger.exists(folder)) {
            throw new BadInput("workshop " + spec.name() + " has no ledger in " + folder.root()
                    + ": run up first, or pass -Dname / -DstateDir of the fleet");
        }
        try (WorkshopLock held = lock("handout")) {
            return handoutLocked(folder);
        }
    }

    private int handoutLocked(StateFolder folder) {
        Ledger ledger = openLedger(folder);
        Path page = Handout.fromLedger(ledger.snapshot(), new Secrets(folder, spec.name()), Handout.DEFAULT_TITLE,
                wiring.clock().instant()).writeTo(folder);
        out.println("handout: " + page + " (+ attendees.csv, attendees.json)");
        return 0;
    }

    // ---------------------------------------------------------------- plan

    /**
     * Writes what {@code up} would do into {@code workshops/<name>/plan/}: per machine its user data, every bundle file
     * and its steps; {@code cloud-calls.txt} (the cloud operations in order); {@code cost.txt}. Needs no credentials
     * and no network. The folder holds secrets (host keys, passwords): it is private (0700, files 0600).
     */
    public int plan() {
        // Locked like up: plan makes the login key, host keys and passwords up goes on to use, and two commands
        // making them at once would leave machines with keys the folder no longer holds.
        try (WorkshopLock held = lock("plan")) {
            placeFromLedger();
            return planLocked();
        }
    }

    private int planLocked() {
        StateFolder folder = new StateFolder(spec.stateDir()).ensure();
        Path planDir = folder.root().resolve("plan");
        deleteTree(planDir);
        StateFolder.makePrivateDir(planDir);
        Secrets secrets = new Secrets(folder, spec.name());
        SshKeyPair loginKey = secrets.loginKey();
        Instant now = wiring.clock().instant();
        Instant expiresAt = now.plus(spec.ttl());
        ProviderProfile profile = profile();
        String cidr = spec.cidr() != null ? spec.cidr().toString() : profile.defaultCidr().map(Object::toString)
                .orElse("(this computer's public address /32, detected by up)");
        List<IngressRule> ingress = IngressRules.load(projectRoot.resolve("security-groups/workshop.json"));
        MachineRendering renderer = wiring.rendering().apply(projectRoot);
        int files = 0;
        for (int n = 1; n <= spec.count(); n++) {
            MachineModel model = model(spec, n, secrets, loginKey, expiresAt);
            Path dir = planDir.resolve(spec.machineName(n));
            StateFolder.makePrivateDir(dir);
            StateFolder.writeAtomically(dir.resolve("user-data"),
                    renderer.userData(model, profile.userDataFormat()).getBytes(StandardCharsets.UTF_8), true);
            Bundle bundle = renderer.bundle(model);
            for (BundleFile f : bundle.files()) {
                Path target = dir.resolve("bundle").resolve(f.path()).normalize();
                if (!target.startsWith(dir.resolve("bundle"))) {
                    throw new IllegalStateException("bundle path escapes the bundle: " + f.path());
                }
                makePrivateDirs(dir, target.getParent());
                StateFolder.writeAtomically(target, f.content(), true);
                files++;
            }
            StringBuilder steps = new StringBuilder();
            for (SetupStep s : bundle.steps()) {
                steps.append(s.name()).append(' ').append(s.script()).append(' ').append(s.contentHash()).append('\n');
            }
            StateFolder.writeAtomically(dir.resolve("steps.txt"), steps.toString().getBytes(StandardCharsets.UTF_8), true);
        }
        StateFolder.writeAtomically(planDir.resolve("cloud-calls.txt"),
                cloudCalls(profile.plannedCalls(spec, ingress, cidr, expiresAt)).getBytes(StandardCharsets.UTF_8), true);
        PriceTable prices = PriceTable.load();
        String cost = PlanSummary.costLine(profile, spec, spec.count(), prices);
        StateFolder.writeAtomically(planDir.resolve("cost.txt"), (cost + "\n").getBytes(StandardCharsets.UTF_8), true);
        out.println(spec.provider().id() + ": " + PlanSummary.withExpiry(profile, spec, spec.count(), prices, ingress,
                cidr, now, expiresAt));
        out.println("plan: " + spec.count() + " machine(s), " + files + " bundle file(s), user data and cloud calls in " + planDir);
        return 0;
    }

    /** {@code cloud-calls.txt}: the profile's planned calls, numbered. */
    private String cloudCalls(List<PlannedCall> calls) {
        StringBuilder sb = new StringBuilder();
        sb.append("# The operations `up` makes for workshop ").append(spec.name()).append(" on ")
                .append(spec.provider().id()).append(", in order (from an empty fleet).\n");
        sb.append("# Each is idempotent; every resource created is recorded in ledger.json before the next call.\n");
        int i = 1;
        for (PlannedCall c : calls) {
            sb.append(i++).append(". ").append(c.operation()).append(": ").append(c.what()).append('\n');
        }
        sb.append("# teardown: instances, wait until terminated, then ingress and key pair (ledger ∪ tag search)\n");
        return sb.toString();
    }

    // ---------------------------------------------------------------- status

    /** Prints the ledger's machines with the cloud's live state (ledger only when the cloud cannot be asked). */
    public int status() {
        StateFolder folder = new StateFolder(spec.stateDir());
        if (!Ledger.exists(folder)) {
            out.println("workshop " + spec.name() + ": no ledger in " + folder.root() + " (nothing launched from here)");
            return 0;
        }
        // No lock: status only reads, and the ledger is always a whole file (replaced by rename).
        Ledger ledger = openLedger(folder);
        Map<Integer, Machine> live = new HashMap<>();
        String cloudNote = "";
        try {
            wiring.credentials().check(spec);
            try (Cloud cloud = wiring.clouds().create(spec, ResourceRecorder.NONE)) {
                for (Machine m : cloud.listNodes()) {
                    live.put(m.attendee(), m);
                }
            }
        } catch (FleetException e) {
            cloudNote = " (cloud state unavailable: " + e.getMessage() + ")";
        }
        var data = ledger.snapshot();
        out.println("workshop " + data.workshop() + " on " + data.provider() + " " + data.region()
                + (data.isClosed() ? ", torn down " + data.closedAt() : "") + ", ingress from " + ledger.setting(SETTING_CIDR)
                + cloudNote);
        out.print(StatusTable.render(Providers.ofLedger(data.provider()), data, List.copyOf(live.values()),
                PriceTable.load(), wiring.clock().instant()));
        return 0;
    }

    // ---------------------------------------------------------------- verify

    /** Runs the "ready" checks on every machine of the ledger and prints a machine × check matrix. */
    public int verify() {
        StateFolder folder = new StateFolder(spec.stateDir());
        if (!Ledger.exists(folder)) {
            throw new BadInput("workshop " + spec.name() + " has no ledger in " + folder.root()
                    + ": run up first, or pass -Dname / -DstateDir of the fleet to verify");
        }
        // No lock: verify only reads the ledger and the secrets up wrote, and checks the machines.
        Ledger ledger = openLedger(folder);
        Secrets secrets = new Secrets(folder, spec.name());
        SshLogin login = new SshLogin(wiring.sshUser(), secrets.loginKey());
        List<MachineRecord> machines = ledger.snapshot().machines().values().stream()
                .filter(r -> r.publicIp() != null && r.phase() != MachinePhase.DESTROYED)
                .sorted(Comparator.comparingInt(MachineRecord::attendee)).toList();
        if (machines.isEmpty()) {
            throw new BadInput("workshop " + spec.name() + " has no machine with an address: run up first");
        }
        Verifier verifier = new Verifier(login, wiring.layout(), dashboards(), Duration.ofSeconds(30), SshLogin.MACHINE_USER,
                Runner.exporterPin(spec.sources().ebpfExporterSha256(), ledger));
        List<Callable<List<Verifier.Check>>> checks = new ArrayList<>();
        for (MachineRecord r : machines) {
            Verifier.Target t = new Verifier.Target(r.name(),
                    new SshTarget(r.publicIp(), wiring.sshPort(), secrets.hostKey(r.attendee()).publicKeyNoComment()),
                    secrets.grafanaPassword(r.attendee()), secrets.sshPassword(r.attendee()));
            checks.add(() -> verifier.verify(t));
        }
        List<FanOut.Outcome<List<Verifier.Check>>> outcomes;
        try {
            outcomes = new FanOut("verify", spec.parallelism()).each(checks);
        } catch (Interrupted e) {
            throw new Interrupted("verifying the machines");
        }
        Map<String, List<Verifier.Check>> matrix = new LinkedHashMap<>();
        for (int i = 0; i < machines.size(); i++) {
            FanOut.Outcome<List<Verifier.Check>> o = outcomes.get(i);
            matrix.put(machines.get(i).name(), o.ok() ? o.value()
                    : List.of(new Verifier.Check("checks", false, String.valueOf(o.failure()))));
        }
        return printMatrix(matrix) ? 0 : 1;
    }

    /** Prints the matrix and the failures' details; true when everything passed. */
    boolean printMatrix(Map<String, List<Verifier.Check>> matrix) {
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
        out.println("checks: " + String.join(", ", java.util.stream.IntStream.range(0, checks.size())
                .mapToObj(i -> (i + 1) + "=" + checks.get(i)).toList()));
        details.forEach(d -> out.println("  FAIL " + TerminalText.clean(d)));
        out.println(allOk ? "verify: all " + matrix.size() + " machine(s) pass every check"
                : "verify: " + details.size() + " failed check(s)");
        return allOk;
    }

    // ---------------------------------------------------------------- images

    /**
     * Lists the images workshop-fleet baked on this cloud and region (any workshop's), marking the one this project's
     * current recipe would use. Needs no ledger and changes nothing.
     */
    public int images() {
        placeFromLedger();
        wiring.credentials().check(spec);
        String current = currentRecipe().hash();
        try (Cloud cloud = wiring.clouds().create(spec, ResourceRecorder.NONE)) {
            List<MachineImage> images = imagesOf(cloud).listImages();
            out.printf(Locale.ROOT, "%-28s %-24s %-14s %-22s %s%n", "NAME", "ID", "RECIPE", "CREATED", "");
            for (MachineImage i : images) {
                out.printf(Locale.ROOT, "%-28s %-24s %-14s %-22s %s%n", i.name(), abbreviate(i.id()),
                        i.recipeHash().substring(0, Math.min(12, i.recipeHash().length())),
                        i.createdAt().truncatedTo(java.time.temporal.ChronoUnit.SECONDS),
                        i.recipeHash().equals(current) ? "current recipe" : "");
            }
            out.println(images.size() + " image(s) on " + cloud.providerName() + (profile().regional() ? " " + spec.region()
                    : "") + "; this project's recipe is " + current.substring(0, 12)
                    + (images.stream().anyMatch(i -> i.recipeHash().equals(current)) ? "" : " (not baked: up -Dimage=bake bakes it)")
                    + ". Images stay until -Daction=remove-image -DimageRecipe=<recipe>; teardown never removes them.");
        }
        return 0;
    }

    /** Removes one image (by recipe hash or prefix, name or id) after confirmation; refuses an ambiguous choice. */
    public int removeImage(boolean yes, String ref) {
        // Images are shared by every workshop of the account; the lock keeps at least this workshop's own up (which
        // may be baking or launching from the image) from running meanwhile.
        try (WorkshopLock held = lock("remove-image")) {
            return removeImageLocked(yes, ref);
        }
    }

    private int removeImageLocked(boolean yes, String ref) {
        placeFromLedger();
        wiring.credentials().check(spec);
        try (Cloud cloud = wiring.clouds().create(spec, ResourceRecorder.NONE)) {
            ImageExtension images = imagesOf(cloud);
            List<MachineImage> matches = images.listImages().stream().filter(i -> i.recipeHash().startsWith(ref)
                    || i.name().equals(ref) || i.id().equals(ref)).toList();
            if (matches.isEmpty()) {
                throw new BadInput("no image matches '" + ref + "' on " + cloud.providerName()
                        + ": -Daction=images lists them");
            }
            if (matches.size() > 1) {
                throw new BadInput("'" + ref + "' matches " + matches.size() + " images (" + String.join(", ",
                        matches.stream().map(MachineImage::name).toList()) + "): give more digits of the recipe hash");
            }
            MachineImage image = matches.get(0);
            out.println("remove-image: " + image.name() + " (" + image.id() + ", recipe " + image.recipeHash()
                    + ", baked " + image.createdAt() + ") and what backs it; later -Dimage=bake runs bake it again");
            confirm(yes, "Remove image " + image.name() + "?");
            images.removeImage(image);
            out.println("image " + image.name() + " removed");
        }
        return 0;
    }

    private static ImageExtension imagesOf(Cloud cloud) {
        return cloud.images().orElseThrow(() -> new BadInput(cloud.providerName() + " has no images"));
    }

    /** This project's image recipe for this provider; renders one throwaway machine (no state is written). */
    public ImageRecipe currentRecipe() {
        SshKeyPair throwaway = SshKeyPair.generate("recipe@" + spec.name());
        MachineModel any = new MachineModel(spec, 1, spec.machineName(1), profile().os(), throwaway,
                throwaway.publicKeyLine(), Secrets.randomPassword(20), Secrets.randomPassword(20),
                wiring.clock().instant().plus(spec.ttl()));
        return ImageRecipe.of(profile().stockImage(spec.region(), projectRoot), wiring.rendering().apply(projectRoot).bundle(any));
    }

    private static String abbreviate(String id) {
        return id.length() <= 24 ? id : id.substring(0, 21) + "...";
    }

    // ---------------------------------------------------------------- teardown, allow-ip

    /**
     * Removes everything of the workshop (ledger ∪ tag search) and closes the ledger. Safe to repeat. An unreadable
     * ledger is moved aside and the resources are found by tag; a ledger whose machines the cloud does not know at all
     * (another account or region) is kept and the teardown refused, never reported as an all-clear.
     */
    public int teardown(boolean yes) {
        try (WorkshopLock held = lock("teardown")) {
            return teardownLocked(yes);
        }
    }

    private int teardownLocked(boolean yes) {
        StateFolder folder = new StateFolder(spec.stateDir());
        boolean hasLedger = Ledger.exists(folder);
        Ledger ledger;
        try {
            ledger = openLedger(folder);
        } catch (Ledger.Unreadable e) {
            // Teardown is what must still work: the tags name everything of the workshop without the ledger. The file
            // is moved aside once confirmed, below.
            ledger = null;
        }
        wiring.credentials().check(spec);
        int known = ledger == null ? 0 : ledger.liveResources().size();
        out.println("teardown of workshop " + spec.name() + " on " + spec.provider().id() + " " + spec.region() + ": "
                + (ledger == null ? "the ledger is unreadable" : known + " resource(s) in the ledger")
                + (hasLedger ? "" : " (no ledger here)") + ", plus anything tagged " + Tags.WORKSHOP + "=" + spec.name());
        confirm(yes, "Destroy every machine and resource of workshop " + spec.name() + "?");
        if (ledger == null) {
            Path aside = Ledger.moveAside(folder, wiring.clock());
            out.println("ledger " + folder.ledgerFile() + " is unreadable: moved aside to " + aside.getFileName()
                    + "; tearing down by tag " + Tags.WORKSHOP + "=" + spec.name());
            ledger = Ledger.open(folder, spec.name(), spec.provider().id(), spec.region(), wiring.clock());
        }
        List<CloudResource> live = ledger.liveResources();
        try (Cloud cloud = wiring.clouds().create(spec, new TeardownProgress(ledger, live, out))) {
            requireMachinesFound(cloud, ledger, live);
            ledger.putSetting(SETTING_TEARING_DOWN, String.join(",", machineIds(live)));
            cloud.teardown(live);
        }
        ledger.close();
        out.println("teardown done: nothing of workshop " + spec.name() + " is left running; ledger closed");
        return 0;
    }

    /** Ledger setting: the machines a teardown began to destroy (a re-run after a kill may find them gone). */
    static final String SETTING_TEARING_DOWN = "tearingDown";

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
        if (profile().findsMachinesById()
                && cloud.awaitRunning(ids, Duration.ZERO).stream().anyMatch(m -> m.state() != MachineState.UNKNOWN)) {
            return;
        }
        throw new BadInput("the ledger lists " + ids.size() + " machine(s) but none was found on "
                + spec.provider().id() + " " + spec.region() + " by id or tag: check -Dprovider/-Dregion/credentials;"
                + " ledger kept (if they were deleted outside workshop-fleet, move " + ledger.ledgerFileName()
                + " aside and re-run teardown, which then goes by tag)");
    }

    /** Replaces the ingress CIDR of the live fleet with {@code -Dcidr} (or this computer's detected address). */
    public int allowIp(boolean yes) {
        StateFolder folder = new StateFolder(spec.stateDir());
        if (!Ledger.exists(folder)) {
            throw new BadInput("workshop " + spec.name() + " has no ledger in " + folder.root() + ": run up first");
        }
        try (WorkshopLock held = lock("allow-ip")) {
            return allowIpLocked(yes, folder);
        }
    }

    private int allowIpLocked(boolean yes, StateFolder folder) {
        Ledger ledger = openLedger(folder);
        wiring.credentials().check(spec);
        String old = ledger.setting(SETTING_CIDR);
        Cidr cidr = resolveCidr();
        if (cidr.toString().equals(old)) {
            // The ledger may not know every rule (another run's, one added by hand): the cloud is still cleaned.
            out.println("ingress already admits " + cidr + "; removing any other rule the cloud holds");
        } else {
            out.println("allow-ip: replace ingress " + old + " with " + cidr + " on workshop " + spec.name());
            confirm(yes, "Replace the ingress CIDR?");
        }
        Secrets secrets = new Secrets(folder, spec.name());
        LaunchContext context = new LaunchContext(secrets.loginKey().publicKeyLine(), cidr,
                IngressRules.load(projectRoot.resolve("security-groups/workshop.json")), expiry(ledger));
        try (Cloud cloud = wiring.clouds().create(spec, ledger)) {
            Optional<IngressExtension> rules = cloud.ingress();
            if (rules.isEmpty()) {
                // The lab's machines are reachable from the lab host only, whatever the CIDR: nothing to change.
                ledger.putSetting(SETTING_CIDR, cidr.toString());
                out.println(cloud.providerName() + " has no ingress rules to change; recorded " + cidr);
                return 0;
            }
            rules.get().replaceIngress(context);
        }
        ledger.putSetting(SETTING_CIDR, cidr.toString());
        out.println("ingress now admits " + cidr + " only");
        return 0;
    }

    /**
     * Moves the fleet's expiry to now + {@code -Dttl}: the {@code ExpiresAt} tags, each machine's power-off timer (over
     * SSH) and the ledger. Machines that cannot be reached are listed; re-run once they are.
     */
    public int extend(boolean yes) {
        StateFolder folder = new StateFolder(spec.stateDir());
        if (!Ledger.exists(folder)) {
            throw new BadInput("workshop " + spec.name() + " has no ledger in " + folder.root() + ": run up first");
        }
        try (WorkshopLock held = lock("extend")) {
            return extendLocked(yes, folder);
        }
    }

    private int extendLocked(boolean yes, StateFolder folder) {
        Ledger ledger = openLedger(folder);
        wiring.credentials().check(spec);
        List<MachineRecord> machines = ledger.snapshot().machines().values().stream()
                .filter(r -> r.cloudId() != null && r.phase() != MachinePhase.DESTROYED)
                .sorted(Comparator.comparingInt(MachineRecord::attendee)).toList();
        if (machines.isEmpty()) {
            throw new BadInput("workshop " + spec.name() + " has no machine to extend: run up first");
        }
        Instant next = wiring.clock().instant().plus(spec.ttl());
        out.println("extend: workshop " + spec.name() + " expires " + ledger.setting(SETTING_EXPIRES_AT) + "; move it to "
                + next + " on " + machines.size() + " machine(s)" + extraCost(ledger, next));
        confirm(yes, "Move the expiry?");
        try (Cloud cloud = wiring.clouds().create(spec, ledger)) {
            // Clouds without tags (the lab) keep the expiry in the ledger and on the machine only.
            cloud.tagging().ifPresent(t -> t.retag(machines.stream().map(MachineRecord::cloudId).toList(),
                    Map.of(Tags.EXPIRES_AT, next.toString())));
        }
        Secrets secrets = new Secrets(folder, spec.name());
        SshLogin login = new SshLogin(wiring.sshUser(), secrets.loginKey());
        List<Callable<String>> moves = new ArrayList<>();
        for (MachineRecord r : machines) {
            if (r.publicIp() == null) {
                // Launched but never given an address (e.g. failed at launch): nothing to reach, say so.
                moves.add(() -> "no address recorded");
                continue;
            }
            SshTarget target = new SshTarget(r.publicIp(), wiring.sshPort(), secrets.hostKey(r.attendee()).publicKeyNoComment());
            moves.add(() -> reschedule(target, login, next));
        }
        List<FanOut.Outcome<String>> outcomes;
        try {
            outcomes = new FanOut("extend", spec.parallelism()).each(moves);
        } catch (Interrupted e) {
            throw new Interrupted("extending the machines' expiry");
        }
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < machines.size(); i++) {
            FanOut.Outcome<String> o = outcomes.get(i);
            String problem = o.ok() ? o.value() : String.valueOf(o.failure().getMessage());
            out.println("  " + machines.get(i).name() + ": " + (problem == null ? "power-off timer moved" : "NOT moved: " + problem));
            if (problem != null) {
                failures.add(machines.get(i).name());
            }
        }
        ledger.putSetting(SETTING_EXPIRES_AT, next.toString());
        out.println(failures.isEmpty() ? "extend: every machine now expires " + next
                : "extend: " + failures.size() + " machine(s) keep their old power-off time: " + String.join(", ", failures)
                + "; re-run -Daction=extend once they are reachable");
        return failures.isEmpty() ? 0 : 1;
    }

    /**
     * What the longer life costs, each machine at the price of the type it was launched with: {@code ; about $0.87 more
     * at list price (…)}; empty for the lab or when the expiry does not move later.
     */
    private String extraCost(Ledger ledger, Instant next) {
        if (!profile().billed()) {
            return "";
        }
        Instant now = wiring.clock().instant();
        Instant known = recordedExpiry(ledger);
        Instant from = known == null || known.isBefore(now) ? now : known;
        if (!next.isAfter(from)) {
            return "";
        }
        FleetSpend spend = FleetSpend.fromLedger(ledger.snapshot(), PriceTable.load(), profile(), spec.region(),
                profile().sizeName(spec), now);
        return "; about " + spend.forLonger(Duration.between(from, next));
    }

    /** Moves one machine's timer; null when done, else the reason. */
    private String reschedule(SshTarget target, SshLogin login, Instant next) {
        try (Remote remote = Remote.await(target, login, Duration.ofSeconds(30))) {
            Remote.Result r = remote.exec(ExpiryTimer.rescheduleCommand(next));
            return r.exitCode() == 0 ? null : "exit " + r.exitCode() + " " + r.stderr().strip();
        }
    }

    // ---------------------------------------------------------------- shared

    private MachineModel model(WorkshopSpec machineSpec, int n, Secrets secrets, SshKeyPair loginKey, Instant expiresAt) {
        return new MachineModel(machineSpec, n, spec.machineName(n), profile().os(), secrets.hostKey(n),
                loginKey.publicKeyLine(), secrets.grafanaPassword(n), secrets.sshPassword(n), expiresAt);
    }

    private Map<String, String> tags(int n, Instant expiresAt) {
        Map<String, String> t = new LinkedHashMap<>(spec.baseTags());
        t.put(Tags.ATTENDEE, String.format(Locale.ROOT, "%02d", n));
        t.put(Tags.NAME, spec.machineName(n));
        t.put(Tags.EXPIRES_AT, expiresAt.toString());
        return t;
    }

    private Cidr resolveCidr() {
        if (spec.cidr() != null) {
            return spec.cidr();
        }
        var fixed = profile().defaultCidr();
        if (fixed.isPresent()) {
            return fixed.get();
        }
        // The detected address is a /32: admitted without -DallowWorld, and parsed here, once.
        return Cidr.admitted(wiring.cidrDetector().detect(), spec.allowWorld());
    }

    private Instant expiry(Ledger ledger) {
        Instant known = recordedExpiry(ledger);
        Instant now = wiring.clock().instant();
        if (known != null && known.isAfter(now)) {
            return known;
        }
        return now.plus(spec.ttl());
    }

    /** The ledger's expiry, or null when none is recorded; a setting that is not a time is bad input. */
    private Instant recordedExpiry(Ledger ledger) {
        String known = ledger.setting(SETTING_EXPIRES_AT);
        if (known == null) {
            return null;
        }
        try {
            return Instant.parse(known.trim());
        } catch (java.time.format.DateTimeParseException e) {
            throw new BadInput("the ledger's " + SETTING_EXPIRES_AT + " '" + shorten(known) + "' is not a time:"
                    + " put an ISO-8601 instant such as 2026-01-31T18:00:00Z in " + ledger.ledgerFileName()
                    + ", or restore ledger.json.bak");
        }
    }

    private static String shorten(String s) {
        String one = TerminalText.clean(s);
        return one.length() <= 40 ? one : one.substring(0, 37) + "...";
    }

    /** Takes this workshop's lock for {@code action} (see {@link WorkshopLock}). */
    private WorkshopLock lock(String action) {
        return WorkshopLock.acquire(new StateFolder(spec.stateDir()), spec.name(), action);
    }

    /** For actions without a ledger of their own: takes the place of the workshop's ledger, if there is one. */
    private void placeFromLedger() {
        StateFolder folder = new StateFolder(spec.stateDir());
        if (Ledger.exists(folder)) {
            openLedger(folder);
        }
    }

    /**
     * Opens the workshop's ledger and, when it records a live fleet, moves this command to that fleet's provider and
     * region, refusing a -Dprovider or -Dregion given otherwise. Before any cloud call.
     */
    private Ledger openLedger(StateFolder folder) {
        Ledger ledger = Ledger.open(folder, spec.name(), spec.provider().id(), spec.region(), wiring.clock());
        LedgerData data = ledger.snapshot();
        if (!data.placesFleet()) {
            return ledger;
        }
        Provider provider = Provider.parse(data.provider());
        boolean regional = Providers.profile(provider).regional();
        boolean otherRegion = regional && !data.region().equals(spec.region());
        boolean clash = (given.provider() && provider != spec.provider())
                || (given.region() && profile().regional() && otherRegion);
        if (clash) {
            String ledgerPlace = provider.id() + (regional ? " " + data.region() : "");
            String givenPlace = spec.provider().id() + (profile().regional() ? " " + spec.region() : "");
            throw new BadInput("workshop " + spec.name() + " runs on " + ledgerPlace + " (its ledger "
                    + folder.ledgerFile() + " says so), not on " + givenPlace + ": leave out -Dprovider/-Dregion or give"
                    + " -Dprovider=" + provider.id() + (regional ? " -Dregion=" + data.region() : "")
                    + "; another -Dname starts a new fleet");
        }
        if (provider != spec.provider() || otherRegion) {
            spec = spec.withPlace(provider, regional ? data.region() : spec.region());
        }
        return ledger;
    }

    private void confirm(boolean yes, String question) {
        if (yes) {
            return;
        }
        if (wiring.prompt() == null) {
            throw new BadInput("no terminal to confirm on: re-run with -Dyes to proceed");
        }
        if (!wiring.prompt().confirm(question)) {
            throw new BadInput("cancelled: nothing was changed");
        }
    }

    /**
     * The line printed before anything is created: machines, size, price, ingress, expiry ({@link PlanSummary}). The
     * machines the fleet keeps are priced at the types the ledger recorded for them, the others at the first type.
     */
    private String planLine(Ledger ledger, List<IngressRule> ingress, String cidr, Instant expiresAt) {
        List<FleetSpend.Item> kept = FleetSpend.launched(ledger.snapshot().machines().values().stream()
                .filter(r -> r.attendee() <= spec.count()).toList());
        return spec.provider().id() + ": " + PlanSummary.withExpiry(profile(), spec, spec.count(), kept, PriceTable.load(), ingress,
                cidr, wiring.clock().instant(), expiresAt);
    }

    /** The profile of the provider this command works on (the ledger's, once {@link #openLedger} moved it there). */
    private ProviderProfile profile() {
        return Providers.profile(spec.provider());
    }

    private List<Path> dashboards() {
        org.workshopfleet.render.NoSymlinks.refuse(projectRoot, List.of("dashboards"));
        Path dir = projectRoot.resolve("dashboards");
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        List<Path> found;
        try (Stream<Path> files = Files.list(dir)) {
            found = files.filter(p -> p.toString().endsWith(".json")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (found.isEmpty()) {
            throw new BadInput(dir + " holds no .json dashboard: restore dashboards/ from the repository");
        }
        // Checked here, before anything is launched, rather than at import time on every machine.
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        for (Path p : found) {
            try {
                if (!json.readTree(p.toFile()).path("uid").isTextual()) {
                    throw new BadInput("dashboard " + p + " has no \"uid\": export it again from Grafana"
                            + " (Share > Export, for sharing externally) or restore it from the repository");
                }
            } catch (IOException e) {
                throw new BadInput("dashboard " + p + " is not valid JSON: export it again from Grafana or restore"
                        + " it from the repository");
            }
        }
        return found;
    }

    private void printResults(List<MachineResult> results) {
        printTable(results);
        long failed = results.stream().filter(r -> !r.ok()).count();
        out.println(failed == 0 ? "all " + results.size() + " machine(s) ready"
                : failed + " of " + results.size() + " machine(s) failed; fix and re-run up (finished steps are skipped)");
    }

    /** One line per machine; a failed one with its failing step, reason and the tail of its log. */
    private void printTable(List<MachineResult> results) {
        org.workshopfleet.report.ResultsTable.print(out, results);
    }

    /** Creates {@code leaf} and the folders between {@code base} and it, each 0700. */
    private static void makePrivateDirs(Path base, Path leaf) {
        Path d = base;
        for (Path part : base.relativize(leaf)) {
            d = d.resolve(part);
            if (!Files.isDirectory(d)) {
                StateFolder.makePrivateDir(d);
            }
        }
    }

    private static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot clear " + dir, e);
        }
    }
}
