package org.workshopfleet.bench;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.workshopfleet.cli.Main;
import org.workshopfleet.cloud.ec2.RequestBucket;
import org.workshopfleet.cloud.ec2.fake.Ec2Fake;
import org.workshopfleet.cloud.ec2.fake.InstanceBackend;
import org.workshopfleet.command.ReadinessCheck;
import org.workshopfleet.command.Wiring;
import org.workshopfleet.concurrent.FanOut;
import org.workshopfleet.faults.LoopbackInstances;
import org.workshopfleet.faults.TinyWorkshop;
import org.workshopfleet.provision.MachineLayout;
import org.workshopfleet.provision.Verifier;
import org.workshopfleet.report.ProgressBoard;
import org.workshopfleet.report.ProvisionBoard;
import org.workshopfleet.spec.WorkshopSpec;
import org.workshopfleet.ssh.LoopbackSshd;
import org.workshopfleet.ssh.Remote;
import org.workshopfleet.ssh.SshLogin;
import org.workshopfleet.ssh.SshTarget;
import org.workshopfleet.state.Ledger;
import org.workshopfleet.state.MachineRecord;
import org.workshopfleet.state.Secrets;
import org.workshopfleet.state.StateFolder;

/**
 * Benchmark (a command, not a test): what {@code up}, {@code verify}, {@code status}, {@code extend} and
 * {@code teardown} cost per machine as the fleet grows, N = 1, 30, 100, 200 by default (the arguments choose). The
 * commands run through {@link Main#run} on the EC2 protocol stand-in ({@link Ec2Fake}, with EC2's request throttling
 * on: pass {@code --no-throttling} to turn it off), whose instances are loopback SSH machines
 * ({@link LoopbackInstances}: one real OpenSSH sshd each, so every SSH login, upload and step is real) provisioned with
 * the {@link TinyWorkshop}'s three tiny steps. Readiness (up's checks, and {@code verify} here) is a stand-in of the
 * same shape as the real checks: one SSH login per machine running one short command, through a {@link FanOut} at the
 * spec's parallelism, as {@code Verify} does; the real checks would run the workshop's check script on this host.
 *
 * <p>Per N and operation it prints: wall; orchestrator CPU per machine (this JVM's CPU minus its stand-in threads');
 * peak heap and threads; SSH connections open at once; ledger writes and fsyncs; EC2 calls by action, the throttled
 * ones apart. For {@code up} it also prints how long the launches took against the floor EC2's RunInstances bucket
 * allows (one call per machine: (N − 5) / 2 s), and it checks the goals: CPU per machine at the largest N within 1.2×
 * of at 30, peak heap under 256 MiB at the largest N, launches within 10 % of the floor, {@code status} within 5 s.
 *
 * <p>Run as root (the loopback machines' sshd needs it for privilege separation; nothing but loopback is touched):
 * {@code mvn -B -o test-compile exec:java -Dexec.classpathScope=test
 * -Dexec.mainClass=org.workshopfleet.bench.ScaleBenchmark -Dexec.args="1 30 100 200"}.
 */
public final class ScaleBenchmark {

    private static final Path PROJECT = Path.of("").toAbsolutePath();
    private static final String NAME = "scale";
    private static final List<String> OPERATIONS = List.of("up", "verify", "status", "extend", "teardown");
    /**
     * How the commands poll the stand-in: from 0.25 s growing to 2 s, inside the DescribeInstances bucket (10 a second
     * at worst), quicker than production's 2 s to 15 s so that the figures show the tool, not the pauses.
     */
    private static final org.workshopfleet.concurrent.Waiter POLLING = new org.workshopfleet.concurrent.Waiter(
            Duration.ofMillis(250), Duration.ofSeconds(2), 1.5, 0.1, Duration.ofMinutes(15));

    /** One operation's figures. */
    record Row(int n, String op, int exit, ScaleFigures.Result f, Map<String, Long> calls, long throttled, String note) {
        double cpuPerMachineMs() {
            return f.orchestratorCpuSeconds() * 1000 / n;
        }

        String line() {
            return String.format(Locale.ROOT, "N=%-3d %-8s exit %d  wall %6.1f s  cpu/machine %6.1f ms (stand-ins %5.1f s)"
                            + "  heap %5.1f MiB  threads %3d  ssh %3d  ledger %4d writes %4d fsyncs %6.1f KiB  calls %s%s%s",
                    n, op, exit, f.wallSeconds(), cpuPerMachineMs(), f.standInCpuSeconds(), f.peakHeapMiB(),
                    f.peakThreads(), f.peakSshConnections(), f.ledger().writes(), f.ledger().fsyncs(),
                    f.ledger().bytes() / 1024.0, calls, throttled > 0 ? " throttled " + throttled : "",
                    note.isEmpty() ? "" : "  " + note);
        }
    }

