package org.workshopfleet.faults;

import org.workshopfleet.spec.Cidr;
import org.workshopfleet.error.FleetException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.workshopfleet.command.CloudFactory;
import org.workshopfleet.Fleet;
import org.workshopfleet.command.Wiring;
import org.workshopfleet.provision.MachineLayout;
import org.workshopfleet.provision.ProvisionListener;
import org.workshopfleet.provision.TestMachines;
import org.workshopfleet.spec.Provider;
import org.workshopfleet.spec.WorkshopSpec;
import org.workshopfleet.ssh.LoopbackSshd;
import org.workshopfleet.state.Ledger;
import org.workshopfleet.state.LedgerData;
import org.workshopfleet.state.MachinePhase;
import org.workshopfleet.state.MachineRecord;
import org.workshopfleet.state.Secrets;
import org.workshopfleet.state.StateFolder;

/**
 * The seeded fault campaign, whatever the cloud: per seed, {@link Fleet} (the real orchestration, on the cloud's real
 * SDK client) runs against the cloud's fake, whose instances are real loopback SSH machines
 * ({@link LoopbackInstances}), with faults drawn by the {@link Plugin} on the fake and, here, on the machines: tiny
 * bundles ({@link TinyWorkshop}) whose steps sometimes fail or lose their SSH connection, and whose upload is
 * sometimes cut mid-transfer by a {@link CuttingRelay}. {@code up} is re-run (as a facilitator would) until it succeeds or is refused with the drawn
 * quota as its cause, then {@code teardown} until it succeeds.
 *
 * <p>Invariants checked for every cloud: every machine ready in the ledger after the re-runs (or the refusal names the
 * quota); no attendee ever had two live machines; a ready machine holds the whole bundle and no step ever ran on a torn
 * one; every relay cut shows as a failed upload; after teardown no machine runs and the ledger is closed. The plug-in
 * adds what only its fake can tell (instances and firewall in the fake, what is left there after teardown).
 *
 * @param <D> the plug-in's drawn faults
 */
final class CampaignEngine<D extends CampaignEngine.FaultDraw> {

    /** What every campaign draws per seed; a plug-in's draw adds the cloud's own faults. */
    interface FaultDraw {
        /** Machines in the fleet. */
        int count();

        /** Whether the account's quota is one machine short, so {@code up} must be refused with that cause. */
        boolean quota();

        /** Attendees whose step fails on the first {@code up}. */
        List<Integer> failing();

        /** Attendees whose SSH connection drops mid-step. */
        List<Integer> dropping();
    }

    /** The fleet size and the attendees whose step fails or whose SSH drops, drawn alike for every cloud. */
    record Attendees(int count, List<Integer> failing, List<Integer> dropping) {
    }

    /** Draws 1 to 3 machines, each failing its step at 20 % and dropping SSH mid-step at 15 %: a draw's first part. */
    static Attendees drawAttendees(Random r) {
        int count = 1 + r.nextInt(3);
        List<Integer> failing = new ArrayList<>();
        List<Integer> dropping = new ArrayList<>();
        for (int n = 1; n <= count; n++) {
            if (r.nextDouble() < 0.2) {
                failing.add(n);
            }
            if (r.nextDouble() < 0.15) {
                dropping.add(n);
            }
        }
        return new Attendees(count, failing, dropping);
    }

    /** One cloud's part of the campaign: its faults and its fake. */
    interface Plugin<D extends FaultDraw> {
        Provider provider();

        /** Prefix of each seed's work directory. */
        String dirPrefix();

        D draw(Random random);

        /** Starts the cloud's fake for one seed; nothing is armed yet. */
        SeedCloud open(long seed, D draw, WorkshopSpec spec) throws IOException;
    }

    /** One seed's fake cloud: arms the drawn faults, hands out clouds, and checks what only it can see. */
    interface SeedCloud extends AutoCloseable {
        /** Backs the fake's instances with the loopback machines and arms the drawn faults. */
        void arm(LoopbackInstances machines);

        /** The clouds {@link Fleet} gets, talking to this fake. */
        CloudFactory clouds();

