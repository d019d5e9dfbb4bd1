package org.workshopfleet.bench;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.workshopfleet.command.CloudsByProvider;
import org.workshopfleet.Fleet;
import org.workshopfleet.command.Wiring;
import org.workshopfleet.bake.ImageMode;
import org.workshopfleet.cloud.lab.HostState;
import org.workshopfleet.cloud.lab.LabImages;
import org.workshopfleet.cloud.lab.LabMachines;
import org.workshopfleet.cloud.lab.LabNetwork;
import org.workshopfleet.cloud.lab.LabPaths;
import org.workshopfleet.lab.standins.StandIns;
import org.workshopfleet.provision.MachineLayout;
import org.workshopfleet.provision.ProvisionListener;
import org.workshopfleet.spec.Provider;
import org.workshopfleet.spec.WorkshopSpec;
import org.workshopfleet.ssh.SshLogin;

/**
 * Benchmark (a command, not a test): time-to-ready of N lab machines with the REAL setup steps (stand-ins only for the
 * release downloads, Grafana's apt repository and the git remote; packages come from Debian's mirror), from scratch
 * versus from a baked image. Three timed {@code up} runs, each ending when {@code up} returns with every machine ready
 * (Grafana dashboard imported and checked): from the stock lab image; {@code -Dimage=bake} when no image exists (one
 * builder bakes it, then the fleet launches from it); and {@code -Dimage=bake} again (the image is reused: the morning
 * of a later workshop). Each fleet is torn down before the next; the image is removed at the end and the host checked.
 *
 * <p>Run as root under the lab lock: {@code flock /run/wf-lab-tests.lock mvn -B -o test-compile exec:java
 * -Dexec.classpathScope=test -Dexec.mainClass=org.workshopfleet.bench.BakeBenchmark -Dexec.args="30 30"} (first
 * argument: machines from scratch, 0 to skip; second: machines baked).
 *
 * <p>Measured 2026-11-25 on the shared 2-core, 23 GiB Debian 12 host, other helpers' builds running: from scratch
 * N=30 1373 s (N=3 188 s); bake with no image yet, N=30, 183 s (builder 112 s: image steps 109 s, seal and capture
 * 2 s); image reused, N=30, 66 s (about 45 s of it booting the 30 containers, 21 s provisioning).
 */
public final class BakeBenchmark {

    private static final Path PROJECT = Path.of("").toAbsolutePath();

    private BakeBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int scratch = args.length > 0 ? Integer.parseInt(args[0]) : 30;
        int baked = args.length > 1 ? Integer.parseInt(args[1]) : 30;
        List<String> report = new ArrayList<>();
        HostState before = HostState.capture(LabPaths.standard());
        LabMachines network = new LabMachines("bakebench");
        LabImages images = new LabImages(LabPaths.standard());
        Path tmp = Files.createTempDirectory("bakebench");
        String recipe = null;
        // The lab raises fs.inotify.max_user_instances for the fleet itself (LabHost); the old value comes back at the end.
        try (InotifyLimit limit = InotifyLimit.remember()) {
            network.ensureNetwork();
            try (StandIns standIns = StandIns.start(InetAddress.getByName(LabNetwork.HOST_ADDRESS), tmp.resolve("standins"))) {
                if (scratch > 0) {
                    Fleet f = fleet("bakebench-s", scratch, standIns, tmp);
                    report.add(timed("from scratch (stock image, every step)", scratch, () -> f.up(true, ImageMode.STOCK)));
                    f.teardown(true);
                }
                if (baked > 0) {
                    Fleet f = fleet("bakebench-b", baked, standIns, tmp);
                    recipe = f.currentRecipe().hash();
                    if (images.find(recipe).isPresent()) {
                        throw new IllegalStateException("an image of this recipe exists already: the first run would not bake");
                    }
                    report.add(timed("bake: no image yet (builder + capture, then launch)", baked, () -> f.up(true, ImageMode.BAKE)));
                    f.teardown(true);
                    report.add(timed("baked: image reused (later workshop)", baked, () -> f.up(true, ImageMode.BAKE)));
                    f.teardown(true);
                }
            }
        } finally {
            new LabMachines("bakebench-s").destroyAll();
            new LabMachines("bakebench-b").destroyAll();
            network.destroyAll();
            if (recipe != null) {
                images.find(recipe).ifPresent(images::remove);
            }
            System.out.println();
            System.out.println("== time-to-ready, lab machines, real setup steps (" + Runtime.getRuntime().availableProcessors()
                    + " cores on this host)");
            report.forEach(System.out::println);
        }
        HostState.assertRestored(before, HostState.capture(LabPaths.standard()));
        System.out.println("host restored");
        System.exit(0);
    }

    private interface Up {
        int run();
    }

    private static String timed(String label, int n, Up up) {
        long start = System.nanoTime();
        int code = up.run();
        double s = (System.nanoTime() - start) / 1e9;
        String line = String.format(Locale.ROOT, "%-55s N=%2d  %7.1f s  %s", label, n, s,
                code == 0 ? "all ready" : "SOME FAILED (exit " + code + ")");
        System.out.println("== " + line);
        return line;
    }

    private static Fleet fleet(String name, int count, StandIns standIns, Path tmp) {
        WorkshopSpec spec = new WorkshopSpec(name, count, Provider.LAB, "ap-northeast-1", null, null, null, false, null,
                Math.max(count, 1), tmp.resolve("workshops"), standIns.sources());
        Wiring wiring = new Wiring(new CloudsByProvider(PROJECT), s -> { }, () -> LabNetwork.SUBNET, null,
                ProvisionListener.NONE, Clock.systemUTC(), SshLogin.MACHINE_USER, 22, MachineLayout.STANDARD,
                Duration.ofMinutes(15), Duration.ofMinutes(20));
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(new TeeLines(System.out, sink), true, StandardCharsets.UTF_8);
        return new Fleet(spec, PROJECT, wiring, out);
    }

    /** Prints the fleet's lines as they come (the benchmark's log) and keeps them. */
    private static final class TeeLines extends java.io.OutputStream {
        private final PrintStream a;
        private final ByteArrayOutputStream b;

        TeeLines(PrintStream a, ByteArrayOutputStream b) {
            this.a = a;
            this.b = b;
        }

        @Override
        public void write(int c) {
            a.write(c);
            b.write(c);
        }
    }
}