    /** Passes boots on to the loopback machines and notes when the first and the last RunInstances asked for one. */
    static final class TimedBackend implements InstanceBackend {
        final InstanceBackend inner;
        final AtomicLong first = new AtomicLong();
        final AtomicLong last = new AtomicLong();

        TimedBackend(InstanceBackend inner) {
            this.inner = inner;
        }

        @Override
        public String boot(String instanceId, String rawUserData) {
            long now = System.nanoTime();
            first.compareAndSet(0, now);
            last.accumulateAndGet(now, Math::max);
            return inner.boot(instanceId, rawUserData);
        }

        @Override
        public void terminate(String instanceId) {
            inner.terminate(instanceId);
        }

        double launchSeconds() {
            return first.get() == 0 ? 0 : (last.get() - first.get()) / 1e9;
        }
    }

    private final Path work;
    private final boolean throttling;
    private final List<Row> rows = new ArrayList<>();

    private ScaleBenchmark(Path work, boolean throttling) {
        this.work = work;
        this.throttling = throttling;
    }

    public static void main(String[] args) throws Exception {
        List<Integer> sizes = new ArrayList<>();
        boolean throttling = true;
        for (String a : args) {
            if (a.equals("--no-throttling")) {
                throttling = false;
            } else {
                sizes.add(Integer.parseInt(a));
            }
        }
        if (sizes.isEmpty()) {
            sizes = List.of(1, 30, 100, 200);
        }
        if (!"root".equals(System.getProperty("user.name")) || !Files.isExecutable(LoopbackSshd.SSHD)) {
            System.err.println("ScaleBenchmark needs root and " + LoopbackSshd.SSHD + " (the loopback machines' sshd)");
            System.exit(2);
        }
        // extend's command on a machine edits the expiry timer only where it exists; on this host it must not.
        if (Files.exists(Path.of("/etc/systemd/system/workshop-fleet-expiry.timer"))) {
            System.err.println("this host has a workshop-fleet expiry timer: run the benchmark elsewhere");
            System.exit(2);
        }
        Path work = PROJECT.resolve("target/scale-bench");
        deleteTree(work);
        Files.createDirectories(work);
        ScaleBenchmark bench = new ScaleBenchmark(work, throttling);
        System.out.println("host: " + hostLine());
        System.out.println("EC2 stand-in throttling: " + (throttling ? "on (EC2's buckets, docs/aws-facts.md)" : "off"));
        int exit = 0;
        for (int n : sizes) {
            try {
                bench.fleet(n);
            } catch (RuntimeException | AssertionError e) {
                exit = 1;
                System.out.println("N=" + n + " FAILED: " + e);
                e.printStackTrace(System.out);
            }
        }
        System.out.println();
        System.out.println("==== summary (host: " + hostLine() + ")");
        bench.rows.forEach(r -> System.out.println(r.line()));
        bench.goals(sizes);
        System.exit(exit);
    }

