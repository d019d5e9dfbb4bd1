package org.workshopfleet.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.workshopfleet.command.CloudsByProvider;
import org.workshopfleet.Fleet;
import org.workshopfleet.command.MachineRendering;
import org.workshopfleet.command.Wiring;
import org.workshopfleet.cloud.UserDataFormat;
import org.workshopfleet.cloud.lab.LabMachines;
import org.workshopfleet.cloud.lab.LabNetwork;
import org.workshopfleet.cloud.lab.LabPrerequisites;
import org.workshopfleet.lab.standins.StandIns;
import org.workshopfleet.provision.MachineLayout;
import org.workshopfleet.provision.ProvisionListener;
import org.workshopfleet.render.Bundle;
import org.workshopfleet.render.MachineModel;
import org.workshopfleet.render.Renderer;
import org.workshopfleet.spec.Provider;
import org.workshopfleet.spec.WorkshopSpec;
import org.workshopfleet.ssh.Remote;
import org.workshopfleet.ssh.SshLogin;
import org.workshopfleet.ssh.SshTarget;
import org.workshopfleet.state.Ledger;
import org.workshopfleet.state.MachinePhase;
import org.workshopfleet.state.MachineRecord;
import org.workshopfleet.state.Secrets;
import org.workshopfleet.state.StateFolder;

/**
 * A download whose bytes differ from its pinned SHA-256 is refused on the machine: the real 04-prometheus step on a real
 * lab machine, against the stand-in artifact server serving a tampered Prometheus tarball (same name and size, one byte
 * changed). The machine fails at that step with the mismatch, and nothing of the tarball is installed or kept.
 */
class TamperedDownloadIT {

    private static final Path PROJECT = Path.of("").toAbsolutePath();

    @TempDir
    Path tmp;

    /** The real bundle, with only the Prometheus step: it needs nothing the other steps install. */
    private static final Function<Path, MachineRendering> PROMETHEUS_STEP_ONLY = root -> {
        Renderer renderer = new Renderer(root);
        return new MachineRendering() {
            @Override
            public String userData(MachineModel m, UserDataFormat format) {
                return renderer.userData(m, format);
            }

            @Override
            public Bundle bundle(MachineModel m) {
                Bundle full = renderer.bundle(m);
                return new Bundle(full.machineName(), full.files(),
                        full.steps().stream().filter(s -> s.name().equals("04-prometheus")).toList());
            }
        };
    };

    @Test
    void aTamperedTarballIsRefusedOnTheMachineAndNothingOfItIsKept() throws Exception {
        LabPrerequisites.require();
        String name = "e2e-tamper";
        LabMachines lab = new LabMachines(name);
        lab.ensureNetwork();
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(buffer, true, StandardCharsets.UTF_8);
        try (StandIns standIns = StandIns.start(InetAddress.getByName(LabNetwork.HOST_ADDRESS), tmp.resolve("standins"))) {
            standIns.tamper(StandIns.Artifact.PROMETHEUS_TARBALL, true);
            WorkshopSpec spec = new WorkshopSpec(name, 1, Provider.LAB, null, null, null, null, false, null, 4,
                    tmp.resolve("workshops"), standIns.sources());
            Wiring wiring = new Wiring((s, recorder) -> new CloudsByProvider(PROJECT).create(s, recorder), s -> { },
                    () -> LabNetwork.SUBNET, null, ProvisionListener.NONE, Clock.systemUTC(), SshLogin.MACHINE_USER, 22,
                    MachineLayout.STANDARD, Duration.ofMinutes(5), Duration.ofMinutes(10)).withRendering(PROMETHEUS_STEP_ONLY);
            Fleet fleet = new Fleet(spec, PROJECT, wiring, out);

            assertEquals(1, fleet.up(true), () -> "up should fail on the tampered download:\n" + buffer);
            StateFolder folder = new StateFolder(spec.stateDir());
            MachineRecord machine = Ledger.open(folder, name, "lab", spec.region(), Clock.systemUTC()).snapshot().machines().get(1);
            assertEquals(MachinePhase.FAILED, machine.phase(), buffer::toString);
            assertEquals("04-prometheus", machine.step());
            String log = Files.readString(folder.logsDir().resolve(spec.machineName(1) + ".log"));
            assertTrue(log.contains("SHA-256 mismatch") && log.contains("file discarded"), log);

            Secrets secrets = new Secrets(folder, name);
            try (Remote remote = Remote.await(new SshTarget(machine.publicIp(), 22, secrets.hostKey(1).publicKeyNoComment()),
                    new SshLogin(SshLogin.MACHINE_USER, secrets.loginKey()), Duration.ofSeconds(30))) {
                Remote.Result left = remote.exec("ls /usr/local/prometheus /var/cache/workshop-fleet 2>/dev/null | grep -c prometheus || true");
                assertEquals("0", left.stdout().strip(), "nothing of the tampered tarball is installed or cached");
                Remote.Result marker = remote.exec("test -e /var/lib/workshop-fleet/steps/04-prometheus && echo present || echo absent");
                assertEquals("absent", marker.stdout().strip(), "a refused step leaves no marker: a re-run tries again");
            }
            assertEquals(0, fleet.teardown(true), buffer::toString);
        } finally {
            System.out.println(buffer.toString(StandardCharsets.UTF_8));
            lab.destroyAll();
        }
        assertTrue(lab.list().isEmpty());
    }
}