        /** Whether this error of {@code up} is the drawn quota's refusal; may add violations about it. */
        boolean refusedForQuota(String error, List<String> violations);

        /** The drawn quota in words, for the violation when it was not refused ("quota 2 vCPUs"). */
        String quotaInWords();

        /** After the {@code up} runs, ready or not: what the requests the product sent must satisfy. */
        void checkRequests(List<String> violations);

        /** A ready fleet, as the fake sees it (the ledger and the machines are checked by the engine). */
        void checkReady(LoopbackInstances machines, List<String> violations);

        /** After teardown: nothing of the workshop left in the fake. */
        void checkNothingLeft(List<String> violations);

        /** Adds the faults and errors the fake injected or answered, by name. */
        void countInjected(Map<String, Long> injected);

        /** Closes the clients handed out, then the fake. */
        @Override
        void close();
    }

    /** One seed's outcome. */
    record Outcome(long seed, FaultDraw draw, int upRuns, boolean refused, List<String> violations,
                   Map<String, Long> injected) implements CampaignSummary.SeedOutcome {
    }

    /** The CIDR every campaign's facilitator asks for. */
    static final String CIDR = "203.0.113.7/32";
    private static final int MAX_UP_RUNS = 5;
    private static final int MAX_TEARDOWN_RUNS = 4;

    private final Plugin<D> plugin;
    private final Path workDir;
    private final int port;

    CampaignEngine(Plugin<D> plugin, Path workDir) throws IOException {
        this.plugin = plugin;
        this.workDir = workDir;
        this.port = LoopbackSshd.freePort();
    }

    /** Runs seeds {@code firstSeed … firstSeed + runs - 1} of a campaign and sums them up. */
    static <D extends FaultDraw> CampaignSummary campaign(String title, String injectedLabel, Plugin<D> plugin,
                                                          Path workDir, long firstSeed, int runs, PrintStream progress)
            throws IOException {
        return CampaignSummary.run(title, injectedLabel, firstSeed, runs, new CampaignEngine<>(plugin, workDir)::run,
                progress);
    }

