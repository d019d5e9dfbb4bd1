package org.workshopfleet.provision;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.workshopfleet.grafana.FakeGrafana;
import org.workshopfleet.render.Bundle;
import org.workshopfleet.render.BundleFile;
import org.workshopfleet.ssh.LoopbackSshd;
import org.workshopfleet.ssh.SshKeyPair;
import org.workshopfleet.ssh.SshLogin;
import org.workshopfleet.state.Ledger;
import org.workshopfleet.state.MachinePhase;
import org.workshopfleet.state.MachineRecord;
import org.workshopfleet.state.StateFolder;

/** {@link Pipeline} and {@link Runner} against two real sshd "machines" on loopback, with the contract's paths. */
class PipelineRunnerTest {

    static final String HASH_A = "a".repeat(64);
    static final String HASH_B = "b".repeat(64);

    @TempDir
    Path dir;
    SshKeyPair login = SshKeyPair.generate("test-login");
    List<TestMachines.Box> boxes = new ArrayList<>();
    Ledger ledger;
    Path logs;
    List<String> events = Collections.synchronizedList(new ArrayList<>());

    @BeforeEach
    void setUp() {
        LoopbackSshd.assumeAvailable();
        StateFolder folder = new StateFolder(dir.resolve("workshops/t"));
        ledger = Ledger.open(folder, "t", "lab", "local", Clock.systemUTC());
        logs = folder.logsDir();
    }

    @AfterEach
    void tearDown() {
        boxes.forEach(b -> b.sshd().close());
    }

    private TestMachines.Box box(String name, String cloudInit) throws IOException {
        TestMachines.Box b = TestMachines.start(dir.resolve(name), login, cloudInit);
        boxes.add(b);
        return b;
    }

    private Pipeline pipeline(List<Path> dashboards, int grafanaPort) {
        MachineLayout layout = new MachineLayout(MachineLayout.STANDARD.bundleRoot(), MachineLayout.STANDARD.stateRoot(),
                grafanaPort, MachineLayout.STANDARD.cloudInitResult());
        return new Pipeline(new SshLogin(LoopbackSshd.user(), login), layout, logs, dashboards, Duration.ofSeconds(20),
                Duration.ofSeconds(2), Duration.ofSeconds(20));
    }

    private Runner runner(Pipeline p) {
        ProvisionListener recorder = new ProvisionListener() {
            @Override
            public void stepFinished(int attendee, String machine, int index, int total, String step, boolean skipped) {
                events.add(machine + " " + index + "/" + total + " " + step + (skipped ? " skipped" : " ran"));
            }

            @Override
            public void failed(int attendee, String machine, String step, String reason, List<String> logTail) {
                events.add(machine + " failed " + step);
            }
        };
        return new Runner(p, ledger, 4, recorder);
    }

    private static MachineJob job(int n, TestMachines.Box b, Bundle bundle) {
        return new MachineJob(n, bundle.machineName(), b.sshd().target(), "Grafana-pw-" + n, bundle);
    }

