package org.workshopfleet.faults;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.workshopfleet.Fleet;
import org.workshopfleet.FleetException;
import org.workshopfleet.Wiring;
import org.workshopfleet.cloud.ec2.AmiCatalog;
import org.workshopfleet.cloud.ec2.Ec2Cloud;
import org.workshopfleet.cloud.ec2.Waiting;
import org.workshopfleet.cloud.ec2.fake.Ec2Fake;
import org.workshopfleet.provision.MachineLayout;
import org.workshopfleet.provision.ProvisionListener;
import org.workshopfleet.spec.Provider;
import org.workshopfleet.spec.WorkshopSpec;
import org.workshopfleet.ssh.LoopbackSshd;
import org.workshopfleet.state.Ledger;
import org.workshopfleet.state.MachinePhase;
import org.workshopfleet.state.MachineRecord;
import org.workshopfleet.state.Secrets;
import org.workshopfleet.state.StateFolder;
import software.amazon.awssdk.services.ec2.Ec2Client;

/**
 * The SIGKILL part of issue 7's campaign: per seed, {@code up} runs in a child JVM ({@link KillableUp}) against an
 * {@link Ec2Fake} in this process, and is killed with SIGKILL ({@link Process#destroyForcibly()}) after a random
 * delay; then {@code up} is re-run here until ready, then {@code teardown}. Invariants: every machine ready after the
 * re-run, no attendee ever had two live instances, nothing left and the ledger closed after teardown.
 * Command: {@code java -cp <test classpath> org.workshopfleet.faults.SigkillCampaign <first seed> <runs>}.
 */
public final class SigkillCampaign {

    record Summary(int runs, Map<String, Long> killedDuring, List<String> violations, long millis) {
        String text() {
            return String.format(Locale.ROOT, "SIGKILL campaign: %d runs in %.1f s; killed during: %s; invariant"
                    + " violations: %d", runs, millis / 1000.0, killedDuring, violations.size());
        }
    }

    private SigkillCampaign() {
    }

    static Summary campaign(Path work, long firstSeed, int runs) throws IOException, InterruptedException {
        Map<String, Long> during = new TreeMap<>();
        List<String> violations = new ArrayList<>();
        long start = System.nanoTime();
        for (long seed = firstSeed; seed < firstSeed + runs; seed++) {
            runOne(work, seed, during, violations);
        }
        return new Summary(runs, during, violations, (System.nanoTime() - start) / 1_000_000);
    }

