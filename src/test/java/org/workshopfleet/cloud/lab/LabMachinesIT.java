package org.workshopfleet.cloud.lab;

import org.workshopfleet.error.FleetException;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.workshopfleet.ssh.SshKeyPair;

/**
 * Real lab machines: two booted concurrently from a cloud-config with a pinned host key, reached with the OpenSSH
 * client; after destroy (and after a simulated crash) the host is exactly as before. Needs root; prints timings.
 */
class LabMachinesIT {

    private static final LabPaths PATHS = LabPaths.standard();

    @TempDir
    Path tmp;

    @BeforeAll
    static void prerequisites() {
        LabPrerequisites.require("ssh", "ssh-keyscan");
        Instant t0 = Instant.now();
        new BaseImage(PATHS).ensure();
        System.out.printf("lab: base image %s ready in %d ms here; its build took %s%n", BaseImage.hash(),
                Duration.between(t0, Instant.now()).toMillis(), new BaseImage(PATHS).buildTime());
    }

    private static String unique() {
        return HexFormat.of().toHexDigits((short) ThreadLocalRandom.current().nextInt()) ;
    }

    @Test
    void twoMachinesBootWithPinnedHostKeysAndLeaveNothingBehind() throws Exception {
        String run = unique();
        LabMachines lab = new LabMachines("it-lab-" + run);
        SshKeyPair login = SshKeyPair.generate("it-login");
        List<String> names = List.of("it-" + run + "-a", "it-" + run + "-b");
        List<SshKeyPair> hostKeys = List.of(SshKeyPair.generate("host-a"), SshKeyPair.generate("host-b"));
        HostState before = HostState.capture(PATHS);
        try {
            Instant t0 = Instant.now();
            List<CompletableFuture<LabMachine>> boots = List.of(0, 1).stream()
                    .map(i -> CompletableFuture.supplyAsync(() -> lab.boot(names.get(i),
                            LabUserData.cloudConfig(hostKeys.get(i), login, "")))).toList();
            List<LabMachine> machines = boots.stream().map(CompletableFuture::join).toList();
            long sshdMillis = Duration.between(t0, Instant.now()).toMillis();
            assertEquals(2, lab.list().size());
            assertFalse(machines.get(0).ip().equals(machines.get(1).ip()), "distinct addresses");
            for (int i = 0; i < 2; i++) {
                LabMachine m = machines.get(i);
                assertEquals(names.get(i), m.name());
                assertTrue(m.ip().startsWith("10.231."), m.ip());
                HostCommand.Result scan = HostCommand.run(List.of("ssh-keyscan", "-t", "ed25519", "-T", "10", m.ip()));
                assertEquals(m.ip() + " " + hostKeys.get(i).publicKeyNoComment(),
                        scan.output().lines().filter(l -> !l.startsWith("#")).findFirst().orElse(""),
                        "ssh-keyscan shows exactly the pinned host key");
                OpenSshClient ssh = new OpenSshClient(tmp, login, "ubuntu", m.ip(), hostKeys.get(i));
                HostCommand.Result status = ssh.runWhenReady("cloud-init status --wait", Duration.ofSeconds(120), 300);
                assertEquals("status: done", status.output().lines().reduce((a, b) -> b).orElse("").strip(),
                        "cloud-init finished without error: " + status.output());
                assertEquals(0, status.exitCode());
                HostCommand.Result sudo = ssh.run("sudo -n true && hostname", 60);
                assertEquals(0, sudo.exitCode(), sudo.output());
                assertEquals(names.get(i), sudo.output().strip());
            }
            long readyMillis = Duration.between(t0, Instant.now()).toMillis();
            Instant d0 = Instant.now();
            for (String name : names) {
                lab.destroy(name);
            }
            long destroyMillis = Duration.between(d0, Instant.now()).toMillis();
            System.out.printf("lab: 2 machines: sshd up after %d ms, both checked (cloud-init done) after %d ms,"
                    + " destroyed in %d ms%n", sshdMillis, readyMillis, destroyMillis);
            assertTrue(lab.list().isEmpty());
        } finally {
            lab.destroyAll();
        }
        HostState.assertRestored(before, HostState.capture(PATHS), "wf-" + names.get(0), "wf-" + names.get(1));
    }

