package org.workshopfleet.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.workshopfleet.command.CloudsByProvider;
import org.workshopfleet.Fleet;
import org.workshopfleet.command.Wiring;
import org.workshopfleet.cloud.ec2.Ec2CallCount;
import org.workshopfleet.cloud.lab.HostState;
import org.workshopfleet.cloud.lab.LabMachine;
import org.workshopfleet.cloud.lab.LabMachines;
import org.workshopfleet.cloud.lab.LabNetwork;
import org.workshopfleet.cloud.lab.LabPaths;
import org.workshopfleet.cloud.lightsail.LightsailCallCount;
import org.workshopfleet.provision.MachineLayout;
import org.workshopfleet.spec.Provider;
import org.workshopfleet.spec.SourceLocations;
import org.workshopfleet.spec.WorkshopSpec;
import org.workshopfleet.ssh.SshLogin;
import org.workshopfleet.state.Secrets;
import org.workshopfleet.state.StateFolder;

/**
 * Benchmark (a command, not a test): how the time of {@code up} grows with the class. Brings up N lab machines (real
 * systemd-nspawn machines, real SSH with pinned host keys, real upload of the full rendered bundle, real step runner)
 * through {@link Fleet#up} on the lab provider, with the setup steps swapped for quick stand-ins ({@link QuickSteps}),
 * for two sizes in one run, and prints wall time (from nothing, where {@code up} overlaps the machines' boot with
 * provisioning, and provisioning only on machines already up), the ratios, this JVM's CPU time and peak heap, how busy
 * the host was, and the inotify instances each lab machine holds. It also times a round of bare logins (every machine at
 * once: log in, {@code sudo true}), the floor under any SSH-based tool's fleet time on this host, and prints the ratio
 * that floor alone allows; and a round of the same steps run by plain SSH (every machine at once: log in, the steps under
 * one {@code sudo}, {@link FleetShell#workloadRound}), the floor once the steps' own programs are counted too, so the
 * ratio against it is what the tool adds. On the larger fleet it then runs the equivalent Ansible playbook at
 * Ansible's default forks and at forks=N on the same machines; finally the cloud API call counts on the AWS fakes.
 * Everything it creates is torn down in {@code finally} and the host is checked to be as before.
 *
 * <p>Run as root: {@code mvn -B -o test-compile exec:java -Dexec.classpathScope=test
 * -Dexec.mainClass=org.workshopfleet.bench.FleetBenchmark -Dexec.args="1 30"} (add {@code --no-ansible},
 * {@code --no-calls} to skip those parts; {@code --repeat=R}, default 3, repeats the provisioning-only run, the
 * login round and the workload round, whose medians the ratios use). {@code up} raises {@code fs.inotify.max_user_instances} for the fleet; the
 * benchmark puts the old value back at the end ({@link InotifyLimit}).
 *
 * <p>Not measured here: the Grafana dashboard import (the quick steps install no Grafana, so the benchmark's project
 * folder has no {@code dashboards/} and the runner skips that phase); the Ansible playbook does no import either.
 */
public final class FleetBenchmark {

    private static final Path PROJECT = Path.of("").toAbsolutePath();
    private static final double STEP_SLEEP_SECONDS = 1.0;

    /**
     * One {@code up}: wall; until every machine had booted (sshd answering and cloud-init finished); from then to the
     * end; the slowest single machine's upload + steps; this JVM's CPU time and peak heap.
     */
    record Measurement(String label, int n, double wall, double firstSsh, double booted, double afterBoot,
                       double slowestMachine, double cpu, double heapMiB, String hostLoad) {
        String line() {
            return String.format(Locale.ROOT, "%-34s N=%-3d wall %6.1f s = first SSH at %5.1f s, last machine's upload"
                    + " at %5.1f s + %5.1f s (slowest machine's upload+steps %5.1f s); orchestrator CPU %5.1f s, peak heap"
                    + " %5.1f MiB; %s", label, n, wall, firstSsh, booted, afterBoot, slowestMachine, cpu, heapMiB, hostLoad);
        }
    }