    @Test
    void aFailingStepStopsOnlyThatMachineAndReRunsResumeFromMarkers() throws IOException {
        TestMachines.Box m1 = box("m1", "done");
        TestMachines.Box m2 = box("m2", "done");
        Runner runner = runner(pipeline(List.of(), 3000));

        List<MachineResult> first = runner.run(List.of(
                job(1, m1, TestMachines.bundle("t-01", HASH_A, false, "v1")),
                job(2, m2, TestMachines.bundle("t-02", HASH_A, true, "v1"))), "");

        assertTrue(first.get(0).ok(), first.get(0).toString());
        MachineResult failed = first.get(1);
        assertFalse(failed.ok());
        assertEquals("03-maybe-fail", failed.failedStep());
        assertTrue(failed.error().contains("exited with 3"), failed.error());
        assertTrue(failed.logTail().size() <= Pipeline.TAIL_LINES && failed.logTail().stream().anyMatch(l -> l.equals("boom")),
                failed.logTail().toString());
        assertEquals(List.of("01", "02", "03"), m1.runs());
        assertEquals(List.of("01", "02", "03"), m2.runs());
        assertEquals(TestMachines.bundle("t-01", HASH_A, false, "v1").steps().get(0).contentHash(),
                Files.readString(m1.state().resolve("steps/01-hello")).trim(), "the marker holds the step hash");
        assertTrue(Files.exists(m1.state().resolve("steps/03-maybe-fail")));
        assertFalse(Files.exists(m2.state().resolve("steps/03-maybe-fail")), "no marker for a failed step");
        assertTrue(Files.readString(logs.resolve("t-01.log")).contains("hello from /opt/workshop-fleet"));

        MachineRecord r1 = ledger.snapshot().machines().get(1);
        MachineRecord r2 = ledger.snapshot().machines().get(2);
        assertEquals(MachinePhase.READY, r1.phase());
        assertEquals(List.of("01-hello", "02-observe", "03-maybe-fail"), r1.stepsDone());
        assertEquals(MachinePhase.FAILED, r2.phase());
        assertEquals("03-maybe-fail", r2.step());
        assertEquals(HASH_A, ledger.setting(Runner.EBPF_SETTING));

        // Second run: m1 unchanged (all skipped), m2 fixed (only step 03 runs, its hash changed).
        events.clear();
        List<MachineResult> second = runner(pipeline(List.of(), 3000)).run(List.of(
                job(1, m1, TestMachines.bundle("t-01", HASH_A, false, "v1")),
                job(2, m2, TestMachines.bundle("t-02", HASH_A, false, "v1"))), "");
        assertTrue(second.get(0).ok() && second.get(1).ok(), second.toString());
        assertEquals(List.of("01", "02", "03"), m1.runs(), "nothing re-ran on an unchanged machine");
        assertEquals(List.of("01", "02", "03", "03"), m2.runs(), "only the failed step re-ran");
        assertTrue(events.contains("t-01 2/3 02-observe skipped"), events.toString());
        assertEquals(MachinePhase.READY, ledger.snapshot().machines().get(2).phase());

        // Third run: step 02's script changed on m1 → only 02 re-runs.
        List<MachineResult> third = runner(pipeline(List.of(), 3000)).run(List.of(
                job(1, m1, TestMachines.bundle("t-01", HASH_A, false, "v2"))), "");
        assertTrue(third.get(0).ok());
        assertEquals(List.of("01", "02", "03", "02"), m1.runs());
    }

    @Test
    void theBundleReplacesTheOldOneWholeKeepsModesAndLeavesOnlyTheLockBeside() throws IOException {
        TestMachines.Box m1 = box("m1", "done");
        Files.createDirectories(m1.bundleRoot());
        Files.writeString(m1.bundleRoot().resolve("stale.txt"), "left from an older bundle");
        Bundle base = TestMachines.bundle("t-01", HASH_A, false, "v1");
        List<BundleFile> files = new ArrayList<>(base.files());
        files.add(new BundleFile("machine.env", "SSH_PASSWORD=pw-never-logged\n".getBytes(StandardCharsets.UTF_8), 0600));
        Bundle bundle = new Bundle(base.machineName(), files, base.steps());

        List<MachineResult> results = runner(pipeline(List.of(), 3000)).run(List.of(job(1, m1, bundle)), "");

        assertTrue(results.get(0).ok(), results.get(0).toString());
        assertFalse(Files.exists(m1.bundleRoot().resolve("stale.txt")), "the bundle root is replaced, not merged");
        assertEquals("rwxr-xr-x", PosixFilePermissions.toString(
                Files.getPosixFilePermissions(m1.bundleRoot().resolve("scripts/01-hello.sh"))));
        assertEquals("rw-------", PosixFilePermissions.toString(
                Files.getPosixFilePermissions(m1.bundleRoot().resolve("machine.env"))));
        try (Stream<Path> opt = Files.list(m1.opt())) {
            assertEquals(List.of("workshop-fleet", "workshop-fleet.lock"),
                    opt.map(p -> p.getFileName().toString()).sorted().toList(),
                    "no staging folder or transferred tar left beside the bundle root, only the session lock");
        }
        String log = Files.readString(logs.resolve("t-01.log"));
        assertFalse(log.contains("pw-never-logged"), "bundle content never reaches the log");
        assertTrue(log.contains("== cloud-init finished without errors\n== uploading the bundle (" + files.size()
                + " files) to /opt/workshop-fleet\n"), log);
    }

