package org.workshopfleet.bench;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.workshopfleet.Fleet;
import org.workshopfleet.bake.ImageMode;
import org.workshopfleet.cloud.lab.HostState;
import org.workshopfleet.cloud.lab.LabMachines;
import org.workshopfleet.cloud.lab.LabNetwork;
import org.workshopfleet.cloud.lab.LabPaths;
import org.workshopfleet.command.CloudsByProvider;
import org.workshopfleet.command.ReadinessCheck;
import org.workshopfleet.command.Wiring;
import org.workshopfleet.lab.standins.StandIns;
import org.workshopfleet.provision.MachineLayout;
import org.workshopfleet.provision.ProvisionListener;
import org.workshopfleet.spec.Provider;
import org.workshopfleet.spec.SourceLocations;
import org.workshopfleet.spec.WorkshopSpec;
import org.workshopfleet.ssh.SshLogin;

/**
 * Benchmark (a command, not a test) of the readiness work on real lab machines with the full workshop stack (the lab
 * stand-ins for the downloads, as in the lab tests): the deep {@code verify} of one machine and of N machines (wall and
 * ratio), {@code up} of N from a baked image without and with 3 spares (its end-of-run readiness checks included), and
 * {@code replace} of a seat onto a spare (command to verified new card, and the whole command with the new spare).
 * Every fleet launches from one image baked at the start (by the first, one-machine fleet), so the figures are about
 * readiness, not about installing packages. Everything is torn down and the image removed in {@code finally}; the host
 * is checked to be as before.
 *
 * <p>Run as root: {@code mvn -B -o test-compile exec:java -Dexec.classpathScope=test
 * -Dexec.mainClass=org.workshopfleet.bench.ReadinessBenchmark -Dexec.args="30"}. The lab machines share this host's
 * cores, so the N-machine figures measure the host as much as the tool: a cloud fleet has a CPU per machine.
 */
public final class ReadinessBenchmark {

    private static final Path PROJECT = Path.of("").toAbsolutePath();
    private static final int SPARES = 3;
    private static final Pattern CARD = Pattern.compile("replace: seat \\d+ verified on \\S+ in (\\d+) s");

    private final Path work;
    private final SourceLocations sources;
    private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(buffer, true, StandardCharsets.UTF_8);
    private final List<String> report = new ArrayList<>();

