package org.workshopfleet.faults;

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
import java.util.TreeMap;
import java.util.stream.Stream;
import org.workshopfleet.CloudFactory;
import org.workshopfleet.Fleet;
import org.workshopfleet.FleetException;
import org.workshopfleet.Wiring;
import org.workshopfleet.cloud.ec2.Ec2Cloud;
import org.workshopfleet.cloud.ec2.fake.Ec2Fake;
import org.workshopfleet.cloud.ec2.fake.RecordedCall;
import org.workshopfleet.provision.MachineLayout;
import org.workshopfleet.provision.ProvisionListener;
import org.workshopfleet.spec.Provider;
import org.workshopfleet.spec.WorkshopSpec;
import org.workshopfleet.ssh.LoopbackSshd;
import org.workshopfleet.state.LedgerData;
import org.workshopfleet.state.Ledger;
import org.workshopfleet.state.MachinePhase;
import org.workshopfleet.state.MachineRecord;
import org.workshopfleet.state.Secrets;
import org.workshopfleet.state.StateFolder;
import software.amazon.awssdk.utils.SdkAutoCloseable;

/**
 * Issue 7's fault campaign, seeded and reproducible: per seed, {@link Fleet} (the real orchestration, Ec2Cloud on the
 * real SDK client) runs against an {@link Ec2Fake} with randomly drawn faults whose instances are real loopback SSH
 * machines ({@link LoopbackInstances}), with tiny bundles ({@link TinyWorkshop}) whose steps sometimes fail or lose
 * their SSH connection, and whose upload is sometimes cut mid-transfer by a {@link CuttingRelay} (a ready machine must
 * then hold the whole bundle, and no step may ever run on a torn one). {@code up} is re-run (as a facilitator would)
 * until it succeeds or refuses with the expected reason, then {@code teardown} until it succeeds. Invariants are checked after every run.
 *
 * <p>Run a larger campaign: {@code mvn -o -q test-compile exec:java -Dexec.classpathScope=test
 * -Dexec.mainClass=org.workshopfleet.faults.FaultCampaign -Dexec.args="1 1000"} (first seed, number of runs).
 */
public final class FaultCampaign {

    /** The seed's drawn faults, for the report. */
    record Draw(int count, double throttle, int exhaustedZones, int notFoundPolls, int busyDeletes, boolean lostLaunch,
                boolean lostTerminate, boolean quota, List<Integer> failing, List<Integer> dropping) {
    }

    /** One seed's outcome. */
    record Outcome(long seed, Draw draw, int upRuns, boolean refused, List<String> violations, Map<String, Long> injected)
            implements CampaignSummary.SeedOutcome {
    }

    private static final int MAX_UP_RUNS = 5;
    private static final int MAX_TEARDOWN_RUNS = 4;

    private final Path workDir;
    private final int port;

    FaultCampaign(Path workDir) throws IOException {
        this.workDir = workDir;
        this.port = LoopbackSshd.freePort();
    }

    static Draw draw(Random r) {
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
        return new Draw(count, r.nextDouble() < 0.5 ? r.nextDouble() * 0.3 : 0.0, r.nextInt(4),
                r.nextDouble() < 0.4 ? 1 + r.nextInt(4) : 0, r.nextDouble() < 0.5 ? 1 + r.nextInt(6) : 0,
                r.nextDouble() < 0.3, r.nextDouble() < 0.2, r.nextDouble() < 0.08, failing, dropping);
    }