    private static final MachineLayout layout = MachineLayout.STANDARD;

    private final Path work;
    private final Path projectView;
    private int inotifyBaseline;
    private final List<String> report = new ArrayList<>();
    /** Wall seconds of {@link FleetShell#loginRound} by fleet size. */
    private final java.util.Map<Integer, Double> loginWall = new java.util.TreeMap<>();
    /** Wall seconds of {@link FleetShell#workloadRound} by fleet size. */
    private final java.util.Map<Integer, Double> workloadWall = new java.util.TreeMap<>();
    /** How often the provisioning-only run and the login round are repeated per fleet (medians are compared). */
    private int repeats = 3;

    private FleetBenchmark(Path work) throws IOException {
        this.work = work;
        // Fleet's project folder for this run: the real ingress rules, no dashboards/ (the quick steps install no
        // Grafana). Rendering itself uses the real project folder (QuickSteps).
        this.projectView = work.resolve("project");
        Files.createDirectories(projectView.resolve("security-groups"));
        Files.copy(PROJECT.resolve("security-groups/workshop.json"), projectView.resolve("security-groups/workshop.json"));
    }

    public static void main(String[] args) throws Exception {
        List<Integer> sizes = new ArrayList<>();
        boolean ansible = true;
        boolean calls = true;
        int repeats = 3;
        for (String a : args) {
            switch (a) {
                case "--no-ansible" -> ansible = false;
                case "--no-calls" -> calls = false;
                default -> {
                    if (a.startsWith("--repeat=")) {
                        repeats = Integer.parseInt(a.substring("--repeat=".length()));
                    } else {
                        sizes.add(Integer.parseInt(a));
                    }
                }
            }
        }
        if (sizes.isEmpty()) {
            sizes = List.of(1, 30);
        }
        if (!"root".equals(System.getProperty("user.name"))) {
            System.err.println("FleetBenchmark needs root (systemd-nspawn, network namespaces, overlay mounts)");
            System.exit(2);
        }
        Path work = PROJECT.resolve("target/bench");
        deleteTree(work);
        Files.createDirectories(work);
        System.out.println("host: " + hostLine());
        FleetBenchmark bench = new FleetBenchmark(work);
        bench.repeats = repeats;
        HostState before = HostState.capture(LabPaths.standard());
        List<String> names = new ArrayList<>();
        int exit = 0;
        InotifyLimit inotify = InotifyLimit.remember();
        bench.inotifyBaseline = InotifyLimit.rootInstancesInUse();
        bench.say("fs.inotify.max_user_instances = " + inotify.before() + " before the run (the product raises it for the"
                + " fleet; put back afterwards); root holds " + bench.inotifyBaseline + " inotify instance(s) without lab machines");
        try {
            List<Measurement[]> all = new ArrayList<>();
            for (int i = 0; i < sizes.size(); i++) {
                String name = "bench-n" + sizes.get(i);
                names.add(name);
                all.add(bench.fleet(name, sizes.get(i), ansible && i == sizes.size() - 1));
            }
            if (all.size() >= 2) {
                Measurement[] small = all.get(0);
                Measurement[] large = all.get(all.size() - 1);
                bench.say(String.format(Locale.ROOT, "ratio wall(%d)/wall(%d) from nothing, boot overlapped with"
                        + " provisioning: %.2f  (%.1f s / %.1f s; goal <= 1.2)", large[0].n(), small[0].n(),
                        large[0].wall() / small[0].wall(), large[0].wall(), small[0].wall()));
                bench.say(String.format(Locale.ROOT, "ratio wall(%d)/wall(%d) provisioning only (machines already up,"
                        + " markers reset): %.2f  (%.1f s / %.1f s; goal <= 1.2)", large[1].n(), small[1].n(),
                        large[1].wall() / small[1].wall(), large[1].wall(), small[1].wall()));
                // The SSH floor: the small fleet's run with its logins swapped for the large fleet's. No SSH-based
                // tool can do better on this host, whatever it does after login.
                double floor = small[1].wall() - bench.loginWall.get(small[0].n()) + bench.loginWall.get(large[0].n());
                bench.say(String.format(Locale.ROOT, "SSH floor for the provisioning ratio on this host: %.2f  (wall(%d)"
                        + " %.1f s - its logins %.1f s + %d machines' logins %.1f s)", floor / small[1].wall(),
                        small[0].n(), small[1].wall(), bench.loginWall.get(small[0].n()), large[0].n(),
                        bench.loginWall.get(large[0].n())));
                bench.say(String.format(Locale.ROOT, "provisioning ratio / SSH floor: %.3f  (goal <= 1.05)",
                        large[1].wall() / floor));
                // The same with the steps themselves swapped in: thirty machines' step programs (bash and the stand-in's
                // sleep, ten times each) share the host's two cores too. What is left above this floor is what the tool
                // adds: its own CPU, the transfer and unpack, the session script, markers and frames.
                double workFloor = small[1].wall() - bench.workloadWall.get(small[0].n())
                        + bench.workloadWall.get(large[0].n());
                bench.say(String.format(Locale.ROOT, "workload floor for the provisioning ratio on this host: %.2f  (wall(%d)"
                        + " %.1f s - its logins+steps %.1f s + %d machines' logins+steps %.1f s)", workFloor / small[1].wall(),
                        small[0].n(), small[1].wall(), bench.workloadWall.get(small[0].n()), large[0].n(),
                        bench.workloadWall.get(large[0].n())));
                bench.say(String.format(Locale.ROOT, "provisioning ratio / workload floor: %.3f  (what the tool adds above"
                        + " plain ssh running the same steps)", large[1].wall() / workFloor));
            }
        } catch (RuntimeException | AssertionError e) {
            exit = 1;
            System.out.println("BENCHMARK FAILED: " + e);
        } finally {
            for (String name : names) {
                new LabMachines(name).destroyAll();
            }
            deleteTree(work.resolve("workshops")); // secrets of throwaway fleets
            inotify.close();
        }
        try {
            HostState.assertRestored(before, HostState.capture(LabPaths.standard()),
                    names.stream().map(n -> LabMachines.PREFIX + n).toArray(String[]::new));
            bench.say("host clean: no lab machine, mount, netns, link or NAT rule of the benchmark is left");
        } catch (AssertionError e) {
            exit = 1;
            bench.say("HOST NOT CLEAN: " + e.getMessage());
        }
        System.out.println();
        System.out.println("==== summary");
        System.out.println("host: " + hostLine());
        bench.report.forEach(System.out::println);
        if (calls) {
            System.out.println();
            System.out.println("==== EC2 API calls by operation (EC2 protocol fake)");
            Ec2CallCount.main(new String[0]);
            System.out.println("==== Lightsail API calls by operation (Lightsail protocol fake)");
            LightsailCallCount.main(new String[0]);
        }
        System.exit(exit);
    }

