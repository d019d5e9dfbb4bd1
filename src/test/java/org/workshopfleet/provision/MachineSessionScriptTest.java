package org.workshopfleet.provision;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.workshopfleet.render.Bundle;
import org.workshopfleet.render.BundleFile;
import org.workshopfleet.render.SetupStep;
import org.workshopfleet.ssh.SshKeyPair;
import org.workshopfleet.ssh.SshLogin;

/**
 * The script {@link MachineSession} renders, run for real under {@code sh} on this host (no SSH, no root) against a
 * layout whose paths hold spaces and a single quote, and read by {@link SessionTranscript}: the steps run with
 * BUNDLE_DIR and STATE_DIR from the layout, the markers land in its markers folder, and a second run skips; two
 * sessions on one machine never overlap from the unpack to the last step.
 */
class MachineSessionScriptTest {

    private static final SshLogin LOGIN = new SshLogin("root", SshKeyPair.generate("session-test"));
    private static final SetupStep STEP = new SetupStep("01-a", "scripts/01-a.sh", "hash-1");
    private static final SecureRandom RANDOM = new SecureRandom();

    /** A "machine" in {@code dir}: its own folders, and cloud-init already over without errors. */
    private static MachineLayout bootedMachine(Path dir) throws IOException {
        MachineLayout layout = new MachineLayout(dir + "/opt", dir + "/state", 3000, dir + "/run/result.json");
        Files.createDirectories(dir.resolve("run"));
        Files.writeString(Path.of(layout.cloudInitResult()), "{\"v1\": {\"errors\": []}}");
        return layout;
    }

    @Test
    void theRenderedScriptRunsTheStepsWithTheLayoutsPaths(@TempDir Path dir) throws Exception {
        Path base = dir.resolve("it's a machine");
        MachineLayout layout = new MachineLayout(base + "/opt fleet", base + "/state", 3000,
                base + "/run/result.json");
        Files.createDirectories(base.resolve("run"));
        Files.writeString(Path.of(layout.cloudInitResult()), "{\"v1\": {\"errors\": []}}\n");
        Bundle bundle = new Bundle("m", List.of(new BundleFile("scripts/01-a.sh", ("echo \"ran in $BUNDLE_DIR\"\n"
                + "mkdir -p \"$STATE_DIR/observed\"; echo 'feed  x' > \"$STATE_DIR/observed/ebpf_exporter.sha256\"\n")
                .getBytes(StandardCharsets.UTF_8), 0755)), List.of(STEP));

        Run first = run(layout, bundle);
        assertEquals("feed", first.outcome.observedHash());
        assertEquals(List.of("uploading", "steps", "started 1 01-a", "finished 1 01-a"), first.events);
        assertTrue(first.log.contains("\nran in " + layout.bundleRoot() + "\n"), first.log);
        assertFalse(first.log.contains("@@wf-"), first.log);
        assertEquals("hash-1\n", Files.readString(Path.of(layout.markersDir(), "01-a")));
        assertFalse(Files.exists(Path.of(layout.bundleRoot() + ".new")), "the fresh folder became the root");

        Run second = run(layout, bundle);
        assertEquals(List.of("uploading", "steps", "started 1 01-a", "finished 1 01-a skipped"), second.events);
    }