    @Test
    void aCrashedRunsMachineIsFoundAndRemovedByTheNextTeardown() {
        String run = unique();
        String scope = "it-crash-" + run;
        HostState before = HostState.capture(PATHS);
        try {
            LabMachine m = new LabMachines(scope).boot("it-" + run + "-crash",
                    LabUserData.cloudConfig(SshKeyPair.generate("h"), SshKeyPair.generate("l"), ""));
            assertTrue(m.ip().startsWith("10.231."));
            // The process that booted it is gone as far as the lab is concerned: nothing is killed, only forgotten.
        } finally {
            LabMachines later = new LabMachines(scope);
            assertEquals(1, later.list().size(), "the record of the crashed run's machine is found");
            Instant d0 = Instant.now();
            assertEquals(1, later.destroyAll());
            System.out.printf("lab: leftover machine removed in %d ms%n", Duration.between(d0, Instant.now()).toMillis());
        }
        HostState.assertRestored(before, HostState.capture(PATHS), "wf-it-" + run + "-crash");
    }

    @Test
    void aMachineWhoseNspawnProcessWasKilledIsStillRemovedWithItsContainer() throws Exception {
        String run = unique();
        String scope = "it-kill-" + run;
        String name = "it-" + run + "-kill";
        HostState before = HostState.capture(PATHS);
        LabMachines lab = new LabMachines(scope);
        try {
            lab.boot(name, LabUserData.cloudConfig(SshKeyPair.generate("h"), SshKeyPair.generate("l"), ""));
            LabMachineRecord rec = LabMachineRecord.readAll(PATHS.recordsDir()).stream()
                    .filter(r -> r.name().equals(name)).findFirst().orElseThrow();
            long containerInit = childOf(rec.nspawnPid());
            assertTrue(containerInit > 0, "the container's init runs under nspawn");
            // SIGKILL gives nspawn no chance to stop its container: the container's processes stay behind.
            ProcessHandle.of(rec.nspawnPid()).orElseThrow().destroyForcibly();
            ProcessHandle.of(rec.nspawnPid()).ifPresent(p -> p.onExit().join());
            assertFalse(lab.isRunning(name));
            assertTrue(running(containerInit), "the orphaned container init is still running before teardown");
            assertEquals(1, new LabMachines(scope).destroyAll());
            assertFalse(running(containerInit), "the orphaned container is killed by teardown");
        } finally {
            lab.destroyAll();
        }
        HostState.assertRestored(before, HostState.capture(PATHS), "wf-" + name);
    }

    @Test
    void aMachineThatFailsToBootIsRemovedAndReportedInOneLine() {
        String run = unique();
        String name = "it-" + run + "-bad";
        HostState before = HostState.capture(PATHS);
        LabMachines lab = new LabMachines("it-bad-" + run);
        org.workshopfleet.error.CloudFailure e = org.junit.jupiter.api.Assertions.assertThrows(
                org.workshopfleet.error.CloudFailure.class,
                () -> lab.boot(name, "#cloud-config\n{}\n", List.of("--no-such-nspawn-option")));
        assertTrue(e.getMessage().startsWith("lab: booting " + name + " failed: systemd-nspawn exited with"),
                e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line");
        Path kept = PATHS.cacheDir().resolve("logs").resolve("wf-" + name + ".console.log");
        assertTrue(e.getMessage().endsWith("see " + kept), "points at the kept console log: " + e.getMessage());
        assertTrue(kept.toFile().delete(), "the console log was kept");
        assertTrue(lab.list().isEmpty());
        HostState.assertRestored(before, HostState.capture(PATHS), "wf-" + name);
    }

    /** Running = exists and is not a zombie (a killed process stays a zombie until its new parent reaps it). */
    private static boolean running(long pid) {
        return LabMachineRecord.startTicks(pid).isPresent();
    }

    private static long childOf(long parent) throws java.io.IOException {
        try (var procs = java.nio.file.Files.list(Path.of("/proc"))) {
            for (Path p : procs.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
                try {
                    String stat = java.nio.file.Files.readString(p.resolve("stat"));
                    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    if (Long.parseLong(f[1]) == parent) {
                        return Long.parseLong(p.getFileName().toString());
                    }
                } catch (java.io.IOException gone) {
                    // exited meanwhile
                }
            }
        }
        return -1;
    }
}