    /** Runs one seed and checks every invariant; never throws for a product failure (it becomes a violation). */
    Outcome run(long seed) throws IOException {
        Random random = new Random(seed);
        D d = plugin.draw(random);
        Map<Integer, Long> uploadCuts = drawUploadCuts(seed, d.count());
        Path dir = Files.createTempDirectory(workDir, plugin.dirPrefix() + seed + "-");
        List<String> violations = new ArrayList<>();
        WorkshopSpec spec = WorkshopSpec.defaults(d.count(), plugin.provider()).withStateRoot(dir.resolve("workshops"))
                .withCidr(Cidr.parse(CIDR));
        SeedCloud cloud = plugin.open(seed, d, spec);
        Secrets secrets = new Secrets(new StateFolder(spec.stateDir()), spec.name());
        LoopbackInstances machines = new LoopbackInstances(dir.resolve("machines"), port, secrets.loginKey());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int upRuns = 0;
        boolean refused = false;
        try {
            cloud.arm(machines);
            TinyWorkshop tiny = new TinyWorkshop();
            tiny.failing.addAll(d.failing());
            tiny.dropping.addAll(d.dropping());
            tiny.payload.addAll(uploadCuts.keySet());
            machines.cutUploads(uploadCuts);
            Path project = dir.resolve("project");
            Files.createDirectories(project.resolve("security-groups"));
            Files.copy(Path.of("security-groups/workshop.json"), project.resolve("security-groups/workshop.json"));
            Wiring wiring = new Wiring(cloud.clouds(), s -> { }, () -> {
                throw new AssertionError("no address detection in tests");
            }, null, ProvisionListener.NONE, Clock.systemUTC(), LoopbackSshd.user(), port, MachineLayout.STANDARD,
                    Duration.ofSeconds(15), Duration.ofSeconds(30), root -> tiny);
            Fleet fleet = new Fleet(spec, project, wiring, new PrintStream(out, true, StandardCharsets.UTF_8));

            // up until ready or refused
            boolean ready = false;
            String lastError = null;
            while (!ready && !refused && upRuns < MAX_UP_RUNS) {
                upRuns++;
                try {
                    ready = fleet.up(true) == 0;
                } catch (FleetException e) {
                    lastError = e.getMessage();
                    refused = d.quota() && cloud.refusedForQuota(lastError, violations);
                }
                tiny.failing.clear(); // the facilitator fixed the broken step
            }
            if (d.quota() && !refused) {
                violations.add(cloud.quotaInWords() + " for " + d.count() + " machines was not refused with its cause: "
                        + lastError);
            }
            if (!d.quota() && !ready) {
                violations.add("not ready after " + upRuns + " up runs; last error: " + lastError);
            }
            if (ready) {
                checkReady(spec, machines, violations);
                cloud.checkReady(machines, violations);
                checkBundlesWhole(machines, uploadCuts.keySet(), violations);
            }
            cloud.checkRequests(violations);

            // teardown until done
            boolean down = false;
            for (int t = 0; t < MAX_TEARDOWN_RUNS && !down; t++) {
                try {
                    down = fleet.teardown(true) == 0;
                } catch (FleetException e) {
                    lastError = e.getMessage();
                }
            }
            if (!down) {
                violations.add("teardown did not finish: " + lastError);
            }
            cloud.checkNothingLeft(violations);
            checkNothingLeft(spec, machines, violations);
            violations.addAll(machines.violations());
            checkUploadCuts(spec, dir.resolve("machines"), machines, violations);
        } catch (RuntimeException e) {
            violations.add("unexpected " + e);
        } finally {
            machines.close();
            cloud.close();
        }
        Map<String, Long> injected = new TreeMap<>();
        cloud.countInjected(injected);
        if (!d.failing().isEmpty()) {
            injected.put("step failure", (long) d.failing().size());
        }
        long drops = countDrops(dir.resolve("machines"));
        if (drops > 0) {
            injected.put("ssh drop mid-step", drops);
        }
        if (machines.connectionsCut() > 0) {
            injected.put("ssh drop mid-upload", (long) machines.connectionsCut());
        }
        if (Boolean.getBoolean("faults.verbose")) {
            System.out.println("seed " + seed + " " + d + "\n" + out.toString(StandardCharsets.UTF_8));
        }
        if (!violations.isEmpty()) {
            violations.add("seed " + seed + " output:\n" + out.toString(StandardCharsets.UTF_8));
        } else {
            deleteTree(dir);
        }
        return new Outcome(seed, d, upRuns, refused, violations, injected);
    }

    /**
     * Attendees whose machine's SSH connection is cut mid-upload (15 % each), with the cut point: after 20 to 84 KB of
     * client→server traffic, inside the {@link TinyWorkshop#PAYLOAD_BYTES} payload. Drawn from their own generator so
     * the other faults of a seed stay as they were before this fault existed.
     */
    static Map<Integer, Long> drawUploadCuts(long seed, int count) {
        Random r = new Random(seed * 7919 + 17);
        Map<Integer, Long> cuts = new TreeMap<>();
        for (int n = 1; n <= count; n++) {
            if (r.nextDouble() < 0.15) {
                cuts.put(n, 20_000L + r.nextInt(64_000));
            }
        }
        return cuts;
    }

    /** Every attendee's machine ready in the ledger, and exactly one live machine each. */
    private void checkReady(WorkshopSpec spec, LoopbackInstances machines, List<String> violations) {
        LedgerData data = Ledger.open(new StateFolder(spec.stateDir()), spec.name(), plugin.provider().id(),
                spec.region(), Clock.systemUTC()).snapshot();
        for (int n = 1; n <= spec.count(); n++) {
            MachineRecord r = data.machines().get(n);
            if (r == null || r.phase() != MachinePhase.READY) {
                violations.add("machine " + n + " not ready in the ledger: " + r);
            }
            if (machines.liveInstances(n) != 1) {
                violations.add("attendee " + n + " has " + machines.liveInstances(n) + " live machines");
            }
        }
    }