    @Test
    void anArchiveWithoutItsLastMemberIsTornAndLeavesTheOldRoot(@TempDir Path dir) throws Exception {
        MachineLayout layout = bootedMachine(dir);
        Bundle v1 = new Bundle("m", List.of(new BundleFile("scripts/01-a.sh", "echo v1\n".getBytes(StandardCharsets.UTF_8),
                0755)), List.of(STEP));
        // A first bundle unpacks into the root itself: torn, it leaves no root at all.
        Run firstCut = run(layout, v1, v1.toTar(), "0123abcd");
        assertTrue(firstCut.failure.contains("arrived incomplete"), firstCut.failure);
        assertFalse(Files.exists(Path.of(layout.bundleRoot())), "no root from a torn first transfer");
        assertTrue(run(layout, v1).log.contains("\nv1\n"));
        Bundle v2 = new Bundle("m", List.of(new BundleFile("scripts/01-a.sh", "echo v2\n".getBytes(StandardCharsets.UTF_8),
                0755)), List.of(new SetupStep("01-a", "scripts/01-a.sh", "hash-2")));

        // Cut between members: every file arrived and the archive ends cleanly, but the transfer's mark did not.
        Run cut = run(layout, v2, v2.toTar(), "0123abcd");
        assertEquals(List.of("uploading"), cut.events, "the bundle went, no step started");
        assertTrue(cut.failure.contains("arrived incomplete"), cut.failure);
        assertEquals("echo v1\n", Files.readString(Path.of(layout.bundleRoot(), "scripts/01-a.sh")), "old root kept");
        assertFalse(Files.exists(Path.of(layout.bundleRoot() + ".new")), "nothing left of the torn transfer");

        // A mark from another transfer does not count either.
        Run stale = run(layout, v2, MachineSession.transfer(v2, "ffff0000"), "0123abcd");
        assertTrue(stale.failure.contains("arrived incomplete"), stale.failure);
        assertEquals("echo v1\n", Files.readString(Path.of(layout.bundleRoot(), "scripts/01-a.sh")));

        Run whole = run(layout, v2);
        assertEquals(List.of("uploading", "steps", "started 1 01-a", "finished 1 01-a"), whole.events);
        assertEquals("echo v2\n", Files.readString(Path.of(layout.bundleRoot(), "scripts/01-a.sh")));
        assertFalse(Files.exists(Path.of(layout.bundleRoot(), "scripts/01-a.sh.new")));
    }

    /**
     * A connection dropped mid-step leaves that session running on the machine; the re-run's session, on the same
     * machine meanwhile, must neither unpack over it nor run its step beside it: it waits, then finds the step done.
     */
    @Test
    void aSecondSessionOnTheMachineWaitsForTheFirstAndSkipsWhatItFinished(@TempDir Path dir) throws Exception {
        MachineLayout layout = bootedMachine(dir);
        Path trace = Path.of(layout.stateRoot(), "trace");
        Path release = Path.of(layout.stateRoot(), "release");
        // The step stays in the middle until the test releases it (30 s at most).
        Bundle bundle = new Bundle("m", List.of(new BundleFile("scripts/01-a.sh", ("echo start >> \"$STATE_DIR/trace\"\n"
                + "n=0; while [ ! -e \"$STATE_DIR/release\" ] && [ $n -lt 300 ]; do sleep 0.1; n=$((n+1)); done\n"
                + "echo end >> \"$STATE_DIR/trace\"\n").getBytes(StandardCharsets.UTF_8), 0755)), List.of(STEP));

        Running first = start(layout, bundle, MachineSession.LOCK_WAIT);
        awaitTrue(() -> Files.exists(trace) && Files.readString(trace).contains("start"), "the first session's step");
        Running second = start(layout, bundle, MachineSession.LOCK_WAIT);
        // Without the lock the second session is in the step by now; with it, it waits.
        awaitTrue(() -> second.log().contains("waiting up to") || second.log().contains("== step 1/1"),
                "the second session waiting or running its step");
        Files.createFile(release);
        Run a = first.finish();
        Run b = second.finish();

        assertEquals("start\nend\n", Files.readString(trace), "the step ran once, never beside itself");
        assertEquals(List.of("uploading", "steps", "started 1 01-a", "finished 1 01-a"), a.events, a.log);
        assertEquals(List.of("uploading", "waiting", "steps", "started 1 01-a", "finished 1 01-a skipped"), b.events,
                b.log);
        assertTrue(b.log.contains("== another provisioning session is running on this machine (" + layout.sessionLock()
                + " is locked): waiting up to 120 s for it to end\n"), b.log);
        assertFalse(Files.exists(Path.of(layout.bundleRoot() + ".new")));
    }