    private ReadinessBenchmark(Path work, SourceLocations sources) {
        this.work = work;
        this.sources = sources;
    }

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 30;
        if (!"root".equals(System.getProperty("user.name"))) {
            System.err.println("ReadinessBenchmark needs root (systemd-nspawn, network namespaces, overlay mounts)");
            System.exit(2);
        }
        Path work = PROJECT.resolve("target/bench-readiness");
        deleteTree(work);
        Files.createDirectories(work);
        HostState before = HostState.capture(LabPaths.standard());
        List<String> names = List.of("rb-one", "rb-fleet", "rb-spares");
        LabMachines network = new LabMachines(names.get(0));
        network.ensureNetwork();
        int exit = 0;
        ReadinessBenchmark bench = null;
        String recipe = null;
        try (StandIns standIns = StandIns.start(InetAddress.getByName(LabNetwork.HOST_ADDRESS), work.resolve("standins"))) {
            bench = new ReadinessBenchmark(work, standIns.sources());
            recipe = bench.run(n);
        } catch (RuntimeException | AssertionError e) {
            exit = 1;
            System.out.println("BENCHMARK FAILED: " + e);
        } finally {
            if (bench != null) {
                Files.writeString(work.resolve("fleet-output.log"), bench.buffer.toString(StandardCharsets.UTF_8));
            }
            for (String name : names) {
                new LabMachines(name).destroyAll();
            }
            if (bench != null && recipe != null) {
                bench.fleet("rb-one", 1, 0).removeImage(true, recipe.substring(0, 16));
            }
            network.destroyAll();
            deleteTree(work.resolve("workshops")); // secrets of throwaway fleets
        }
        try {
            HostState.assertRestored(before, HostState.capture(LabPaths.standard()),
                    names.stream().map(x -> LabMachines.PREFIX + x).toArray(String[]::new));
            System.out.println("host clean: no lab machine, mount, netns, link or NAT rule of the benchmark is left");
        } catch (AssertionError e) {
            exit = 1;
            System.out.println("HOST NOT CLEAN: " + e.getMessage());
        }
        System.out.println();
        System.out.println("==== summary (fleet output: " + work.resolve("fleet-output.log") + ")");
        System.out.println("host: " + String.format(Locale.ROOT, "%d cores (nproc), Java %s",
                Runtime.getRuntime().availableProcessors(), System.getProperty("java.version")));
        if (bench != null) {
            bench.report.forEach(System.out::println);
        }
        System.exit(exit);
    }

    /** Runs every measurement; returns the image recipe so that the caller removes the image. */
    private String run(int n) {
        Fleet one = fleet("rb-one", 1, 0);
        String recipe = one.currentRecipe().hash();
        double bake = seconds(() -> expect(0, one.up(true, ImageMode.BAKE), "up of 1 (bakes the image)"));
        say("up of 1 machine, baking the image first: %.0f s", bake);
        double verifyOne = seconds(() -> expect(0, one.verify(), "verify of 1"));

        Fleet fleet = fleet("rb-fleet", n, 0);
        double upN = seconds(() -> expect(0, fleet.up(true, ImageMode.BAKE), "up of " + n));
        double verifyN = seconds(() -> expect(0, fleet.verify(), "verify of " + n));
        say("deep verify: 1 machine %.1f s, %d machines %.1f s, ratio %.2f", verifyOne, n, verifyN, verifyN / verifyOne);
        expect(0, fleet.teardown(true), "teardown of " + n);

        Fleet spares = fleet("rb-spares", n, SPARES);
        double upSpares = seconds(() -> expect(0, spares.up(true, ImageMode.BAKE), "up of " + n + " with spares"));
        say("up from the image, readiness checks included: %d machines %.1f s, %d + %d spares %.1f s (+%.0f%%)", n, upN,
                n, SPARES, upSpares, 100 * (upSpares / upN - 1));
        buffer.reset();
        double replace = seconds(() -> expect(0, spares.replace(true, 1), "replace of seat 1"));
        Matcher card = CARD.matcher(buffer.toString(StandardCharsets.UTF_8));
        if (!card.find()) {
            throw new AssertionError("replace printed no verified card");
        }
        say("replace seat 1 onto a spare: command to verified new card %s s; whole command (new spare made and"
                + " verified) %.0f s", card.group(1), replace);
        expect(0, spares.teardown(true), "teardown with spares");
        expect(0, one.teardown(true), "teardown of 1");
        return recipe;
    }

    private Fleet fleet(String name, int count, int spares) {
        WorkshopSpec spec = new WorkshopSpec(name, count, Provider.LAB, "ap-northeast-1", null, null, null, false, null, 8,
                work.resolve("workshops"), sources, spares);
        Wiring wiring = new Wiring(new CloudsByProvider(PROJECT), s -> { }, () -> LabNetwork.SUBNET, null,
                ProvisionListener.NONE, Clock.systemUTC(), SshLogin.MACHINE_USER, 22, MachineLayout.STANDARD,
                Duration.ofMinutes(5), Duration.ofMinutes(15)).withReadiness(ReadinessCheck.VERIFIER);
        return new Fleet(spec, PROJECT, wiring, out);
    }

    private void expect(int code, int actual, String what) {
        if (actual != code) {
            throw new AssertionError(what + " exited " + actual + "; see " + work.resolve("fleet-output.log"));
        }
    }

    private static double seconds(Runnable r) {
        long t0 = System.nanoTime();
        r.run();
        return (System.nanoTime() - t0) / 1e9;
    }

    private void say(String format, Object... args) {
        String line = String.format(Locale.ROOT, format, args);
        System.out.println(line);
        report.add(line);
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