    private void fleet(int n) throws Exception {
        Path dir = work.resolve("n" + n);
        Path project = dir.resolve("project");
        Files.createDirectories(project.resolve("security-groups"));
        Files.copy(PROJECT.resolve("security-groups/workshop.json"), project.resolve("security-groups/workshop.json"));
        int port = LoopbackSshd.freePort();
        Path stateDir = dir.resolve("workshops");
        StateFolder folder = new StateFolder(stateDir.resolve(NAME));
        Secrets secrets = new Secrets(folder, NAME);
        SshLogin login = new SshLogin(LoopbackSshd.user(), secrets.loginKey());
        List<AutoCloseable> clients = new ArrayList<>();
        try (LoopbackInstances machines = new LoopbackInstances(dir.resolve("machines"), port, secrets.loginKey());
             Ec2Fake ec2 = Ec2Fake.start()) {
            TimedBackend backend = new TimedBackend(machines);
            ec2.throttling(throttling).backend(backend);
            TinyWorkshop tiny = new TinyWorkshop();
            ReadinessCheck readiness = (verifier, target) -> standInCheck(target.ssh(), login);
            Map<String, String> base = Map.of("cidr", "203.0.113.7/32", "yes", "", "name", NAME,
                    "stateDir", stateDir.toString(), "projectRoot", project.toString());
            PrintStream log = new PrintStream(Files.newOutputStream(dir.resolve("commands.log")), true, StandardCharsets.UTF_8);
            for (String op : OPERATIONS) {
                ec2.clearCalls();
                long throttledBefore = ec2.throttledCalls();
                log.println("==== " + op);
                ProgressBoard board = null;
                int exit;
                String note = "";
                ScaleFigures figures = new ScaleFigures(port);
                ScaleFigures.Result result;
                try {
                    switch (op) {
                        case "up" -> {
                            // The facilitator's live board, redrawn as in a terminal (80 × 24 unless COLUMNS/LINES say).
                            board = new ProgressBoard(new PrintStream(OutputStream.nullOutputStream()),
                                    ProgressBoard.Mode.LIVE, Clock.systemUTC(), "up: " + NAME + ", " + n + " machines").start();
                            exit = Main.run(props(base, "action", "up", "count", String.valueOf(n)), env(), log, log,
                                    wiring(ec2, clients, port, tiny, readiness, new ProvisionBoard(board)));
                        }
                        case "verify" -> exit = verify(folder, secrets, login, port, n);
                        case "status" -> exit = Main.run(props(base, "action", "status"), env(), log, log,
                                wiring(ec2, clients, port, tiny, readiness, null));
                        case "extend" -> exit = Main.run(props(base, "action", "extend", "ttl", "24h"), env(), log, log,
                                wiring(ec2, clients, port, tiny, readiness, null));
                        case "teardown" -> exit = Main.run(props(base, "action", "teardown"), env(), log, log,
                                wiring(ec2, clients, port, tiny, readiness, null));
                        default -> throw new IllegalStateException(op);
                    }
                } finally {
                    if (board != null) {
                        board.close();
                    }
                    result = figures.finish();
                }
                if (op.equals("up")) {
                    Duration floor = RequestBucket.floor(n, RequestBucket.RUN_INSTANCES_CAPACITY,
                            RequestBucket.RUN_INSTANCES_REFILL_PER_SECOND);
                    note = String.format(Locale.ROOT, "launches %.1f s, floor %.1f s", backend.launchSeconds(),
                            floor.toMillis() / 1000.0);
                }
                if (op.equals("extend")) {
                    note = "(exit 1 expected: the loopback machines have no expiry timer to move)";
                }
                Row row = new Row(n, op, exit, result, new TreeMap<>(ec2.callCounts()), ec2.throttledCalls() - throttledBefore, note);
                rows.add(row);
                System.out.println(row.line());
                if (exit != 0 && !op.equals("extend")) {
                    throw new IllegalStateException(op + " of " + n + " exited " + exit + "; see " + dir.resolve("commands.log"));
                }
            }
            if (!machines.violations().isEmpty()) {
                throw new IllegalStateException("loopback machines saw: " + machines.violations());
            }
        } finally {
            for (AutoCloseable c : clients) {
                c.close();
            }
        }
    }

    /**
     * {@code verify}'s shape with stand-in checks: every machine of the ledger, through a {@link FanOut} at the
     * spec's parallelism, one SSH login and one short command each; 0 when every machine answered.
     */
    private int verify(StateFolder folder, Secrets secrets, SshLogin login, int port, int n) {
        Ledger ledger = Ledger.open(folder, NAME, "ec2", Ec2Fake.REGION, Clock.systemUTC());
        List<MachineRecord> live = ledger.snapshot().machines().values().stream()
                .filter(r -> r.publicIp() != null).sorted(Comparator.comparingInt(MachineRecord::attendee)).toList();
        if (live.size() != n) {
            throw new IllegalStateException("the ledger has " + live.size() + " machines with an address, not " + n);
        }
        List<Callable<List<Verifier.Check>>> checks = new ArrayList<>();
        for (MachineRecord r : live) {
            SshTarget target = new SshTarget(r.publicIp(), port, secrets.hostKey(r.attendee()).publicKeyNoComment());
            checks.add(() -> standInCheck(target, login));
        }
        long failed = new FanOut("verify", WorkshopSpec.DEFAULT_PARALLELISM).each(checks).stream()
                .filter(o -> !o.ok() || o.value().stream().anyMatch(c -> !c.ok())).count();
        return failed == 0 ? 0 : 1;
    }

