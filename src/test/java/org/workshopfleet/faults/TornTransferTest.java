package org.workshopfleet.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.workshopfleet.provision.MachineJob;
import org.workshopfleet.provision.MachineLayout;
import org.workshopfleet.provision.MachineResult;
import org.workshopfleet.provision.Pipeline;
import org.workshopfleet.provision.ProvisionListener;
import org.workshopfleet.provision.TestMachines;
import org.workshopfleet.render.Bundle;
import org.workshopfleet.render.BundleFile;
import org.workshopfleet.ssh.LoopbackSshd;
import org.workshopfleet.ssh.SshKeyPair;
import org.workshopfleet.ssh.SshLogin;
import org.workshopfleet.ssh.SshTarget;

/**
 * A connection cut while the bundle is on its way (a {@link CuttingRelay} resets it after a byte count that lands inside
 * the bundle) fails the machine at "upload" with nothing unpacked, no step run and nothing left beside the bundle root;
 * the next attempt over a sound connection delivers the bundle byte for byte.
 */
class TornTransferTest {

    @TempDir
    Path dir;
    private final SshKeyPair login = SshKeyPair.generate("torn-test");
    private final SshKeyPair hostKey = SshKeyPair.generate("torn-host");
    private TestMachines.Box box;
    private CuttingRelay relay;

    @BeforeEach
    void setUp() throws IOException {
        LoopbackSshd.assumeAvailable();
        box = TestMachines.start(dir.resolve("m1"), login, "done", hostKey, "127.0.0.1", LoopbackSshd.freePort());
    }

    @AfterEach
    void tearDown() {
        if (relay != null) {
            relay.close();
        }
        box.sshd().close();
    }

    @Test
    void aCutMidTransferUnpacksNothingAndRunsNothing() throws IOException {
        byte[] payload = new byte[400_000];
        new Random(11).nextBytes(payload);
        Bundle base = TestMachines.bundle("t-01", "sha256:aa", false, "v1");
        List<BundleFile> files = new ArrayList<>(base.files());
        files.add(new BundleFile("payload.bin", payload, 0644));
        Bundle bundle = new Bundle(base.machineName(), files, base.steps());
        AtomicInteger cuts = new AtomicInteger();
        SshTarget direct = box.sshd().target();
        relay = new CuttingRelay(new InetSocketAddress("127.0.0.1", 0), new InetSocketAddress(direct.host(), direct.port()),
                150_000, cuts);
        Pipeline pipeline = new Pipeline(new SshLogin(LoopbackSshd.user(), login), MachineLayout.STANDARD,
                dir.resolve("logs"), List.of(), Duration.ofSeconds(20), Duration.ofSeconds(5), Duration.ofSeconds(20));

        MachineResult cut = pipeline.provision(new MachineJob(1, "t-01",
                new SshTarget("127.0.0.1", relay.port(), direct.pinnedHostKey()), "pw", bundle), new ProvisionListener() { });

        assertEquals(1, cuts.get(), "the relay cut the connection");
        assertFalse(cut.ok());
        assertEquals("upload", cut.failedStep(), cut.toString());
        assertEquals(List.of(), box.runs(), "no step ran");
        // A machine's first bundle unpacks into the root itself, so the root exists while the bundle arrives; the
        // machine's shell removes it once tar has failed (or the token is missing), which may be a moment after the
        // orchestrator saw the cut.
        // The session lock lies beside the root (MachineLayout.sessionLock) and stays: it is no part of the bundle.
        String lock = box.bundleRoot().getFileName() + ".lock";
        List<String> left = namesIn(box.opt(), lock);
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!left.isEmpty() && System.nanoTime() < deadline) {
            sleep();
            left = namesIn(box.opt(), lock);
        }
        assertFalse(Files.exists(box.bundleRoot()), "nothing unpacked from a torn transfer: " + left);
        assertEquals(List.of(), left, "nothing left where the bundle root goes");

        MachineResult again = pipeline.provision(new MachineJob(1, "t-01", direct, "pw", bundle), new ProvisionListener() { });
        assertTrue(again.ok(), again.toString());
        assertTrue(java.util.Arrays.equals(payload, Files.readAllBytes(box.bundleRoot().resolve("payload.bin"))));
        assertEquals(List.of("01", "02", "03"), box.runs());
        assertFalse(Files.readString(dir.resolve("logs/t-01.log"), StandardCharsets.UTF_8).contains("@@wf-"),
                "frames never reach the log");
    }

    /** The names in {@code folder} but {@code except}, sorted. */
    private static List<String> namesIn(Path folder, String except) throws IOException {
        try (Stream<Path> listed = Files.list(folder)) {
            return listed.map(p -> p.getFileName().toString()).filter(n -> !n.equals(except)).sorted().toList();
        }
    }

    private static void sleep() {
        try {
            Thread.sleep(200);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