    /** Runs one seed and checks every invariant; never throws for a product failure (it becomes a violation). */
    Outcome run(long seed) throws IOException {
        Random random = new Random(seed);
        Draw d = draw(random);
        Map<Integer, Long> uploadCuts = drawUploadCuts(seed, d.count());
        Path dir = Files.createTempDirectory(workDir, "seed-" + seed + "-");
        List<String> violations = new ArrayList<>();
        List<SdkAutoCloseable> clients = new ArrayList<>();
        Ec2Fake fake = Ec2Fake.start();
        WorkshopSpec spec = WorkshopSpec.defaults(d.count(), Provider.EC2).withStateRoot(dir.resolve("workshops"))
                .withCidr("203.0.113.7/32");
        Secrets secrets = new Secrets(new StateFolder(spec.stateDir()), spec.name());
        LoopbackInstances machines = new LoopbackInstances(dir.resolve("machines"), port, secrets.loginKey());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int upRuns = 0;
        boolean refused = false;
        // Quota seeds: even ones are refused by the pre-check (Service Quotas readable), odd ones cannot read the quota
        // (AccessDenied) and are refused by EC2 at launch, the safety net.
        boolean quotaPreChecked = d.quota() && seed % 2 == 0;
        try {
            fake.backend(machines);
            List<String> zones = fake.zones();
            for (int z = 0; z < d.exhaustedZones() && z < zones.size(); z++) {
                fake.capacity(zones.get(z), "t3.medium", 0);
            }
            if (d.throttle() > 0) {
                fake.faults().throttle(d.throttle(), seed);
            }
            if (d.notFoundPolls() > 0) {
                fake.notFoundDescribesAfterLaunch(d.notFoundPolls());
            }
            if (d.busyDeletes() > 0) {
                fake.groupBusyDeletesAfterTerminate(d.busyDeletes());
            }
            if (d.lostLaunch()) {
                fake.faults().failAfterNext("RunInstances", "InternalError", 1);
            }
            if (d.lostTerminate()) {
                fake.faults().failAfterNext("TerminateInstances", "InternalError", 1);
            }
            if (d.quota()) {
                fake.vcpuLimit(2 * d.count() - 2); // t3.medium has 2 vCPUs: one machine too many
                if (!quotaPreChecked) {
                    fake.quotas().failNext("AccessDeniedException", 1000);
                }
            }
            TinyWorkshop tiny = new TinyWorkshop();
            tiny.failing.addAll(d.failing());
            tiny.dropping.addAll(d.dropping());
            tiny.payload.addAll(uploadCuts.keySet());
            machines.cutUploads(uploadCuts);
            Path project = dir.resolve("project");
            Files.createDirectories(project.resolve("security-groups"));
            Files.copy(Path.of("security-groups/workshop.json"), project.resolve("security-groups/workshop.json"));
            CloudFactory clouds = fake.cloudFactory(Path.of("ami.properties"), clients);
            Wiring wiring = new Wiring(clouds, s -> { }, () -> {
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
                    int limit = 2 * d.count() - 2;
                    if (quotaPreChecked && lastError.contains("(L-1216C47A) in " + spec.region() + " is " + limit
                            + " vCPUs")) {
                        refused = true;
                        if (fake.launchedInstanceCount() != 0 || !fake.securityGroupNames().isEmpty()
                                || !fake.keyPairNames().isEmpty()) {
                            violations.add("the quota pre-check refused after creating something: "
                                    + fake.launchedInstanceCount() + " instance(s), groups " + fake.securityGroupNames()
                                    + ", key pairs " + fake.keyPairNames());
                        }
                    } else if (d.quota() && !quotaPreChecked && lastError.contains("quota VcpuLimitExceeded")
                            && lastError.contains("limit " + limit + " vCPUs")) {
                        refused = true;
                    }
                }
                tiny.failing.clear(); // the facilitator fixed the broken step
            }
            if (d.quota() && !refused) {
                violations.add("quota " + (2 * d.count() - 2) + " vCPUs for " + d.count() + " machines was not refused"
                        + " with its cause: " + lastError);
            }
            if (!d.quota() && !ready) {
                violations.add("not ready after " + upRuns + " up runs; last error: " + lastError);
            }
            if (ready) {
                checkReady(spec, fake, machines, violations);
                checkBundlesWhole(machines, uploadCuts.keySet(), violations);
            }

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
            checkNothingLeft(spec, fake, machines, violations);
            violations.addAll(machines.violations());
            checkUploadCuts(spec, dir.resolve("machines"), machines, violations);
        } catch (RuntimeException e) {
            violations.add("unexpected " + e);
        } finally {
            machines.close();
            clients.forEach(SdkAutoCloseable::close);
            fake.close();
        }
        Map<String, Long> injected = new TreeMap<>();
        for (RecordedCall c : fake.calls()) {
            if (c.errorCode() != null) {
                injected.merge(c.errorCode(), 1L, Long::sum);
            }
        }
        if (d.quota()) {
            injected.merge(quotaPreChecked ? "vCPU quota (pre-check)" : "vCPU quota (unreadable, refused at launch)", 1L,
                    Long::sum);
        }
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

    /** A ready machine's bundle is the whole bundle: its payload matches byte for byte. */
    static void checkBundlesWhole(LoopbackInstances machines, java.util.Set<Integer> withPayload,
                                          List<String> violations) throws IOException {
        for (int n : withPayload) {
            org.workshopfleet.provision.TestMachines.Box box = machines.boxOf(n);
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

    /**
     * Every relay cut landed in an upload (the machine's log says it failed at "upload": otherwise the cut point is
     * miscalibrated and the fault was not the one claimed), and no step ever ran on a torn bundle.
     */
    static void checkUploadCuts(WorkshopSpec spec, Path machinesDir, LoopbackInstances machines,
                                        List<String> violations) throws IOException {
        long failedUploads = 0;
        Path logs = spec.stateDir().resolve("logs");
        if (Files.isDirectory(logs)) {
            try (Stream<Path> files = Files.list(logs)) {
                for (Path log : files.toList()) {
                    failedUploads += Files.readAllLines(log).stream().filter(l -> l.startsWith("== FAILED at upload:")).count();
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

    private static void checkReady(WorkshopSpec spec, Ec2Fake fake, LoopbackInstances machines, List<String> violations) {
        LedgerData data = Ledger.open(new StateFolder(spec.stateDir()), spec.name(), "ec2", spec.region(),
                Clock.systemUTC()).snapshot();
        for (int n = 1; n <= spec.count(); n++) {
            MachineRecord r = data.machines().get(n);
            if (r == null || r.phase() != MachinePhase.READY) {
                violations.add("machine " + n + " not ready in the ledger: " + r);
            }
            if (machines.liveInstances(n) != 1) {
                violations.add("attendee " + n + " has " + machines.liveInstances(n) + " live machines");
            }
        }
        if (fake.liveInstanceCount() != spec.count()) {
            violations.add(fake.liveInstanceCount() + " live instances in the fake for a fleet of " + spec.count());
        }
        if (machines.live() != spec.count()) {
            violations.add(machines.live() + " machines running behind the fake for a fleet of " + spec.count());
        }
    }

    private static void checkNothingLeft(WorkshopSpec spec, Ec2Fake fake, LoopbackInstances machines, List<String> violations) {
        if (fake.liveInstanceCount() != 0) {
            violations.add(fake.liveInstanceCount() + " instances left after teardown");
        }
        if (!fake.securityGroupNames().isEmpty() || !fake.keyPairNames().isEmpty()) {
            violations.add("left after teardown: groups " + fake.securityGroupNames() + ", key pairs " + fake.keyPairNames());
        }
        try {
            if (machines.awaitNoneLive(Duration.ofSeconds(10)) != 0) {
                violations.add(machines.live() + " machines never terminated");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            violations.add("interrupted");
        }
        Ledger ledger = Ledger.open(new StateFolder(spec.stateDir()), spec.name(), "ec2", spec.region(), Clock.systemUTC());
        if (!ledger.snapshot().isClosed() || !ledger.liveResources().isEmpty()) {
            violations.add("ledger not closed or still lists " + ledger.liveResources());
        }
    }

    static long countDrops(Path machinesDir) throws IOException {
        if (!Files.isDirectory(machinesDir)) {
            return 0;
        }
        try (Stream<Path> walk = Files.walk(machinesDir, 3)) {
            return walk.filter(p -> p.getFileName().toString().equals("dropped")).count();
        }
    }

    static void deleteTree(Path dir) {
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static CampaignSummary campaign(Path workDir, long firstSeed, int runs, PrintStream progress) throws IOException {
        return CampaignSummary.run("fault campaign", "faults injected", firstSeed, runs, new FaultCampaign(workDir)::run,
                progress);
    }

    /** {@code FaultCampaign <first seed> <runs>}: prints the figures; exit 1 on any invariant violation. */
    public static void main(String[] args) throws IOException {
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "off");
        long seed = args.length > 0 ? Long.parseLong(args[0]) : 1;
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : 200;
        Path work = Files.createTempDirectory("fault-campaign");
        CampaignSummary s = campaign(work, seed, runs, System.out);
        System.out.println(s.text() + " (seeds " + seed + ".." + (seed + runs - 1) + ")");
        System.exit(s.violations().isEmpty() ? 0 : 1);
    }
}
