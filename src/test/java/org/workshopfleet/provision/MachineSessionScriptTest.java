package org.workshopfleet.provision;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
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
 * BUNDLE_DIR and STATE_DIR from the layout, the markers land in its markers folder, and a second run skips.
 */
class MachineSessionScriptTest {

    private static final SshLogin LOGIN = new SshLogin("root", SshKeyPair.generate("session-test"));
    private static final SetupStep STEP = new SetupStep("01-a", "scripts/01-a.sh", "hash-1");

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
        MachineLayout layout = new MachineLayout(dir + "/opt", dir + "/state", 3000, dir + "/run/result.json");
        Files.createDirectories(dir.resolve("run"));
        Files.writeString(Path.of(layout.cloudInitResult()), "{\"v1\": {\"errors\": []}}");
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

    private record Run(MachineSession.Outcome outcome, String failure, List<String> events, String log) {
    }

    private static Run run(MachineLayout layout, Bundle bundle) throws Exception {
        return run(layout, bundle, MachineSession.transfer(bundle, "5eed"), "5eed");
    }

    /** Runs the script with {@code tar} on stdin after the answer line announcing {@code token}. */
    private static Run run(MachineLayout layout, Bundle bundle, byte[] tar, String token) throws Exception {
        String script = new MachineSession(layout, LOGIN, Duration.ofSeconds(2))
                .script(bundle.steps(), true);
        Process p = new ProcessBuilder("sh", "-c", script, "wf-provision").redirectErrorStream(true).start();
        try (OutputStream in = p.getOutputStream()) {
            in.write(("bundle " + tar.length + " " + token + "\n").getBytes(StandardCharsets.US_ASCII));
            in.write(tar);
        }
        RecordedEvents events = new RecordedEvents();
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        SessionTranscript t = new SessionTranscript(script.substring("N='@@wf-".length(), script.indexOf("'\n")),
                bundle.steps(), layout, "", Duration.ofSeconds(2), log, events, b -> { }, tar.length, 1);
        p.getInputStream().transferTo(t);
        t.close();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        MachineSession.Outcome outcome = null;
        String failure = null;
        try {
            outcome = t.outcome(p.exitValue(), true);
        } catch (Pipeline.StepFailed e) {
            failure = e.step + ": " + e.getMessage();
        }
        return new Run(outcome, failure, events.lines, log.toString(StandardCharsets.UTF_8));
    }

    @Test
    void theNonceLeadsAndNoHashIsReadUnlessAsked() {
        String s = new MachineSession(MachineLayout.STANDARD, LOGIN, Duration.ofMinutes(10), "ab")
                .script(List.of(STEP), false);
        assertTrue(s.startsWith("N='@@wf-ab'\n"), s);
        assertFalse(s.contains("observed"), s);
    }
}