    @Test
    void aSessionStillHoldingTheMachineAfterTheWaitFailsItWithNothingChanged(@TempDir Path dir) throws Exception {
        MachineLayout layout = bootedMachine(dir);
        Bundle v1 = new Bundle("m", List.of(new BundleFile("scripts/01-a.sh", "echo v1\n".getBytes(StandardCharsets.UTF_8),
                0755)), List.of(STEP));
        assertTrue(run(layout, v1).log.contains("\nv1\n"));
        Bundle v2 = new Bundle("m", List.of(new BundleFile("scripts/01-a.sh", "echo v2\n".getBytes(StandardCharsets.UTF_8),
                0755)), List.of(new SetupStep("01-a", "scripts/01-a.sh", "hash-2")));

        try (LockHolder held = LockHolder.take(layout)) {
            Run busy = start(layout, v2, Duration.ofSeconds(1)).finish();
            assertEquals("upload: another provisioning session is still running on this machine after 1 s of waiting"
                    + " (an earlier run whose connection dropped, its steps still going): nothing was changed; re-run up"
                    + " in a few minutes, finished steps are skipped", busy.failure);
            assertEquals(List.of("uploading", "waiting"), busy.events);
            assertEquals("echo v1\n", Files.readString(Path.of(layout.bundleRoot(), "scripts/01-a.sh")), "old root kept");
            assertFalse(Files.exists(Path.of(layout.bundleRoot() + ".new")));
            assertEquals("hash-1\n", Files.readString(Path.of(layout.markersDir(), "01-a")));
        }
        // The holder gone, its lock is gone with it: nothing stale to clear.
        Run after = start(layout, v2, Duration.ofSeconds(1)).finish();
        assertEquals(List.of("uploading", "steps", "started 1 01-a", "finished 1 01-a"), after.events, after.log);
        assertFalse(after.log.contains("waiting up to"), after.log);
    }

    @Test
    void aDaemonAStepLeavesRunningDoesNotHoldTheMachine(@TempDir Path dir) throws Exception {
        MachineLayout layout = bootedMachine(dir);
        Bundle bundle = new Bundle("m", List.of(new BundleFile("scripts/01-a.sh",
                "sleep 60 > /dev/null 2>&1 &\necho $! > \"$STATE_DIR/daemon.pid\"\n".getBytes(StandardCharsets.UTF_8),
                0755)), List.of(STEP));
        Path pid = Path.of(layout.stateRoot(), "daemon.pid");
        try {
            assertEquals(List.of("uploading", "steps", "started 1 01-a", "finished 1 01-a"),
                    start(layout, bundle, Duration.ofSeconds(1)).finish().events);
            Run next = start(layout, bundle, Duration.ofSeconds(1)).finish();
            assertEquals(List.of("uploading", "steps", "started 1 01-a", "finished 1 01-a skipped"), next.events,
                    next.log);
        } finally {
            if (Files.exists(pid)) {
                ProcessHandle.of(Long.parseLong(Files.readString(pid).trim())).ifPresent(ProcessHandle::destroy);
            }
        }
    }