    /** The stand-in for a machine's readiness checks: log in with the pinned host key, run one short command. */
    static List<Verifier.Check> standInCheck(SshTarget target, SshLogin login) {
        try (Remote remote = Remote.await(target, login, Duration.ofSeconds(60))) {
            Remote.Result r = remote.exec("test -d /var/lib && echo ok");
            return List.of(new Verifier.Check("ssh", true, "ok"), new Verifier.Check("stand-in", r.exitCode() == 0,
                    r.stdout().strip()));
        } catch (RuntimeException e) {
            return List.of(new Verifier.Check("ssh", false, e.getMessage()));
        }
    }

    private static Wiring wiring(Ec2Fake ec2, List<AutoCloseable> clients, int port, TinyWorkshop tiny,
                                 ReadinessCheck readiness, ProvisionBoard board) {
        return new Wiring(ec2.cloudFactory(PROJECT.resolve("ami.properties"), clients, POLLING), s -> { }, () -> {
            throw new IllegalStateException("no address detection in the benchmark");
        }, null, board == null ? org.workshopfleet.provision.ProvisionListener.NONE : board, Clock.systemUTC(),
                LoopbackSshd.user(), port, MachineLayout.STANDARD, Duration.ofSeconds(120), Duration.ofMinutes(15),
                root -> tiny).withReadiness(readiness);
    }

    private static Map<String, String> props(Map<String, String> base, String... kv) {
        Map<String, String> p = new HashMap<>(base);
        for (int i = 0; i < kv.length; i += 2) {
            p.put(kv[i], kv[i + 1]);
        }
        return p;
    }

    private static Map<String, String> env() {
        return Map.of("AWS_REGION", Ec2Fake.REGION);
    }

    /** The goals of the issue, each met or not, with the figures it is judged on. */
    private void goals(List<Integer> sizes) {
        System.out.println();
        System.out.println("==== goals");
        int largest = sizes.stream().max(Integer::compare).orElse(0);
        Map<String, Row> at30 = byOp(30);
        Map<String, Row> atLargest = byOp(largest);
        if (!at30.isEmpty() && largest > 30) {
            for (String op : OPERATIONS) {
                Row a = at30.get(op);
                Row b = atLargest.get(op);
                if (a != null && b != null) {
                    double ratio = b.cpuPerMachineMs() / a.cpuPerMachineMs();
                    System.out.printf(Locale.ROOT, "%-8s cpu/machine N=%d %.1f ms vs N=30 %.1f ms: %.2fx (goal <= 1.2) %s%n",
                            op, largest, b.cpuPerMachineMs(), a.cpuPerMachineMs(), ratio, ratio <= 1.2 ? "MET" : "NOT MET");
                }
            }
        }
        double heap = atLargest.values().stream().mapToDouble(r -> r.f().peakHeapMiB()).max().orElse(0);
        System.out.printf(Locale.ROOT, "peak heap at N=%d: %.1f MiB (goal < 256) %s%n", largest, heap, heap < 256 ? "MET" : "NOT MET");
        Row status = atLargest.get("status");
        if (status != null) {
            System.out.printf(Locale.ROOT, "status at N=%d: %.1f s (goal <= 5 s) %s%n", largest, status.f().wallSeconds(),
                    status.f().wallSeconds() <= 5 ? "MET" : "NOT MET");
        }
        Row up = atLargest.get("up");
        if (up != null && throttling) {
            double launch = Double.parseDouble(up.note().replaceAll("launches ([0-9.]+) s.*", "$1"));
            double floor = RequestBucket.floor(largest, RequestBucket.RUN_INSTANCES_CAPACITY,
                    RequestBucket.RUN_INSTANCES_REFILL_PER_SECOND).toMillis() / 1000.0;
            boolean met = launch <= floor * 1.1 + 0.5;
            System.out.printf(Locale.ROOT, "launch of %d: %.1f s vs floor %.1f s (goal within 10%%) %s; throttled calls"
                    + " during up: %d, exit %d%n", largest, launch, floor, met ? "MET" : "NOT MET", up.throttled(), up.exit());
        }
    }

    private Map<String, Row> byOp(int n) {
        Map<String, Row> out = new LinkedHashMap<>();
        rows.stream().filter(r -> r.n() == n).forEach(r -> out.put(r.op(), r));
        return out;
    }

    static String hostLine() {
        String cpu = "?";
        try {
            cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .findFirst().map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse("?");
        } catch (IOException ignored) {
            // Not Linux: the model stays unknown.
        }
        long memMiB = ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getTotalMemorySize() / (1024 * 1024);
        return Runtime.getRuntime().availableProcessors() + " cores (" + cpu + "), " + memMiB + " MiB, Java "
                + System.getProperty("java.version") + ", max heap "
                + Runtime.getRuntime().maxMemory() / (1024 * 1024) + " MiB";
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

}