    /**
     * One fleet of {@code n}: up from nothing (boot included), then, markers reset, up again on the running machines
     * (provisioning only); optionally Ansible at default forks and at forks=n on the same machines; teardown.
     */
    private Measurement[] fleet(String name, int n, boolean withAnsible) throws Exception {
        WorkshopSpec spec = new WorkshopSpec(name, n, Provider.LAB, null, null, null, null, false, null,
                WorkshopSpec.DEFAULT_PARALLELISM, work.resolve("workshops"), SourceLocations.defaults());
        QuickSteps quick = new QuickSteps(STEP_SLEEP_SECONDS);
        Path fleetLog = work.resolve("fleet-" + name + ".log");
        try (PrintStream out = new PrintStream(Files.newOutputStream(fleetLog), true, StandardCharsets.UTF_8)) {
            Fleet[] last = new Fleet[1];
            try {
                Measurement fresh = up(spec, quick, out, last, "ours, from nothing (boot overlapped)");
                int inUse = InotifyLimit.rootInstancesInUse();
                say(String.format(Locale.ROOT, "inotify instances held by root with %d lab machine(s) up: %d, %.1f per"
                        + " machine (limit now %d)", n, inUse, (inUse - inotifyBaseline) / (double) n, InotifyLimit.read()));
                Secrets secrets = new Secrets(new StateFolder(spec.stateDir()), name);
                List<BenchMachine> machines = machines(spec, quick, secrets);
                FleetShell shell = new FleetShell(new SshLogin(SshLogin.MACHINE_USER, secrets.loginKey()));
                requireDone(shell, machines, "ours (fresh)");

                // Repeated, medians kept: on a shared 2-core host one run of either moves by a few tenths of a second,
                // as much as the difference the floor ratio is about.
                List<Measurement> runs = new ArrayList<>();
                List<Double> logins = new ArrayList<>();
                List<Double> workloads = new ArrayList<>();
                for (int r = 1; r <= repeats; r++) {
                    shell.reset(machines);
                    say("  " + HostLoad.settle(0.25, Duration.ofSeconds(5), Duration.ofMinutes(3)));
                    runs.add(up(spec, quick, out, last, "ours, machines up (provisioning)"));
                    requireDone(shell, machines, "ours (provisioning only)");

                    logins.add(timedRound("logins only (one sudo true each)", n, () -> shell.loginRound(machines)));
                    workloads.add(timedRound("logins + the same steps by plain ssh", n,
                            () -> shell.workloadRound(machines)));
                }
                runs.sort(Comparator.comparingDouble(Measurement::wall));
                logins.sort(null);
                workloads.sort(null);
                workloadWall.put(n, workloads.get(workloads.size() / 2));
                Measurement again = runs.get(runs.size() / 2);
                loginWall.put(n, logins.get(logins.size() / 2));
                say(String.format(Locale.ROOT, "median of %d: provisioning N=%d %.1f s (runs %s), logins only %.1f s (runs %s)",
                        repeats, n, again.wall(), runs.stream().map(m -> String.format(Locale.ROOT, "%.1f", m.wall()))
                                .toList(), loginWall.get(n), logins.stream().map(w -> String.format(Locale.ROOT, "%.1f", w))
                                .toList()));
                say(String.format(Locale.ROOT, "median of %d: logins + the same steps by plain ssh N=%d %.1f s (runs %s)",
                        repeats, n, workloadWall.get(n), workloads.stream().map(w -> String.format(Locale.ROOT, "%.1f", w))
                                .toList()));

                if (withAnsible) {
                    AnsibleRun ansible = AnsibleRun.prepare(work.resolve("ansible"), machines, secrets.loginKey());
                    double ours = again.wall();
                    for (int forks : new int[] {0, n}) {
                        shell.reset(machines);
                        say("  " + HostLoad.settle(0.25, Duration.ofSeconds(5), Duration.ofMinutes(3)));
                        String label = forks == 0 ? "forks-default" : "forks-" + forks;
                        AnsibleRun.Outcome o = ansible.run(forks, label);
                        if (o.exitCode() != 0) {
                            throw new IllegalStateException("ansible-playbook " + label + " failed (exit " + o.exitCode()
                                    + "); see " + o.log());
                        }
                        requireDone(shell, machines, "ansible " + label);
                        say(String.format(Locale.ROOT, "%-34s N=%-3d wall %7.1f s  (ansible-playbook + children CPU %6.1f s)"
                                + "  ours is %.1fx faster", "ansible, " + (forks == 0 ? "default forks (5)" : "forks=" + forks),
                                n, o.wallSeconds(), o.cpuSeconds(), o.wallSeconds() / ours));
                    }
                }
                return new Measurement[] {fresh, again};
            } finally {
                if (last[0] != null) {
                    long t = System.nanoTime();
                    int rc = last[0].teardown(true);
                    say(String.format(Locale.ROOT, "%-34s N=%-3d teardown %.1f s (exit %d)", "ours", n,
                            (System.nanoTime() - t) / 1e9, rc));
                }
            }
        }
    }

