package org.workshopfleet.faults;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.workshopfleet.CloudFactory;
import org.workshopfleet.Fleet;
import org.workshopfleet.FleetException;
import org.workshopfleet.Wiring;
import org.workshopfleet.cloud.lightsail.LightsailCloud;
import org.workshopfleet.concurrent.Waiter;
import org.workshopfleet.cloud.lightsail.fake.Fault;
import org.workshopfleet.cloud.lightsail.fake.LightsailFake;
import org.workshopfleet.provision.MachineLayout;
import org.workshopfleet.provision.ProvisionListener;
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
 * Issue 7's fault campaign on Lightsail: per seed, {@link Fleet} (the real orchestration, {@link LightsailCloud} on
 * the real SDK client) runs against a {@link LightsailFake} whose instances are real loopback SSH machines
 * ({@link LoopbackInstances}, booted from the product's real launch script), with faults drawn from the fake's table
 * (throttling or 500s at a rate, lost create/import responses, NotFound right after a create, a firewall change refused
 * while pending, the default firewall coming back at boot, failing deletes, the instance quota) and on the machines
 * (a failing step, an SSH drop mid-step, an SSH cut mid-upload). {@code up} is re-run until ready or refused with the
 * quota as cause, then {@code teardown} until done.
 *
 * <p>Invariants: every machine ready after the re-runs (or the refusal names the quota); no attendee ever had two live
 * machines; no ready machine holds a torn bundle; every PutInstancePublicPorts the product sent opens exactly tcp
 * 22, 80 and 3000 to the facilitator's CIDR (nothing else, no IPv6), and every ready instance has exactly those rules;
 * after teardown the fake holds no instance and no key pair of the workshop, no machine runs and the ledger is closed.
 *
 * <p>Command: {@code mvn -B -o -q test-compile exec:java -Dexec.classpathScope=test
 * -Dexec.mainClass=org.workshopfleet.faults.LightsailCampaign -Dexec.args="1 100"} (first seed, runs).
 */
public final class LightsailCampaign {

    static final String CIDR = "203.0.113.7/32";
    /** Millisecond polling: the campaign spends its time on calls and SSH, not on sleeps. */
    static final Waiter QUICK = new Waiter(Duration.ofMillis(5), Duration.ofMillis(40), 2, 0, Duration.ofSeconds(10));
    private static final int MAX_UP_RUNS = 5;
    private static final int MAX_TEARDOWN_RUNS = 4;

    /** The seed's drawn faults. */
    record Draw(int count, Fault rateFault, double rate, int pendingPolls, boolean lostCreate, boolean lostImport,
                int notFoundPuts, boolean notReadyPut, boolean notFoundTag, boolean resetPorts, int failingDeletes,
                boolean quota, List<Integer> failing, List<Integer> dropping) {
    }

    record Outcome(long seed, Draw draw, int upRuns, boolean refused, List<String> violations, Map<String, Long> injected)
            implements CampaignSummary.SeedOutcome {
    }

    private final Path workDir;
    private final int port;

    LightsailCampaign(Path workDir) throws IOException {
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
        double p = r.nextDouble();
        Fault rateFault = p < 0.4 ? Fault.THROTTLING : p < 0.6 ? Fault.SERVICE_ERROR : null;
        double rate = rateFault == Fault.THROTTLING ? r.nextDouble() * 0.3 : rateFault == null ? 0 : r.nextDouble() * 0.15;
        return new Draw(count, rateFault, rate, 1 + r.nextInt(4), r.nextDouble() < 0.3, r.nextDouble() < 0.2,
                r.nextDouble() < 0.4 ? 1 + r.nextInt(3) : 0, r.nextDouble() < 0.3, r.nextDouble() < 0.2,
                r.nextDouble() < 0.5, r.nextDouble() < 0.25 ? 1 + r.nextInt(2) : 0, r.nextDouble() < 0.08,
                failing, dropping);
    }

    Outcome run(long seed) throws IOException {
        Random random = new Random(seed);
        Draw d = draw(random);
        Map<Integer, Long> uploadCuts = FaultCampaign.drawUploadCuts(seed, d.count());
        Path dir = Files.createTempDirectory(workDir, "lightsail-" + seed + "-");
        List<String> violations = new ArrayList<>();
        WorkshopSpec spec = WorkshopSpec.defaults(d.count(), Provider.LIGHTSAIL).withStateRoot(dir.resolve("workshops"))
                .withCidr(CIDR);
        LightsailFake fake = LightsailFake.start(spec.region());
        Secrets secrets = new Secrets(new StateFolder(spec.stateDir()), spec.name());
        LoopbackInstances machines = new LoopbackInstances(dir.resolve("machines"), port, secrets.loginKey());
        List<LightsailCloud> clouds = new ArrayList<>();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int upRuns = 0;
        boolean refused = false;
        int expectedQuota = d.count() - 1;
        try {
            fake.backend(machines).pendingPolls(d.pendingPolls()).resetPortsAtBoot(d.resetPorts());
            if (d.rateFault() != null) {
                fake.faultRate(d.rate(), seed, d.rateFault());
            }
            if (d.lostCreate()) {
                fake.failNext("CreateInstances", Fault.LOST_RESPONSE);
            }
            if (d.lostImport()) {
                fake.failNext("ImportKeyPair", Fault.LOST_RESPONSE);
            }
            for (int i = 0; i < d.notFoundPuts(); i++) {
                fake.failNext("PutInstancePublicPorts", Fault.NOT_FOUND);
            }
            if (d.notReadyPut()) {
                fake.failNext("PutInstancePublicPorts", Fault.NOT_READY);
            }
            if (d.notFoundTag()) {
                fake.failNext("TagResource", Fault.NOT_FOUND);
            }
            for (int i = 0; i < d.failingDeletes(); i++) {
                fake.failNext("DeleteInstance", Fault.SERVICE_ERROR);
            }
            if (d.quota()) {
                fake.instanceQuota(expectedQuota);
            }
            TinyWorkshop tiny = new TinyWorkshop();
            tiny.failing.addAll(d.failing());
            tiny.dropping.addAll(d.dropping());
            tiny.payload.addAll(uploadCuts.keySet());
            machines.cutUploads(uploadCuts);
            Path project = dir.resolve("project");
            Files.createDirectories(project.resolve("security-groups"));
            Files.copy(Path.of("security-groups/workshop.json"), project.resolve("security-groups/workshop.json"));
            CloudFactory factory = (s, recorder) -> {
                LightsailCloud c = new LightsailCloud(fake.newClient(), s, recorder, QUICK);
                synchronized (clouds) {
                    clouds.add(c);
                }
                return c;
            };
            Wiring wiring = new Wiring(factory, s -> { }, () -> {
                throw new AssertionError("no address detection in tests");
            }, null, ProvisionListener.NONE, Clock.systemUTC(), LoopbackSshd.user(), port, MachineLayout.STANDARD,
                    Duration.ofSeconds(15), Duration.ofSeconds(30), root -> tiny);
            Fleet fleet = new Fleet(spec, project, wiring, new PrintStream(out, true, StandardCharsets.UTF_8));

            boolean ready = false;
            String lastError = null;
            while (!ready && !refused && upRuns < MAX_UP_RUNS) {
                upRuns++;
                try {
                    ready = fleet.up(true) == 0;
                } catch (FleetException e) {
                    lastError = e.getMessage();
                    if (d.quota() && lastError.contains("QuotaExceeded") && lastError.contains("limits")) {
                        refused = true;
                    }
                }
                tiny.failing.clear(); // the facilitator fixed the broken step
            }
            if (d.quota() && !refused) {
                violations.add("instance quota " + expectedQuota + " for " + d.count() + " machines was not refused"
                        + " with its cause: " + lastError);
            }
            if (!d.quota() && !ready) {
                violations.add("not ready after " + upRuns + " up runs; last error: " + lastError);
            }
            if (ready) {
                checkReady(spec, fake, machines, violations);
                FaultCampaign.checkBundlesWhole(machines, uploadCuts.keySet(), violations);
            }
            checkPortRequests(fake, violations);

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
            FaultCampaign.checkUploadCuts(spec, dir.resolve("machines"), machines, violations);
        } catch (RuntimeException e) {
            violations.add("unexpected " + e);
        } finally {
            machines.close();
            clouds.forEach(LightsailCloud::close);
            fake.close();
        }
        Map<String, Long> injected = new TreeMap<>();
        for (LightsailFake.Request r : fake.requests()) {
            if (r.errorType() != null) {
                injected.merge(r.operation() + ":" + r.errorType(), 1L, Long::sum);
            }
        }
        if (d.resetPorts()) {
            injected.put("default firewall back at boot", (long) d.count());
        }
        if (!d.failing().isEmpty()) {
            injected.put("step failure", (long) d.failing().size());
        }
        long drops = FaultCampaign.countDrops(dir.resolve("machines"));
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
            FaultCampaign.deleteTree(dir);
        }
        return new Outcome(seed, d, upRuns, refused, violations, injected);
    }

    /** Exactly tcp 22, 80 and 3000 from the facilitator's CIDR, no IPv6: what security-groups/workshop.json asks. */
    static final Set<String> EXPECTED_RULES = Set.of("tcp 22-22 [" + CIDR + "] []", "tcp 80-80 [" + CIDR + "] []",
            "tcp 3000-3000 [" + CIDR + "] []");

    private static void checkPortRequests(LightsailFake fake, List<String> violations) {
        Set<String> firewalled = new TreeSet<>();
        for (LightsailFake.Request r : fake.requests()) {
            if (!r.operation().equals("PutInstancePublicPorts")) {
                continue;
            }
            Set<String> rules = new TreeSet<>();
            int n = 0;
            for (JsonNode p : r.body().path("portInfos")) {
                n++;
                List<String> cidrs = new ArrayList<>();
                p.path("cidrs").forEach(c -> cidrs.add(c.asText()));
                List<String> v6 = new ArrayList<>();
                p.path("ipv6Cidrs").forEach(c -> v6.add(c.asText()));
                rules.add(p.path("protocol").asText() + " " + p.path("fromPort").asInt() + "-" + p.path("toPort").asInt()
                        + " " + cidrs + " " + v6);
            }
            if (n != 3 || !rules.equals(EXPECTED_RULES)) {
                violations.add("PutInstancePublicPorts for " + r.body().path("instanceName").asText() + " opened " + rules);
            }
            if (r.succeeded()) {
                firewalled.add(r.body().path("instanceName").asText());
            }
        }
        Set<String> launched = new TreeSet<>();
        fake.requests().stream().filter(r -> r.operation().equals("CreateInstances") && r.succeeded())
                .forEach(r -> r.body().path("instanceNames").forEach(x -> launched.add(x.asText())));
        if (!firewalled.containsAll(launched)) {
            violations.add("launched " + launched + " but put the firewall only on " + firewalled);
        }
    }

    private static void checkReady(WorkshopSpec spec, LightsailFake fake, LoopbackInstances machines, List<String> violations) {
        LedgerData data = Ledger.open(new StateFolder(spec.stateDir()), spec.name(), Provider.LIGHTSAIL.id(), spec.region(),
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
        List<LightsailFake.InstanceView> instances = fake.instances();
        if (instances.size() != spec.count() || machines.live() != spec.count()) {
            violations.add(instances.size() + " instances in the fake and " + machines.live() + " machines running for a"
                    + " fleet of " + spec.count());
        }
        for (LightsailFake.InstanceView i : instances) {
            Set<String> rules = new TreeSet<>();
            i.ports().forEach(p -> rules.add(p.protocol() + " " + p.fromPort() + "-" + p.toPort() + " " + p.cidrs() + " "
                    + p.ipv6Cidrs()));
            if (!rules.equals(EXPECTED_RULES) || i.ports().size() != 3) {
                violations.add("ready instance " + i.name() + " has firewall " + rules);
            }
        }
    }

    private static void checkNothingLeft(WorkshopSpec spec, LightsailFake fake, LoopbackInstances machines,
                                         List<String> violations) {
        if (!fake.instances().isEmpty() || !fake.keyPairNames().equals(Set.of(LightsailFake.DEFAULT_KEY_PAIR))) {
            violations.add("left after teardown: instances " + fake.instances().stream().map(LightsailFake.InstanceView::name)
                    .toList() + ", key pairs " + fake.keyPairNames());
        }
        try {
            if (machines.awaitNoneLive(Duration.ofSeconds(10)) != 0) {
                violations.add(machines.live() + " machines never terminated");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            violations.add("interrupted");
        }
        Ledger ledger = Ledger.open(new StateFolder(spec.stateDir()), spec.name(), Provider.LIGHTSAIL.id(), spec.region(),
                Clock.systemUTC());
        if (!ledger.snapshot().isClosed() || !ledger.liveResources().isEmpty()) {
            violations.add("ledger not closed or still lists " + ledger.liveResources());
        }
    }

    static CampaignSummary campaign(Path workDir, long firstSeed, int runs, PrintStream progress) throws IOException {
        return CampaignSummary.run("Lightsail fault campaign", "faults and errors (cloud errors as operation:type, injected"
                + " or provoked by an injected one, e.g. NameExists after a lost response)", firstSeed, runs,
                new LightsailCampaign(workDir)::run, progress);
    }

    /** {@code LightsailCampaign <first seed> <runs>}: prints the figures; exit 1 on any invariant violation. */
    public static void main(String[] args) throws IOException {
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "off");
        long seed = args.length > 0 ? Long.parseLong(args[0]) : 1;
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : 100;
        CampaignSummary s = campaign(Files.createTempDirectory("lightsail-campaign"), seed, runs, System.out);
        System.out.println(s.text() + " (seeds " + seed + ".." + (seed + runs - 1) + ")");
        System.exit(s.violations().isEmpty() ? 0 : 1);
    }
}
