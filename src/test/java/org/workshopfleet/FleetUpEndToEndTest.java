package org.workshopfleet;

import org.workshopfleet.command.Wiring;
import org.workshopfleet.command.MachineRendering;
import org.workshopfleet.spec.Cidr;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.workshopfleet.cloud.UserDataFormat;
import org.workshopfleet.provision.MachineLayout;
import org.workshopfleet.provision.TestMachines;
import org.workshopfleet.render.Bundle;
import org.workshopfleet.render.MachineModel;
import org.workshopfleet.spec.Provider;
import org.workshopfleet.spec.WorkshopSpec;
import org.workshopfleet.ssh.LoopbackSshd;
import org.workshopfleet.state.Ledger;
import org.workshopfleet.state.MachinePhase;
import org.workshopfleet.state.Secrets;
import org.workshopfleet.state.StateFolder;

/**
 * {@code up} → re-run → {@code verify} → {@code teardown} through {@link Fleet}, with a stand-in cloud whose two
 * machines are real sshd servers on 127.0.0.2 and 127.0.0.3 (same port, like port 22 on two hosts) presenting the host
 * keys the workshop's Secrets pinned. The bundles are tiny test steps (never the real setup scripts on this host).
 */
class FleetUpEndToEndTest {

    @TempDir
    Path dir;
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final RecordingCloud.State cloud = new RecordingCloud.State();
    final List<TestMachines.Box> boxes = new ArrayList<>();

    @AfterEach
    void stop() {
        boxes.forEach(b -> b.sshd().close());
    }

    @Test
    void upProvisionsResumesVerifiesAndTearsDown() throws IOException {
        LoopbackSshd.assumeAvailable();
        WorkshopSpec spec = WorkshopSpec.defaults(2, Provider.LAB).withStateRoot(dir.resolve("workshops"))
                .withCidr(Cidr.parse("10.231.0.0/16"));
        Secrets secrets = new Secrets(new StateFolder(spec.stateDir()), spec.name());
        int port = LoopbackSshd.freePort();
        for (int n = 1; n <= 2; n++) {
            boxes.add(TestMachines.start(dir.resolve("m" + n), secrets.loginKey(), "done", secrets.hostKey(n),
                    "127.0.0." + (n + 1), port));
        }
        cloud.address = n -> "127.0.0." + (n + 1);
        Path project = dir.resolve("project");
        Files.createDirectories(project.resolve("security-groups"));
        Files.copy(Path.of("security-groups/workshop.json"), project.resolve("security-groups/workshop.json"));

        AtomicBoolean brokenStep = new AtomicBoolean(true);
        MachineRendering tiny = new MachineRendering() {
            @Override
            public String userData(MachineModel m, UserDataFormat f) {
                return "#cloud-config\nhostname: " + m.hostname() + "\n";
            }

            @Override
            public Bundle bundle(MachineModel m) {
                return TestMachines.bundle(m.hostname(), "c".repeat(64), m.attendee() == 2 && brokenStep.get(), "v1");
            }
        };
        Wiring wiring = new Wiring((s, rec) -> new RecordingCloud(cloud, rec), s -> { }, () -> {
            throw new AssertionError("no address detection in tests");
        }, null, org.workshopfleet.provision.ProvisionListener.NONE,
                Clock.systemUTC(), LoopbackSshd.user(), port, MachineLayout.STANDARD, Duration.ofSeconds(20),
                Duration.ofSeconds(20), root -> tiny);
        Fleet fleet = new Fleet(spec, project, wiring, new PrintStream(out, true, StandardCharsets.UTF_8));

        assertEquals(1, fleet.up(true), out.toString(StandardCharsets.UTF_8));
        String first = out.toString(StandardCharsets.UTF_8);
        assertTrue(first.contains("FAILED at 03-maybe-fail") && first.contains("    | boom"), first);
        assertEquals(List.of("01", "02", "03"), boxes.get(0).runs());

        brokenStep.set(false);
        out.reset();
        assertEquals(0, fleet.up(true), out.toString(StandardCharsets.UTF_8));
        String second = out.toString(StandardCharsets.UTF_8);
        assertTrue(second.contains("all 2 machine(s) ready"), second);
        assertFalse(second.contains("launching"), "nothing relaunched: " + second);
        assertEquals(List.of("01", "02", "03"), boxes.get(0).runs(), "the ready machine ran nothing again");
        assertEquals(List.of("01", "02", "03", "03"), boxes.get(1).runs(), "the broken machine re-ran only its failed step");
        Ledger ledger = Ledger.open(new StateFolder(spec.stateDir()), spec.name(), "lab", "x", Clock.systemUTC());
        assertEquals(MachinePhase.READY, ledger.snapshot().machines().get(1).phase());
        assertEquals(MachinePhase.READY, ledger.snapshot().machines().get(2).phase());
        assertEquals(1, cloud.calls.stream().filter(c -> c.startsWith("createNodes")).count());
        String log = Files.readString(spec.stateDir().resolve("logs/ebpf-php-02.log"));
        assertFalse(log.contains(secrets.grafanaPassword(2)) || log.contains(secrets.sshPassword(2)), "no secret in logs");

        out.reset();
        assertEquals(1, fleet.verify(), "nothing of the workshop is installed on the loopback machines");
        String matrix = out.toString(StandardCharsets.UTF_8);
        assertTrue(matrix.contains("ebpf-php-01") && matrix.contains("ebpf-php-02") && matrix.contains("1=ssh"), matrix);
        assertTrue(matrix.contains("FAIL ebpf-php-01 phpinfo") && !matrix.contains("FAIL ebpf-php-01 ssh"), matrix);

        assertEquals(0, fleet.teardown(true));
        assertTrue(cloud.machines.isEmpty());
        assertTrue(Ledger.open(new StateFolder(spec.stateDir()), spec.name(), "lab", "x", Clock.systemUTC()).snapshot().isClosed());
    }
}