    /**
     * The command the machine's log shows for a step (to re-run it by hand, and how a bake runs the seal) waits for a
     * session holding the machine instead of running beside it, then runs the step with the layout's folders.
     */
    @Test
    void aStepReRunByHandWaitsForTheSessionHoldingTheMachine(@TempDir Path dir) throws Exception {
        MachineLayout layout = bootedMachine(dir);
        Bundle bundle = new Bundle("m", List.of(new BundleFile("scripts/01-a.sh",
                "echo \"ran in $BUNDLE_DIR\" >> \"$STATE_DIR/by-hand\"\n".getBytes(StandardCharsets.UTF_8), 0755)),
                List.of(STEP));
        assertEquals(List.of("uploading", "steps", "started 1 01-a", "finished 1 01-a"), run(layout, bundle).events);
        Path byHand = Path.of(layout.stateRoot(), "by-hand");
        Files.delete(byHand);

        Process rerun;
        try (LockHolder held = LockHolder.take(layout)) {
            rerun = new ProcessBuilder("sh", "-c", layout.runScript(STEP.script())).redirectErrorStream(true).start();
            assertFalse(rerun.waitFor(1, TimeUnit.SECONDS), "waits while the session holds the machine");
            assertFalse(Files.exists(byHand), "the step did not run beside the session");
        }
        assertTrue(rerun.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, rerun.exitValue(), new String(rerun.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        assertEquals("ran in " + layout.bundleRoot() + "\n", Files.readString(byHand));
    }

    /** Another session's shell, as the script holds the lock: flock on the lock file, until it is closed. */
    private record LockHolder(Process shell) implements AutoCloseable {
        static LockHolder take(MachineLayout layout) throws IOException {
            Process shell = new ProcessBuilder("sh", "-c", "exec 9>>\"$1\"; flock 9; echo held; read -r _", "holder",
                    layout.sessionLock()).redirectErrorStream(true).start();
            assertEquals("held", new String(shell.getInputStream().readNBytes(4), StandardCharsets.US_ASCII));
            return new LockHolder(shell);
        }

        /** Closes the shell's stdin: it ends, and the kernel drops its lock with it. */
        @Override
        public void close() throws Exception {
            shell.getOutputStream().close();
            assertTrue(shell.waitFor(30, TimeUnit.SECONDS));
        }
    }

    private record Run(MachineSession.Outcome outcome, String failure, List<String> events, String log) {
    }

    private static Run run(MachineLayout layout, Bundle bundle) throws Exception {
        return run(layout, bundle, MachineSession.transfer(bundle, "5eed"), "5eed");
    }

    /** Runs the script with {@code tar} on stdin after the answer line announcing {@code token}. */
    private static Run run(MachineLayout layout, Bundle bundle, byte[] tar, String token) throws Exception {
        return start(layout, bundle, tar, token, MachineSession.LOCK_WAIT).finish();
    }

    private static Running start(MachineLayout layout, Bundle bundle, Duration lockWait) throws IOException {
        return start(layout, bundle, MachineSession.transfer(bundle, "5eed"), "5eed", lockWait);
    }

    /** Starts the script with {@code tar} on stdin; its output is read on a thread of its own. */
    private static Running start(MachineLayout layout, Bundle bundle, byte[] tar, String token, Duration lockWait)
            throws IOException {
        byte[] random = new byte[12];
        RANDOM.nextBytes(random);
        String nonce = HexFormat.of().formatHex(random);
        String script = new MachineSession(layout, LOGIN, Duration.ofSeconds(2), nonce, lockWait)
                .script(bundle.steps(), true);
        Process p = new ProcessBuilder("sh", "-c", script, "wf-provision").redirectErrorStream(true).start();
        // Small enough to fit the pipe while the script still waits for cloud-init or the lock.
        try (OutputStream in = p.getOutputStream()) {
            in.write(("bundle " + tar.length + " " + token + "\n").getBytes(StandardCharsets.US_ASCII));
            in.write(tar);
        }
        RecordedEvents events = new RecordedEvents();
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        SessionTranscript t = new SessionTranscript(nonce, bundle.steps(), layout, "", Duration.ofSeconds(2), log,
                events, b -> { }, tar.length, 1);
        CompletableFuture<Void> reader = CompletableFuture.runAsync(() -> {
            try {
                p.getInputStream().transferTo(t);
                t.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, r -> new Thread(r, "session-output").start());
        return new Running(p, t, log, events, reader);
    }

    /** A session started by {@link #start}: {@link #log()} grows as its output arrives. */
    private record Running(Process process, SessionTranscript transcript, ByteArrayOutputStream output,
                           RecordedEvents events, CompletableFuture<Void> reader) {

        String log() {
            return output.toString(StandardCharsets.UTF_8);
        }

        Run finish() throws Exception {
            reader.get(60, TimeUnit.SECONDS);
            assertTrue(process.waitFor(30, TimeUnit.SECONDS));
            MachineSession.Outcome outcome = null;
            String failure = null;
            try {
                outcome = transcript.outcome(process.exitValue(), true);
            } catch (Pipeline.StepFailed e) {
                failure = e.step + ": " + e.getMessage();
            }
            return new Run(outcome, failure, events.lines, log());
        }
    }

    private interface Check {
        boolean holds() throws IOException;
    }

    private static void awaitTrue(Check check, String what) throws Exception {
        Instant deadline = Instant.now().plusSeconds(30);
        while (!check.holds()) {
            assertTrue(Instant.now().isBefore(deadline), "timed out waiting for " + what);
            Thread.sleep(50);
        }
    }

    @Test
    void theNonceLeadsAndNoHashIsReadUnlessAsked() {
        String s = new MachineSession(MachineLayout.STANDARD, LOGIN, Duration.ofMinutes(10), "ab")
                .script(List.of(STEP), false);
        assertTrue(s.startsWith("N='@@wf-ab'\n"), s);
        assertFalse(s.contains("observed"), s);
    }
}