    /** Once the host has settled, one round of plain-SSH work on the whole fleet: prints and returns its wall seconds. */
    private double timedRound(String label, int n, Runnable round) throws IOException {
        say("  " + HostLoad.settle(0.25, Duration.ofSeconds(5), Duration.ofMinutes(3)));
        HostLoad load = HostLoad.start();
        ProcessFigures figures = ProcessFigures.start();
        round.run();
        double wall = figures.wallSeconds();
        say(String.format(Locale.ROOT, "%-34s N=%-3d wall %6.1f s; orchestrator CPU %5.1f s; %s", label, n, wall,
                figures.cpuSeconds(), load.line()));
        return wall;
    }

    private Measurement up(WorkshopSpec spec, QuickSteps quick, PrintStream out, Fleet[] last, String label) throws IOException {
        PhaseTimes times = new PhaseTimes();
        Wiring wiring = new Wiring(new CloudsByProvider(PROJECT), s -> { }, () -> LabNetwork.SUBNET, null, times,
                Clock.systemUTC(), SshLogin.MACHINE_USER, 22, layout, Duration.ofMinutes(5),
                Duration.ofMinutes(10)).withRendering(quick.rendering(PROJECT));
        Fleet fleet = new Fleet(spec, projectView, wiring, out);
        last[0] = fleet;
        out.println("==== " + label);
        HostLoad load = HostLoad.start();
        ProcessFigures figures = ProcessFigures.start();
        ThreadCpu byThread = ThreadCpu.start();
        int rc = fleet.up(true);
        byThread.close();
        double wall = figures.wallSeconds();
        String hostLoad = load.line();
        double cpu = figures.cpuSeconds();
        double heap = ProcessFigures.peakHeapMiB();
        if (rc != 0) {
            throw new IllegalStateException("up of " + spec.name() + " (" + label + ") failed; see "
                    + work.resolve("fleet-" + spec.name() + ".log") + " and " + spec.stateDir().resolve("logs"));
        }
        double booted = times.allBootedNanos() == Long.MIN_VALUE ? wall
                : (times.allBootedNanos() - figures.wallStartNanos()) / 1e9;
        double firstSsh = times.firstConnectNanos() == Long.MAX_VALUE ? wall
                : (times.firstConnectNanos() - figures.wallStartNanos()) / 1e9;
        Measurement m = new Measurement(label, spec.count(), wall, firstSsh, booted, wall - booted,
                times.slowestMachineWorkSeconds(), cpu, heap, hostLoad);
        say(m.line());
        say("  " + times.spread());
        say("  " + byThread.line());
        Files.write(work.resolve("phases-" + spec.name() + "-" + (label.contains("nothing") ? "fresh" : "again") + ".txt"),
                times.timeline());
        return m;
    }