    @Test
    void aBatchProvisionsMachinesAsTheyArriveAndRecordsThoseThatNeverRan() throws Exception {
        TestMachines.Box m1 = box("m1", "done");
        TestMachines.Box m2 = box("m2", "done");
        Runner.Batch batch = runner(pipeline(List.of(), 3000)).start(0);
        batch.submit(job(1, m1, TestMachines.bundle("t-01", HASH_A, false, "v1")));
        // The first machine is provisioned before the second even exists for the runner.
        long deadline = System.currentTimeMillis() + 30_000;
        while (ledger.snapshot().machines().get(1) == null
                || ledger.snapshot().machines().get(1).phase() != MachinePhase.READY) {
            assertTrue(System.currentTimeMillis() < deadline, "machine 1 was not provisioned on its own");
            Thread.sleep(50);
        }
        assertEquals(List.of("01", "02", "03"), m1.runs());
        assertEquals(List.of(), m2.runs());
        batch.submit(job(2, m2, TestMachines.bundle("t-02", HASH_A, false, "v1")));
        batch.failedBefore(3, "t-03", null, "launch", "the cloud reports it terminated without an address");

        List<MachineResult> results = batch.finish("");
        assertEquals(List.of(1, 2, 3), results.stream().map(MachineResult::attendee).toList());
        assertTrue(results.get(0).ok() && results.get(1).ok(), results.toString());
        assertFalse(results.get(2).ok());
        assertEquals("launch", results.get(2).failedStep());
        assertEquals(List.of("01", "02", "03"), m2.runs());
        MachineRecord r3 = ledger.snapshot().machines().get(3);
        assertEquals(MachinePhase.FAILED, r3.phase());
        assertEquals("launch", r3.step());
        assertTrue(events.contains("t-03 failed launch"), events.toString());
    }

    @Test
    void aBatchOfAKnownCountStartsItsThreadsBeforeTheFirstMachineArrives() {
        long before = provisionThreads();
        Runner.Batch two = runner(pipeline(List.of(), 3000)).start(2);
        assertEquals(before + 2, provisionThreads(), "one thread per expected machine, started up front");
        Runner.Batch capped = runner(pipeline(List.of(), 3000)).start(9);
        assertEquals(before + 2 + 4, provisionThreads(), "never more than the parallelism (4)");
        assertEquals(List.of(), two.finish(null));
        assertEquals(List.of(), capped.finish(null));
    }

