package org.workshopfleet.faults;

import org.workshopfleet.spec.Cidr;
import org.workshopfleet.error.FleetException;
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
import org.workshopfleet.command.Wiring;
import org.workshopfleet.cloud.ec2.AmiCatalog;
import org.workshopfleet.cloud.ec2.Ec2Cloud;
import org.workshopfleet.concurrent.Waiter;
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
 * The SIGKILL part of the fault campaign: per seed, {@code up} runs in a child JVM ({@link KillableUp}) against an
 * {@link Ec2Fake} in this process, and is killed with SIGKILL ({@link Process#destroyForcibly()}) either after a
 * random delay from its start or a random few hundred ms after a chosen progress line ({@code launching},
 * {@code waiting for}, {@code provisioning}: so kills land between launch and provisioning, not only where the JVM
 * start happens to put them). Then, per seed, {@code up} is re-run here until ready (or not), {@code teardown} runs in
 * a child killed at a random delay after its first line (or not), and finally {@code teardown} runs here until done.
 * Invariants: every machine ready after the re-run, no attendee ever had two live instances, nothing left (found by
 * ledger and by tag) and the ledger closed after the last teardown.
 * Command: {@code java -cp <test classpath> org.workshopfleet.faults.SigkillCampaign <first seed> <runs>}.
 */
public final class SigkillCampaign {

    record Summary(int runs, Map<String, Long> killedDuring, List<String> violations, long millis) {
        String text() {
            return String.format(Locale.ROOT, "SIGKILL campaign: %d runs in %.1f s; killed during (up, then teardown): %s; invariant"
                    + " violations: %d", runs, millis / 1000.0, killedDuring, violations.size());
        }
    }

    /** How late the fake answers the calls of a teardown about to be killed (see {@link Ec2Fake#callLatency}). */
    static final Duration TEARDOWN_LATENCY = Duration.ofMillis(40);

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

    /** How a child is killed: {@code delayMillis} after its start, or after the first output line starting with {@code anchor}. */
    record KillPoint(String anchor, long delayMillis) {
    }

    private static void runOne(Path work, long seed, Map<String, Long> during, List<String> violations)
            throws IOException, InterruptedException {
        Random random = new Random(seed);
        int count = 1 + random.nextInt(3);
        long killAfterMillis = 1000 + random.nextInt(7000); // the child JVM needs about a second to start
        boolean notFound = random.nextBoolean();
        int notFoundPolls = 1 + random.nextInt(3);
        // Drawn after the original draws, so a seed's up kill stays where it was before teardown kills existed.
        KillPoint upKill = random.nextBoolean() ? new KillPoint(null, killAfterMillis)
                : new KillPoint(List.of("launching", "waiting for", "provisioning ").get(random.nextInt(3)),
                        random.nextInt(400));
        boolean reRunUpFirst = random.nextDouble() < 0.6;
        boolean killTeardown = random.nextDouble() < 0.7;
        // From the teardown's first line (the child still loads the SDK and makes its first calls), or shortly after its
        // first "machine ... destroyed" or "security group ... removed" line. The fake answers each call of the killed
        // teardown TEARDOWN_LATENCY late, so at least one more call is still under way at those kill points.
        int anchor = random.nextInt(3);
        KillPoint teardownKill = anchor == 0 ? new KillPoint("teardown of workshop", random.nextInt(3000))
                : anchor == 1 ? new KillPoint("  machine ", random.nextInt(60))
                : new KillPoint("  security group ", random.nextInt(30));
        int terminatingPolls = 2 + random.nextInt(10);
        int busyDeletes = random.nextInt(5);
        Path dir = Files.createTempDirectory(work, "kill-" + seed + "-");
        Path project = dir.resolve("project");
        Files.createDirectories(project.resolve("security-groups"));
        Files.copy(Path.of("security-groups/workshop.json"), project.resolve("security-groups/workshop.json"));
        Path stateRoot = dir.resolve("workshops");
        WorkshopSpec spec = WorkshopSpec.defaults(count, Provider.EC2).withStateRoot(stateRoot).withCidr(Cidr.parse("203.0.113.7/32"));
        int port = LoopbackSshd.freePort();
        List<Ec2Client> clients = new ArrayList<>();
        try (Ec2Fake fake = Ec2Fake.start();
             LoopbackInstances machines = new LoopbackInstances(dir.resolve("machines"), port,
                     new Secrets(new StateFolder(spec.stateDir()), spec.name()).loginKey())) {
            fake.backend(machines);
            if (notFound) {
                fake.notFoundDescribesAfterLaunch(notFoundPolls);
            }
            fake.terminatingPolls(terminatingPolls);
            List<String> childCommand = List.of(fake.endpoint().toString(), stateRoot.toString(), project.toString(),
                    String.valueOf(port), String.valueOf(count));
            Path upOut = dir.resolve("child-up.out");
            String upPhase = upPhase(runAndKill(childCommand, upOut, upKill));
            String phase = "up " + upPhase + (upKill.anchor() == null ? "" : " (at '" + upKill.anchor().trim() + "')");
            during.merge(phase, 1L, Long::sum);

            Wiring wiring = new Wiring((s, recorder) -> {
                Ec2Client c = fake.client();
                clients.add(c);
                return new Ec2Cloud(c, Ec2Cloud.config(s), recorder, AmiCatalog.load(Path.of("ami.properties")), Waiter.fast());
            }, s -> { }, () -> {
                throw new AssertionError("no address detection in tests");
            }, null, ProvisionListener.NONE, Clock.systemUTC(), LoopbackSshd.user(), port, MachineLayout.STANDARD,
                    Duration.ofSeconds(15), Duration.ofSeconds(30), root -> new TinyWorkshop());
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            Fleet fleet = new Fleet(spec, project, wiring, new PrintStream(out, true, StandardCharsets.UTF_8));
            List<String> v = new ArrayList<>();
            String last = null;
            if (reRunUpFirst) {
                boolean ready = false;
                for (int i = 0; i < 3 && !ready; i++) {
                    try {
                        ready = fleet.up(true) == 0;
                    } catch (FleetException e) {
                        last = e.getMessage();
                    }
                }
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
            }
            Path teardownOut = dir.resolve("child-teardown.out");
            if (killTeardown) {
                fake.groupBusyDeletesAfterTerminate(busyDeletes).callLatency(TEARDOWN_LATENCY);
                List<String> args = new ArrayList<>(childCommand);
                args.add("teardown");
                String killedAt = runAndKill(args, teardownOut, teardownKill);
                boolean anchorSeen = Files.readString(teardownOut).lines().anyMatch(l -> l.startsWith(teardownKill.anchor()));
                String tPhase = "teardown " + (anchorSeen ? teardownPhase(killedAt) : "finished with nothing to kill at")
                        + (reRunUpFirst ? " of a ready fleet" : " of a killed up") + " (at '" + teardownKill.anchor().trim() + "')";
                fake.callLatency(Duration.ZERO);
                during.merge(tPhase, 1L, Long::sum);
                phase = phase + ", then " + tPhase;
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
                violations.add("seed " + seed + " (killed during " + phase + "): " + s
                        + "\nchild up:\n" + Files.readString(upOut)
                        + (killTeardown ? "\nchild teardown:\n" + Files.readString(teardownOut) : "")
                        + "\nin process:\n" + out.toString(StandardCharsets.UTF_8));
            }
        } finally {
            clients.forEach(Ec2Client::close);
        }
    }

    /**
     * Runs {@link KillableUp} with these arguments, output to {@code childOut}, and kills it with SIGKILL at
     * {@code kill}; returns the child's output at the kill, or null when it finished first.
     */
    private static String runAndKill(List<String> args, Path childOut, KillPoint kill)
            throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new ArrayList<>(List.of(java, "-Dorg.slf4j.simpleLogger.defaultLogLevel=off",
                "-cp", System.getProperty("java.class.path"), KillableUp.class.getName()));
        command.addAll(args);
        Process child = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(childOut.toFile()).start();
        long anchoredAt = kill.anchor() == null ? System.nanoTime() : -1;
        while (true) {
            if (anchoredAt < 0) {
                String text = Files.readString(childOut, StandardCharsets.UTF_8);
                if (text.lines().anyMatch(l -> l.startsWith(kill.anchor()))) {
                    anchoredAt = System.nanoTime();
                }
            }
            long waitMs = anchoredAt < 0 ? 2
                    : Math.max(0, kill.delayMillis() - (System.nanoTime() - anchoredAt) / 1_000_000);
            if (child.waitFor(Math.min(waitMs, 2), TimeUnit.MILLISECONDS)) {
                return null;
            }
            if (anchoredAt >= 0 && (System.nanoTime() - anchoredAt) / 1_000_000 >= kill.delayMillis()) {
                child.destroyForcibly(); // SIGKILL on Unix: no shutdown hook, no finally
                child.waitFor();
                return Files.readString(childOut, StandardCharsets.UTF_8);
            }
        }
    }

    private static String upPhase(String text) {
        return text == null ? "finished before the kill" : text.contains("provisioning ") ? "provisioning"
                : text.contains("waiting for") ? "waiting to run" : text.contains("launching") ? "launching" : "preparing";
    }

    private static String teardownPhase(String text) {
        if (text == null) {
            return "finished before the kill";
        }
        if (text.contains("security group ") || text.contains("key pair ")) {
            return "removing shared resources";
        }
        return text.contains(" destroyed") ? "destroying machines (some gone)" : "before any deletion";
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
