package org.workshopfleet.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.workshopfleet.provision.MachineLayout;
import org.workshopfleet.render.SetupStep;
import org.workshopfleet.ssh.Remote;
import org.workshopfleet.ssh.SshLogin;
import org.workshopfleet.ssh.SshTarget;

/**
 * Between the contenders: wipe what a run leaves on every machine (bundle, markers, proof files), and afterwards check
 * that a run did all the work (every step's marker holds its hash, every step left its proof). Over SSH with the
 * pinned host keys, all machines at once.
 */
final class FleetShell {

    private final SshLogin login;

    FleetShell(SshLogin login) {
        this.login = login;
    }

    /**
     * Removes the bundle root, the step markers and the proof files on every machine. The proof files' folder is made
     * again, empty: the plain-SSH rounds that follow a provisioning run find it, so a provisioning run must too, or
     * its first step would pay a {@code mkdir} per machine that the floors it is compared with do not.
     */
    void reset(List<BenchMachine> machines) {
        String cmd = "sudo rm -rf " + MachineLayout.STANDARD.bundleRoot() + " " + MachineLayout.STANDARD.markersDir()
                + " " + QuickSteps.PROOF_DIR + " && sudo mkdir " + QuickSteps.PROOF_DIR;
        for (String r : onAll(machines, m -> cmd)) {
            if (!r.isEmpty()) {
                throw new IllegalStateException("reset failed: " + r);
            }
        }
    }

    /**
     * Every machine at once: log in (pinned host key, the workshop key) and run {@code sudo true}, nothing else. What
     * any SSH-based tool pays per machine before doing any work; on a shared host this is the floor under a fleet's
     * provisioning time above the slowest machine's own steps.
     */
    void loginRound(List<BenchMachine> machines) {
        for (String r : onAll(machines, m -> "sudo true")) {
            if (!r.isEmpty()) {
                throw new IllegalStateException("login round failed: " + r);
            }
        }
    }

    /**
     * Every machine at once: log in, and under one {@code sudo} run the bundle's setup steps in order exactly as the
     * machine's session script runs each one ({@code bash} with {@code BUNDLE_DIR} and {@code STATE_DIR}, stdin at end
     * of file), nothing else: no transfer, no unpack, no markers, no frames. What any SSH-based tool pays to run this
     * fleet's steps on this host; the bundle must already be on the machines (after a run, before {@link #reset}).
     */
    void workloadRound(List<BenchMachine> machines) {
        String root = MachineLayout.STANDARD.bundleRoot();
        for (String r : onAll(machines, m -> {
            StringBuilder c = new StringBuilder();
            for (SetupStep s : m.bundle().steps()) {
                c.append("BUNDLE_DIR=").append(root).append(" STATE_DIR=").append(MachineLayout.STANDARD.stateRoot())
                        .append(" bash ").append(root).append('/').append(s.script()).append(" < /dev/null || exit 1; ");
            }
            return "sudo sh -c '" + c + "'";
        })) {
            if (!r.isEmpty()) {
                throw new IllegalStateException("workload round failed: " + r);
            }
        }
    }

    /** Empty when every machine has every step's marker with its hash and proof file; otherwise what is missing. */
    List<String> missingWork(List<BenchMachine> machines) {
        List<String> missing = new ArrayList<>();
        for (String r : onAll(machines, m -> {
            StringBuilder c = new StringBuilder("set -e; ");
            for (SetupStep s : m.bundle().steps()) {
                c.append("test \"$(sudo head -n 1 ").append(MachineLayout.STANDARD.markersDir()).append('/').append(s.name())
                        .append(")\" = ").append(s.contentHash()).append(" || { echo 'marker of ").append(s.name())
                        .append("'; exit 1; }; sudo test -s ").append(QuickSteps.PROOF_DIR).append('/').append(s.name())
                        .append(" || { echo 'proof of ").append(s.name()).append("'; exit 1; }; ");
            }
            return c.toString();
        })) {
            if (!r.isEmpty()) {
                missing.add(r);
            }
        }
        return missing;
    }

    private List<String> onAll(List<BenchMachine> machines, java.util.function.Function<BenchMachine, String> command) {
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, machines.size()));
        try {
            List<Future<String>> futures = new ArrayList<>();
            for (BenchMachine m : machines) {
                futures.add(pool.submit(() -> {
                    try (Remote r = Remote.await(new SshTarget(m.ip(), 22, m.hostKey().publicKeyNoComment()), login,
                            Duration.ofSeconds(60))) {
                        Remote.Result res = r.exec(command.apply(m));
                        return res.ok() ? "" : m.name() + ": " + (res.stdout() + res.stderr()).trim();
                    }
                }));
            }
            List<String> out = new ArrayList<>();
            for (Future<String> f : futures) {
                out.add(f.get());
            }
            return out;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        } finally {
            pool.shutdown();
        }
    }
}
