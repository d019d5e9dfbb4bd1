package org.workshopfleet.provision;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.workshopfleet.render.Bundle;
import org.workshopfleet.render.BundleFile;
import org.workshopfleet.render.SetupStep;
import org.workshopfleet.ssh.LoopbackSshd;
import org.workshopfleet.ssh.SshKeyPair;
import org.workshopfleet.ssh.SshLogin;
import org.workshopfleet.state.Ledger;
import org.workshopfleet.state.StateFolder;

/**
 * Benchmark (a command printing figures, not a test): how much the orchestration adds when N machines are provisioned
 * at once instead of one. Each loopback "machine" runs three steps of {@code sleep S}. Needs root (sshd).
 *
 * <pre>mvn -o -q test-compile dependency:build-classpath -Dmdep.outputFile=/tmp/cp.txt
 * java -Dmachines=10 -DstepSeconds=2 -cp target/test-classes:target/classes:$(cat /tmp/cp.txt) \
 *   org.workshopfleet.provision.RunnerBenchmark</pre>
 * (exec:java cannot be used: the pom pins its main class to the command.) Measured 2026-11-25 on the 2-core CI
 * box under load ~10: 1 machine 10.6 s, 10 machines 16.7 s, re-run with every step skipped 9.3 s.
 */
public final class RunnerBenchmark {

    private RunnerBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int n = Integer.getInteger("machines", 10);
        int stepSeconds = Integer.getInteger("stepSeconds", 2);
        Path dir = Files.createTempDirectory("runner-bench");
        SshKeyPair login = SshKeyPair.generate("bench");
        List<TestMachines.Box> boxes = new ArrayList<>();
        try {
            for (int i = 1; i <= n; i++) {
                boxes.add(TestMachines.start(dir.resolve("m" + i), login, "done"));
            }
            System.out.printf("machines=%d steps=3x sleep %ds (ideal per machine: %ds + SSH/upload)%n", n, stepSeconds, 3 * stepSeconds);
            double one = run(dir.resolve("one"), login, boxes.subList(0, 1), stepSeconds);
            System.out.printf("1 machine : %.1f s%n", one);
            double all = run(dir.resolve("all"), login, boxes, stepSeconds);
            System.out.printf("%d machines: %.1f s (%.2fx the single machine)%n", n, all, all / one);
            double again = run(dir.resolve("all"), login, boxes, stepSeconds);
            System.out.printf("%d machines re-run, all steps skipped by markers: %.1f s%n", n, again);
        } finally {
            boxes.forEach(b -> b.sshd().close());
            try (java.util.stream.Stream<Path> walk = Files.walk(dir)) {
                for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
        System.exit(0);
    }

    private static double run(Path state, SshKeyPair login, List<TestMachines.Box> boxes, int stepSeconds) {
        StateFolder folder = new StateFolder(state);
        Ledger ledger = Ledger.open(folder, "bench", "lab", "local", Clock.systemUTC());
        Pipeline pipeline = new Pipeline(new SshLogin(LoopbackSshd.user(), login), MachineLayout.STANDARD, folder.logsDir(),
                List.of(), Duration.ofSeconds(60), Duration.ofSeconds(60));
        List<MachineJob> jobs = new ArrayList<>();
        for (int i = 0; i < boxes.size(); i++) {
            List<BundleFile> files = new ArrayList<>();
            List<SetupStep> steps = new ArrayList<>();
            for (int s = 1; s <= 3; s++) {
                String script = "set -euo pipefail\nsleep " + stepSeconds + "\necho step " + s + "\n";
                files.add(new BundleFile("scripts/0" + s + "-sleep.sh", script.getBytes(StandardCharsets.UTF_8), 0755));
                steps.add(new SetupStep("0" + s + "-sleep", "scripts/0" + s + "-sleep.sh", TestMachines.sha256(script)));
            }
            String name = String.format("bench-%02d", i + 1);
            jobs.add(new MachineJob(i + 1, name, boxes.get(i).sshd().target(), "pw", new Bundle(name, files, steps)));
        }
        long t0 = System.nanoTime();
        List<MachineResult> results = new Runner(pipeline, ledger, 32, ProvisionListener.NONE).run(jobs, "");
        double secs = (System.nanoTime() - t0) / 1e9;
        long failed = results.stream().filter(r -> !r.ok()).count();
        if (failed > 0) {
            System.out.println("FAILED machines: " + results.stream().filter(r -> !r.ok()).toList());
        }
        return secs;
    }
}
