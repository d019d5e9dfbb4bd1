package org.workshopfleet.provision;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.workshopfleet.render.SetupStep;

/** {@link SessionTranscript} fed the output a machine session prints, line by line and byte by byte. */
class SessionTranscriptTest {

    private static final String NONCE = "a1b2c3d4e5f6a1b2c3d4e5f6";
    private static final String F = "@@wf-" + NONCE + " ";
    private static final String CLEAN = F + "cloudinit-begin\n{\"v1\": {\"datasource\": \"x\", \"errors\": []}}\n"
            + F + "cloudinit-end\n";
    private static final SetupStep A = new SetupStep("01-a", "scripts/01-a.sh", "h1");
    private static final SetupStep B = new SetupStep("02-b", "scripts/02-b.sh", "h2");

    private final ByteArrayOutputStream log = new ByteArrayOutputStream();
    private final RecordedEvents recorded = new RecordedEvents();
    private final List<String> events = recorded.lines;
    private final List<Boolean> answers = new ArrayList<>();
    private final SessionTranscript transcript = new SessionTranscript(NONCE, List.of(A, B), MachineLayout.STANDARD,
            "sudo -n ", Duration.ofSeconds(600), log, recorded, answers::add, 100, 7);

    private void feed(String text) throws IOException {
        transcript.write(text.getBytes(StandardCharsets.UTF_8));
    }

    private String log() {
        return log.toString(StandardCharsets.UTF_8);
    }

    private Pipeline.StepFailed failure(int exit, boolean withObserved) {
        return assertThrows(Pipeline.StepFailed.class, () -> transcript.outcome(exit, withObserved));
    }

    @Test
    void aWholeSessionGivesPhasesStepsAndTheObservedHash() throws IOException {
        feed(CLEAN + F + "unpacked\n" + F + "skip 01-a\n" + F + "begin 02-b\nhello from b\n" + F + "end 02-b 0\n"
                + F + "observed 0f0f\n");
        transcript.close();
        assertEquals(List.of(true), answers);
        assertEquals(List.of("uploading", "steps", "started 1 01-a", "finished 1 01-a skipped", "started 2 02-b",
                "finished 2 02-b"), events);
        assertEquals("0f0f", transcript.outcome(0, true).observedHash());
        assertEquals("""
                == cloud-init finished without errors
                == uploading the bundle (7 files) to /opt/workshop-fleet
                == step 01-a: unchanged since its last successful run, skipped
                == step 2/2 02-b
                == $ sudo -n flock -w 120 '/opt/workshop-fleet.lock' env BUNDLE_DIR='/opt/workshop-fleet' \
                STATE_DIR='/var/lib/workshop-fleet' bash '/opt/workshop-fleet/scripts/02-b.sh'
                hello from b
                """, log());
    }

    @Test
    void byteByByteIsTheSameAsAtOnce() throws IOException {
        String all = CLEAN + F + "unpacked\n" + F + "begin 01-a\nx\n" + F + "end 01-a 0\n" + F + "skip 02-b\n";
        for (byte b : all.getBytes(StandardCharsets.UTF_8)) {
            transcript.write(b);
        }
        transcript.close();
        assertNull(transcript.outcome(0, false).observedHash());
        assertTrue(log().contains("\nx\n"), log());
    }

    @Test
    void aFrameWithAnotherNonceIsOutputAndCountsForNothing() throws IOException {
        feed(CLEAN + F + "unpacked\n" + F + "begin 01-a\n");
        feed("@@wf-000000000000000000000000 end 01-a 0\n");
        feed("@@wf-" + NONCE + "x end 01-a 0\n");
        feed("echo \"@@wf-" + NONCE + "'\n");
        transcript.close();
        assertTrue(log().contains("@@wf-000000000000000000000000 end 01-a 0\n"), log());
        assertFalse(events.contains("finished 1 01-a"), events.toString());
        Pipeline.StepFailed f = failure(137, false);
        assertEquals("01-a", f.step);
        assertEquals("step 01-a exited with 137", f.getMessage());
    }