    private static void runOne(Path work, long seed, Map<String, Long> during, List<String> violations)
            throws IOException, InterruptedException {
        Random random = new Random(seed);
        int count = 1 + random.nextInt(3);
        long killAfterMillis = 1000 + random.nextInt(7000); // the child JVM needs about a second to start
        Path dir = Files.createTempDirectory(work, "kill-" + seed + "-");
        Path project = dir.resolve("project");
        Files.createDirectories(project.resolve("security-groups"));
        Files.copy(Path.of("security-groups/workshop.json"), project.resolve("security-groups/workshop.json"));
        Path stateRoot = dir.resolve("workshops");
        WorkshopSpec spec = WorkshopSpec.defaults(count, Provider.EC2).withStateRoot(stateRoot).withCidr("203.0.113.7/32");
        int port = LoopbackSshd.freePort();
        List<Ec2Client> clients = new ArrayList<>();
        try (Ec2Fake fake = Ec2Fake.start();
             LoopbackInstances machines = new LoopbackInstances(dir.resolve("machines"), port,
                     new Secrets(new StateFolder(spec.stateDir()), spec.name()).loginKey())) {
            fake.backend(machines);
            if (random.nextBoolean()) {
                fake.notFoundDescribesAfterLaunch(1 + random.nextInt(3));
            }
            Path childOut = dir.resolve("child.out");
            String java = ProcessHandle.current().info().command().orElse("java");
            Process child = new ProcessBuilder(java, "-Dorg.slf4j.simpleLogger.defaultLogLevel=off",
                    "-cp", System.getProperty("java.class.path"), KillableUp.class.getName(),
                    fake.endpoint().toString(), stateRoot.toString(), project.toString(), String.valueOf(port),
                    String.valueOf(count))
                    .redirectErrorStream(true).redirectOutput(childOut.toFile()).start();
            boolean exited = child.waitFor(killAfterMillis, TimeUnit.MILLISECONDS);
            String phase;
            if (exited) {
                phase = "finished before the kill";
            } else {
                child.destroyForcibly(); // SIGKILL on Unix: no shutdown hook, no finally
                child.waitFor();
                String text = Files.readString(childOut, StandardCharsets.UTF_8);
                phase = text.contains("provisioning ") ? "provisioning" : text.contains("waiting for") ? "waiting to run"
                        : text.contains("launching") ? "launching" : "preparing";
            }
            during.merge(phase, 1L, Long::sum);

            Wiring wiring = new Wiring((s, recorder) -> {
                Ec2Client c = fake.client();
                clients.add(c);
                return new Ec2Cloud(c, s, recorder, AmiCatalog.load(Path.of("ami.properties")), Waiting.fast());
            }, s -> { }, () -> {
                throw new AssertionError("no address detection in tests");
            }, null, ProvisionListener.NONE, Clock.systemUTC(), LoopbackSshd.user(), port, MachineLayout.STANDARD,
                    Duration.ofSeconds(15), Duration.ofSeconds(30), root -> new TinyWorkshop());
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            Fleet fleet = new Fleet(spec, project, wiring, new PrintStream(out, true, StandardCharsets.UTF_8));
            boolean ready = false;
            String last = null;
            for (int i = 0; i < 3 && !ready; i++) {
                try {
                    ready = fleet.up(true) == 0;
                } catch (FleetException e) {
                    last = e.getMessage();
                }
            }
            List<String> v = new ArrayList<>();
            if (!ready) {
                v.add("not ready after a SIGKILL during " + phase + " and 3 re-runs: " + last);
            } else {
                var data = Ledger.open(new StateFolder(spec.stateDir()), spec.name(), "ec2", spec.region(),
                        Clock.systemUTC()).snapshot();
                for (int n = 1; n <= count; n++) {
                    MachineRecord r = data.machines().get(n);
                    if (r == null || r.phase() != MachinePhase.READY || machines.liveInstances(n) != 1) {
                        v.add("machine " + n + " after re-run: " + r + ", live instances " + machines.liveInstances(n));
                    }
                }
            }
            boolean down = false;
            for (int i = 0; i < 3 && !down; i++) {
                try {
                    down = fleet.teardown(true) == 0;
                } catch (FleetException e) {
                    last = e.getMessage();
                }
            }
            if (!down) {
                v.add("teardown failed: " + last);
            }
            if (fake.liveInstanceCount() != 0 || !fake.securityGroupNames().isEmpty() || !fake.keyPairNames().isEmpty()
                    || machines.awaitNoneLive(Duration.ofSeconds(10)) != 0) {
                v.add("left after teardown: " + fake.liveInstanceCount() + " instances, groups " + fake.securityGroupNames()
                        + ", keys " + fake.keyPairNames());
            }
            Ledger ledger = Ledger.open(new StateFolder(spec.stateDir()), spec.name(), "ec2", spec.region(), Clock.systemUTC());
            if (!ledger.snapshot().isClosed() || !ledger.liveResources().isEmpty()) {
                v.add("ledger not closed: " + ledger.liveResources());
            }
            v.addAll(machines.violations());
            for (String s : v) {
                violations.add("seed " + seed + " (killed after " + killAfterMillis + " ms during " + phase + "): " + s
                        + "\nchild:\n" + Files.readString(childOut) + "\nre-run:\n" + out.toString(StandardCharsets.UTF_8));
            }
        } finally {
            clients.forEach(Ec2Client::close);
        }
    }

    public static void main(String[] args) throws Exception {
        long seed = args.length > 0 ? Long.parseLong(args[0]) : 1;
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : 20;
        Summary s = campaign(Files.createTempDirectory("sigkill-campaign"), seed, runs);
        s.violations().forEach(System.out::println);
        System.out.println(s.text() + " (seeds " + seed + ".." + (seed + runs - 1) + ")");
        System.exit(s.violations().isEmpty() ? 0 : 1);
    }
}