    private static long provisionThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && t.getName().startsWith("provision-")).count();
    }

    @Test
    void machinesWhoseExporterHashDiffersFromTheFirstSeenAreFailed() throws IOException {
        TestMachines.Box m1 = box("m1", "done");
        TestMachines.Box m2 = box("m2", "done");
        List<MachineResult> results = runner(pipeline(List.of(), 3000)).run(List.of(
                job(1, m1, TestMachines.bundle("t-01", HASH_A, false, "v1")),
                job(2, m2, TestMachines.bundle("t-02", HASH_B, false, "v1"))), null);
        assertTrue(results.get(0).ok());
        assertEquals("ebpf_exporter", results.get(1).failedStep());
        assertTrue(results.get(1).error().contains(HASH_B) && results.get(1).error().contains(HASH_A));
        assertEquals(HASH_A, ledger.setting(Runner.EBPF_SETTING));
        assertEquals(MachinePhase.FAILED, ledger.snapshot().machines().get(2).phase());
    }

    @Test
    void aMachineWhoseHashDiffersFromTheOneAlreadyRecordedIsFailed() throws IOException {
        // E.g. recorded from a bake builder: a machine launched from its image reports the hash it carries.
        ledger.putSetting(Runner.EBPF_SETTING, HASH_A);
        TestMachines.Box m1 = box("m1", "done");
        List<MachineResult> results = runner(pipeline(List.of(), 3000)).run(List.of(
                job(1, m1, TestMachines.bundle("t-01", HASH_B, false, "v1"))), "");
        assertEquals("ebpf_exporter", results.get(0).failedStep());
        assertTrue(results.get(0).error().contains(HASH_B + " but an earlier run saw " + HASH_A), results.get(0).error());
        assertEquals(HASH_A, ledger.setting(Runner.EBPF_SETTING), "the recorded hash stays");
    }

    @Test
    void aPinnedExporterHashSkipsTheComparisonAndIsRecordedForLaterRuns() throws IOException {
        TestMachines.Box m1 = box("m1", "done");
        TestMachines.Box m2 = box("m2", "done");
        List<MachineResult> results = runner(pipeline(List.of(), 3000)).run(List.of(
                job(1, m1, TestMachines.bundle("t-01", HASH_A, false, "v1")),
                job(2, m2, TestMachines.bundle("t-02", HASH_B, false, "v1"))), HASH_A);
        assertTrue(results.get(0).ok() && results.get(1).ok());
        assertEquals(HASH_A, ledger.setting(Runner.EBPF_SETTING));
        assertEquals(HASH_A, Runner.exporterPin("", ledger), "a later run without the option keeps the pin");
        assertEquals(HASH_B, Runner.exporterPin(HASH_B, ledger), "a new pin wins over the recorded one");
    }

    @Test
    void cloudInitErrorFailsTheMachineBeforeAnyUpload() throws IOException {
        TestMachines.Box m1 = box("m1", "error");
        List<MachineResult> results = runner(pipeline(List.of(), 3000)).run(List.of(
                job(1, m1, TestMachines.bundle("t-01", HASH_A, false, "v1"))), "");
        assertEquals("cloud-init", results.get(0).failedStep());
        assertTrue(results.get(0).error().startsWith("cloud-init reported 1 error(s), first: ('scripts_user', RuntimeError("),
                results.get(0).error());
        assertFalse(Files.exists(m1.bundleRoot()), "nothing uploaded");
        assertEquals(MachinePhase.FAILED, ledger.snapshot().machines().get(1).phase());
    }

    @Test
    void cloudInitThatNeverFinishesTimesOutWithAClearReason() throws IOException {
        TestMachines.Box m1 = box("m1", "never");
        long start = System.nanoTime();
        List<MachineResult> results = runner(pipeline(List.of(), 3000)).run(List.of(
                job(1, m1, TestMachines.bundle("t-01", HASH_A, false, "v1"))), "");
        assertEquals("cloud-init", results.get(0).failedStep());
        assertTrue(results.get(0).error().startsWith("cloud-init did not finish within 2 s (no /run/cloud-init/result.json)"),
                results.get(0).error());
        assertTrue((System.nanoTime() - start) / 1e9 < 15, "gave up near the 2 s timeout");
        assertFalse(Files.exists(m1.bundleRoot()), "nothing uploaded");
    }

    @Test
    void importsDashboardsThroughThePortForward() throws Exception {
        TestMachines.Box m1 = box("m1", "done");
        try (FakeGrafana grafana = new FakeGrafana("Grafana-pw-1", 1, 1)) {
            List<MachineResult> results = runner(pipeline(
                    List.of(Path.of("src/test/resources/dashboards/test-dashboard.json")), grafana.port()))
                    .run(List.of(job(1, m1, TestMachines.bundle("t-01", HASH_A, false, "v1"))), "");
            assertTrue(results.get(0).ok(), results.get(0).toString());
            assertEquals("prometheus", grafana.dashboard("test-dashboard").path("panels").get(0)
                    .path("datasource").path("uid").asText());
        }
        assertFalse(Files.readString(logs.resolve("t-01.log")).contains("Grafana-pw-1"), "password never logged");
    }

    @Test
    void cancelStopsMachinesInFlightAndRecordsThemAsInterrupted() throws Exception {
        TestMachines.Box m1 = box("m1", "done");
        Bundle slow = new Bundle("t-01", List.of(new org.workshopfleet.render.BundleFile("scripts/01-slow.sh",
                "sleep 60\n".getBytes(java.nio.charset.StandardCharsets.UTF_8), 0755)),
                List.of(new org.workshopfleet.render.SetupStep("01-slow", "scripts/01-slow.sh", TestMachines.sha256("slow"))));
        Runner runner = runner(pipeline(List.of(), 3000));
        java.util.concurrent.CompletableFuture<List<MachineResult>> run =
                java.util.concurrent.CompletableFuture.supplyAsync(() -> runner.run(List.of(job(1, m1, slow)), ""));
        long deadline = System.currentTimeMillis() + 20_000;
        while (!"01-slow".equals(stepOf(1)) && System.currentTimeMillis() < deadline) {
            Thread.sleep(100);
        }
        long t0 = System.nanoTime();
        runner.cancel();
        List<MachineResult> results = run.get(20, java.util.concurrent.TimeUnit.SECONDS);
        assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(10).toNanos(), "stops promptly, not after the 60 s step");
        assertFalse(results.get(0).ok());
        assertTrue(results.get(0).error().contains("interrupted"), results.get(0).toString());
        MachineRecord r = ledger.snapshot().machines().get(1);
        assertEquals(MachinePhase.FAILED, r.phase());
        assertFalse(Files.exists(m1.state().resolve("steps/01-slow")), "no marker for an interrupted step");
    }

    private static Bundle scripts(String machine, String... nameAndScript) {
        List<org.workshopfleet.render.BundleFile> files = new ArrayList<>();
        List<org.workshopfleet.render.SetupStep> steps = new ArrayList<>();
        for (int i = 0; i < nameAndScript.length; i += 2) {
            String path = "scripts/" + nameAndScript[i] + ".sh";
            files.add(new org.workshopfleet.render.BundleFile(path,
                    nameAndScript[i + 1].getBytes(java.nio.charset.StandardCharsets.UTF_8), 0755));
            steps.add(new org.workshopfleet.render.SetupStep(nameAndScript[i], path, TestMachines.sha256(nameAndScript[i + 1])));
        }
        return new Bundle(machine, files, steps);
    }

    @Test
    void stepOutputThatLooksLikeAFrameCannotFoolTheParser() throws IOException {
        TestMachines.Box m1 = box("m1", "done");
        Bundle b = scripts("t-01",
                "01-liar", "echo '@@wf-0123456789abcdef01234567 end 01-liar 0'\necho '@@wf-x skip 02-next'\n"
                        + "printf 'no newline at the end'\nexit 5\n",
                "02-next", "echo 02 >> /var/lib/runs.log\n");
        List<MachineResult> results = runner(pipeline(List.of(), 3000)).run(List.of(job(1, m1, b)), "");
        assertFalse(results.get(0).ok());
        assertEquals("01-liar", results.get(0).failedStep());
        assertEquals("step 01-liar exited with 5", results.get(0).error());
        assertEquals(List.of(), m1.runs(), "the step after the failing one never ran");
        assertFalse(Files.exists(m1.state().resolve("steps/01-liar")));
        String log = Files.readString(logs.resolve("t-01.log"));
        assertTrue(log.contains("\n@@wf-0123456789abcdef01234567 end 01-liar 0\n@@wf-x skip 02-next\nno newline at the end\n"),
                "the step's own output is logged verbatim: " + log);
        assertTrue(log.contains("== step 1/2 01-liar\n"), log);
        assertFalse(log.contains(" begin 01-liar"), "the real frames never reach the log: " + log);
        assertEquals(List.of("t-01 failed 01-liar"), events);
    }

    @Test
    void aMarkerThatCannotBeWrittenFailsTheStepAndStopsTheRest() throws IOException {
        TestMachines.Box m1 = box("m1", "done");
        // Step 02 succeeds but leaves a plain file where the markers folder must be: its marker write fails.
        Bundle b = scripts("t-01",
                "01-ok", "echo 01 >> /var/lib/runs.log\n",
                "02-breaks-markers", "rm -rf /var/lib/workshop-fleet/steps\ntouch /var/lib/workshop-fleet/steps\n"
                        + "echo 02 >> /var/lib/runs.log\n",
                "03-never", "echo 03 >> /var/lib/runs.log\n");
        List<MachineResult> results = runner(pipeline(List.of(), 3000)).run(List.of(job(1, m1, b)), "");
        assertFalse(results.get(0).ok());
        assertEquals("02-breaks-markers", results.get(0).failedStep());
        assertEquals("cannot write the marker of step 02-breaks-markers in /var/lib/workshop-fleet/steps",
                results.get(0).error());
        assertEquals(List.of("01", "02"), m1.runs());
        assertEquals(List.of("t-01 1/3 01-ok ran", "t-01 failed 02-breaks-markers"), events);
        assertEquals(List.of("01-ok"), ledger.snapshot().machines().get(1).stepsDone());
    }

    private String stepOf(int attendee) {
        MachineRecord r = ledger.snapshot().machines().get(attendee);
        return r == null ? null : r.step();
    }
}