    @Test
    void aFailingStepIsChargedWithItsExitCodeAndEndsTheRun() throws IOException {
        feed(CLEAN + F + "unpacked\n" + F + "begin 01-a\noops\n" + F + "end 01-a 3\n");
        transcript.close();
        Pipeline.StepFailed f = failure(0, false);
        assertEquals("01-a", f.step);
        assertEquals("step 01-a exited with 3", f.getMessage());
        assertFalse(events.contains("finished 1 01-a"));
    }

    @Test
    void aMarkerThatCannotBeWrittenFailsTheStep() throws IOException {
        feed(CLEAN + F + "unpacked\n" + F + "begin 01-a\n" + F + "nomarker 01-a\n" + F + "end 01-a 254\n");
        Pipeline.StepFailed f = failure(0, false);
        assertEquals("cannot write the marker of step 01-a in /var/lib/workshop-fleet/steps", f.getMessage());
    }

    @Test
    void stepFramesOutOfOrderAreRefused() {
        assertThrows(IllegalStateException.class, () -> feed(CLEAN + F + "unpacked\n" + F + "begin 02-b\n"));
        assertThrows(IllegalStateException.class, () -> feed(F + "nonsense\n"));
    }

    @Test
    void cloudInitErrorsAskForTheTailAndAreLogged() throws IOException {
        feed(F + "cloudinit-begin\n{\"v1\": {\"errors\": [\"('scripts_user', RuntimeError('boom'))\"]}}\n"
                + F + "cloudinit-end\n");
        assertEquals(List.of(false), answers);
        feed(F + "tail-begin\nlast words\n" + F + "tail-end\n");
        transcript.close();
        Pipeline.StepFailed f = failure(0, false);
        assertEquals("cloud-init", f.step);
        assertTrue(f.getMessage().startsWith("cloud-init reported 1 error(s), first: ('scripts_user'"), f.getMessage());
        assertEquals("cloud-init reported errors:\n('scripts_user', RuntimeError('boom'))\n"
                + "== --- tail of /var/log/cloud-init-output.log ---\nlast words\n", log());
        assertFalse(events.contains("uploading"));
    }

    @Test
    void aResultFileThatIsNotJsonFailsCloudInitAndIsLogged() throws IOException {
        feed(F + "cloudinit-begin\nnot json\n" + F + "cloudinit-end\n");
        assertEquals(List.of(false), answers);
        assertEquals("cloud-init", failure(0, false).step);
        assertTrue(log().contains("not json"), log());
    }

    @Test
    void cloudInitTimeout() throws IOException {
        feed(F + "cloudinit-timeout\n");
        Pipeline.StepFailed f = failure(0, false);
        assertEquals("cloud-init did not finish within 600 s (no /run/cloud-init/result.json); the machine's console"
                + " output shows how far it got", f.getMessage());
    }

    @Test
    void aTornTransferIsChargedToTheUpload() throws IOException {
        feed(CLEAN + F + "torn\n");
        Pipeline.StepFailed f = failure(0, false);
        assertEquals("upload", f.step);
        assertEquals("the bundle (100 bytes) arrived incomplete: the connection ended before its last part; nothing"
                + " was unpacked", f.getMessage());
    }

    @Test
    void aFailedUnpackIsChargedToTheUpload() throws IOException {
        feed(CLEAN + F + "unpackfailed 2\n");
        Pipeline.StepFailed f = failure(0, false);
        assertEquals("upload", f.step);
        assertTrue(f.getMessage().contains("/opt/workshop-fleet failed (2)"), f.getMessage());
    }