    private static List<BenchMachine> machines(WorkshopSpec spec, QuickSteps quick, Secrets secrets) {
        List<BenchMachine> list = new ArrayList<>();
        for (LabMachine m : new LabMachines(spec.name()).list()) {
            int attendee = Integer.parseInt(m.name().substring(m.name().lastIndexOf('-') + 1));
            list.add(new BenchMachine(m.name(), m.ip(), secrets.hostKey(attendee), quick.bundleOf(m.name())));
        }
        if (list.size() != spec.count()) {
            throw new IllegalStateException("expected " + spec.count() + " lab machines, found " + list.size());
        }
        list.sort(Comparator.comparing(BenchMachine::name));
        return list;
    }

    private static void requireDone(FleetShell shell, List<BenchMachine> machines, String who) {
        List<String> missing = shell.missingWork(machines);
        if (!missing.isEmpty()) {
            throw new IllegalStateException(who + " left work undone: " + missing);
        }
    }

    private void say(String line) {
        System.out.println(line);
        report.add(line);
    }

    private static String hostLine() {
        String kernel = System.getProperty("os.version");
        long mem = ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getTotalMemorySize();
        return String.format(Locale.ROOT, "%d cores (nproc), %.1f GiB RAM, kernel %s, Java %s",
                Runtime.getRuntime().availableProcessors(), mem / (1024.0 * 1024 * 1024), kernel,
                System.getProperty("java.version"));
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