    /** A ready machine's bundle is the whole bundle: its payload matches byte for byte. */
    private static void checkBundlesWhole(LoopbackInstances machines, Set<Integer> withPayload, List<String> violations)
            throws IOException {
        for (int n : withPayload) {
            TestMachines.Box box = machines.boxOf(n);
            if (box == null) {
                violations.add("attendee " + n + " has no live machine to check its bundle on");
                continue;
            }
            Path payload = box.bundleRoot().resolve("payload.bin");
            Path sum = box.bundleRoot().resolve("payload.sha256");
            if (!Files.exists(payload) || !Files.exists(sum)
                    || !Files.readString(sum).startsWith(TinyWorkshop.sha256(Files.readAllBytes(payload)) + " ")) {
                violations.add("attendee " + n + " is ready with a bundle whose payload is missing or torn");
            }
        }
    }

    /** After teardown: every machine terminated and the ledger closed. */
    private void checkNothingLeft(WorkshopSpec spec, LoopbackInstances machines, List<String> violations) {
        try {
            if (machines.awaitNoneLive(Duration.ofSeconds(10)) != 0) {
                violations.add(machines.live() + " machines never terminated");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            violations.add("interrupted");
        }
        Ledger ledger = Ledger.open(new StateFolder(spec.stateDir()), spec.name(), plugin.provider().id(),
                spec.region(), Clock.systemUTC());
        if (!ledger.snapshot().isClosed() || !ledger.liveResources().isEmpty()) {
            violations.add("ledger not closed or still lists " + ledger.liveResources());
        }
    }

    /**
     * Every relay cut landed in an upload (the machine's log says it failed at "upload": otherwise the cut point is
     * miscalibrated and the fault was not the one claimed), and no step ever ran on a torn bundle.
     */
    private static void checkUploadCuts(WorkshopSpec spec, Path machinesDir, LoopbackInstances machines,
                                        List<String> violations) throws IOException {
        long failedUploads = 0;
        Path logs = spec.stateDir().resolve("logs");
        if (Files.isDirectory(logs)) {
            try (Stream<Path> files = Files.list(logs)) {
                for (Path log : files.toList()) {
                    failedUploads += Files.readAllLines(log).stream()
                            .filter(l -> l.startsWith("== FAILED at upload:")).count();
                }
            }
        }
        if (failedUploads != machines.connectionsCut()) {
            violations.add(machines.connectionsCut() + " connection(s) cut by the relay but " + failedUploads
                    + " upload failure(s) in the machines' logs");
        }
        if (Files.isDirectory(machinesDir)) {
            try (Stream<Path> walk = Files.walk(machinesDir, 3)) {
                for (Path torn : walk.filter(p -> p.getFileName().toString().equals("torn.log")).toList()) {
                    violations.add("a step ran on a torn bundle: " + Files.readString(torn).trim());
                }
            }
        }
    }

    private static long countDrops(Path machinesDir) throws IOException {
        if (!Files.isDirectory(machinesDir)) {
            return 0;
        }
        try (Stream<Path> walk = Files.walk(machinesDir, 3)) {
            return walk.filter(p -> p.getFileName().toString().equals("dropped")).count();
        }
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Runs a campaign from the command line ({@code <first seed> <runs>}); exit 1 on any invariant violation. */
    static void main(String[] args, int defaultRuns, String tempPrefix, Campaign campaign) throws IOException {
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "off");
        long seed = args.length > 0 ? Long.parseLong(args[0]) : 1;
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : defaultRuns;
        CampaignSummary s = campaign.run(Files.createTempDirectory(tempPrefix), seed, runs, System.out);
        System.out.println(s.text() + " (seeds " + seed + ".." + (seed + runs - 1) + ")");
        System.exit(s.violations().isEmpty() ? 0 : 1);
    }

    /** A campaign's entry point, as its {@code campaign} method. */
    interface Campaign {
        CampaignSummary run(Path workDir, long firstSeed, int runs, PrintStream progress) throws IOException;
    }
}