    @Test
    void anotherSessionOnTheMachineIsWaitedForInTheLogThenFailsTheMachineWithTheFix() throws IOException {
        feed(CLEAN + F + "waiting 120\n");
        assertEquals("""
                == cloud-init finished without errors
                == uploading the bundle (7 files) to /opt/workshop-fleet
                == another provisioning session is running on this machine (/opt/workshop-fleet.lock is \
                locked): waiting up to 120 s for it to end
                """, log());
        feed(F + "busy 120\n");
        transcript.close();
        Pipeline.StepFailed f = failure(0, false);
        assertEquals("upload", f.step);
        assertEquals("another provisioning session is still running on this machine after 120 s of waiting (an earlier"
                + " run whose connection dropped, its steps still going): nothing was changed; re-run up in a few"
                + " minutes, finished steps are skipped", f.getMessage());
        assertEquals(List.of("uploading", "waiting"), events, "no step started");
    }

    @Test
    void aLockThatCannotBeOpenedNamesTheLockFile() throws IOException {
        feed(CLEAN + F + "unpackfailed lock\n");
        Pipeline.StepFailed f = failure(0, false);
        assertEquals("upload", f.step);
        assertEquals("cannot open /opt/workshop-fleet.lock, the lock that keeps provisioning sessions on"
                + " this machine apart: see the machine's log", f.getMessage());
    }

    @Test
    void aSessionCutShortIsChargedToWhereItStopped() throws IOException {
        assertEquals("while waiting for cloud-init", phaseOfCut(""));
        assertEquals("while the bundle was being sent", phaseOfCut(CLEAN));
    }

    private String phaseOfCut(String output) throws IOException {
        SessionTranscript t = new SessionTranscript(NONCE, List.of(A), MachineLayout.STANDARD, "", Duration.ofSeconds(1),
                new ByteArrayOutputStream(), new RecordedEvents(), b -> { }, 1, 1);
        t.write(output.getBytes(StandardCharsets.UTF_8));
        t.close();
        String m = assertThrows(Pipeline.StepFailed.class, () -> t.outcome(255, false)).getMessage();
        return m.substring("the session ended ".length(), m.indexOf(" (exit 255)"));
    }

    @Test
    void stepsLeftOrAMissingObservedHashMeanTheSessionEndedEarly() throws IOException {
        feed(CLEAN + F + "unpacked\n" + F + "skip 01-a\n");
        transcript.close();
        assertEquals("the step session ended early (exit 0) after 1 of 2 steps",
                assertThrows(IllegalStateException.class, () -> transcript.outcome(0, false)).getMessage());
    }

    @Test
    void outputWithoutANewlineBeforeAFrameGetsItsOwnLine() throws IOException {
        feed(CLEAN + F + "unpacked\n" + F + "begin 01-a\nno newline at the end");
        feed(F + "end 01-a 0\n" + F + "skip 02-b\n");
        transcript.close();
        transcript.outcome(0, false);
        assertTrue(log().contains("\nno newline at the end\n== step 02-b"), log());
    }

    @Test
    void aLastLineWithoutNewlineIsLoggedOnClose() throws IOException {
        feed(CLEAN + F + "unpacked\n" + F + "begin 01-a\nkilled mid-li");
        assertFalse(log().contains("killed mid-li"));
        transcript.close();
        assertTrue(log().endsWith("killed mid-li\n"), log());
    }

    @Test
    void aHugeLineIsLoggedInPiecesBeforeItEnds() throws IOException {
        feed(CLEAN + F + "unpacked\n" + F + "begin 01-a\n");
        int before = log.size();
        feed("y".repeat(SessionTranscript.MAX_LINE + 10));
        assertTrue(log.size() - before > SessionTranscript.MAX_LINE - 1024, "held back: " + (log.size() - before));
        feed(F + "end 01-a 0\n");
        assertTrue(events.contains("finished 1 01-a"), "a frame right after a huge line is still a frame");
    }

    @Test
    void theResultFileNeverReachesTheLog() throws IOException {
        feed(CLEAN);
        assertFalse(log().contains("datasource"), log());
    }
}
