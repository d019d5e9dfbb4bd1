package org.workshopfleet.bake;

import org.workshopfleet.error.FleetException;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.workshopfleet.command.CloudsByProvider;
import org.workshopfleet.Fleet;
import org.workshopfleet.command.Wiring;
import org.workshopfleet.cloud.MachineImage;
import org.workshopfleet.cloud.lab.HostState;
import org.workshopfleet.cloud.lab.LabImages;
import org.workshopfleet.cloud.lab.LabMachines;
import org.workshopfleet.cloud.lab.LabNetwork;
import org.workshopfleet.cloud.lab.LabPaths;
import org.workshopfleet.cloud.lab.LabPrerequisites;
import org.workshopfleet.lab.standins.StandIns;
import org.workshopfleet.provision.MachineLayout;
import org.workshopfleet.provision.ProvisionListener;
import org.workshopfleet.spec.Provider;
import org.workshopfleet.spec.WorkshopSpec;
import org.workshopfleet.ssh.SshLogin;

/**
 * Bake mode end to end on real lab machines (stand-ins for the downloads, Grafana's apt repository and the git remote,
 * as in FleetOnLabIT): {@code up -Dimage=bake} bakes the image on one builder and launches two machines from it, which
 * run only the per-machine steps and pass every readiness check with their own host keys, machine-ids and Grafana
 * passwords; teardown keeps the image; a second {@code up} reuses it without a builder; remove-image deletes it.
 */
class BakeOnLabIT {

    private static final Path PROJECT = Path.of("").toAbsolutePath();

    @TempDir
    Path tmp;

    @Test
    void bakeLaunchVerifyTeardownReuseRemove() throws Exception {
        LabPrerequisites.require("ssh-keyscan");
        String name = "bake-lab";
        HostState before = HostState.capture(LabPaths.standard());
        LabMachines network = new LabMachines(name);
        network.ensureNetwork();
        LabImages images = new LabImages(LabPaths.standard());
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(buffer, true, StandardCharsets.UTF_8);
        String recipe = null;
        try (StandIns standIns = StandIns.start(InetAddress.getByName(LabNetwork.HOST_ADDRESS), tmp.resolve("standins"))) {
            WorkshopSpec spec = new WorkshopSpec(name, 2, Provider.LAB, "ap-northeast-1", null, null, null, false, null, 8,
                    tmp.resolve("workshops"), standIns.sources());
            Wiring wiring = new Wiring(new CloudsByProvider(PROJECT), s -> { }, () -> LabNetwork.SUBNET, null,
                    ProvisionListener.NONE, Clock.systemUTC(), SshLogin.MACHINE_USER, 22, MachineLayout.STANDARD,
                    Duration.ofMinutes(5), Duration.ofMinutes(10));
            Fleet fleet = new Fleet(spec, PROJECT, wiring, out);
            recipe = fleet.currentRecipe().hash();
            String prefix = recipe.substring(0, 12);
            assertTrue(images.find(recipe).isEmpty(), "the stand-ins' addresses make this recipe new");

            assertEquals(0, fleet.up(true, ImageMode.BAKE), () -> "bake up failed:\n" + buffer);
            String first = buffer.toString(StandardCharsets.UTF_8);
            assertTrue(first.contains("baking it on one builder machine, " + name + "-bake"), first);
            assertTrue(first.contains("image: baked workshop-fleet-" + recipe.substring(0, 12)), first);
            assertTrue(images.find(recipe).isPresent(), "image in the lab cache");
            assertTrue(new LabMachines(name).list().stream().noneMatch(m -> m.name().endsWith("-bake")), "builder destroyed");
            Path logs = tmp.resolve("workshops").resolve(name).resolve("logs");
            for (String machine : List.of(name + "-01", name + "-02")) {
                String log = Files.readString(logs.resolve(machine + ".log"));
                for (String step : List.of("01-packages", "02-apache-php", "03-ebpf-exporter", "04-prometheus", "05-grafana",
                        "06-attendee")) {
                    assertTrue(log.contains("step " + step + ": unchanged since its last successful run, skipped"),
                            machine + " ran image step " + step + " again:\n" + log);
                }
                assertTrue(log.contains("07-login") && log.contains("08-grafana-admin"), log);
                assertFalse(log.contains("08-grafana-admin: unchanged"), "per-machine steps run on every baked machine");
            }

            buffer.reset();
            assertEquals(0, fleet.verify(), () -> "verify failed:\n" + buffer);
            assertTrue(buffer.toString(StandardCharsets.UTF_8).contains("verify: all 2 machine(s) pass every check"), buffer::toString);
            OwnIdentities.assertEachMachineHasItsOwn(spec, "lab");

            buffer.reset();
            assertEquals(0, fleet.images());
            assertTrue(buffer.toString(StandardCharsets.UTF_8).lines().anyMatch(l -> l.startsWith("workshop-fleet-"
                    + prefix) && l.endsWith("current recipe")), buffer::toString);

            assertEquals(0, fleet.teardown(true), () -> "teardown failed:\n" + buffer);
            assertTrue(images.find(recipe).isPresent(), "teardown never removes an image");

            // Another workshop day: the image is reused, no builder.
            buffer.reset();
            assertEquals(0, fleet.up(true, ImageMode.BAKE), () -> "second bake up failed:\n" + buffer);
            String second = buffer.toString(StandardCharsets.UTF_8);
            assertTrue(second.contains("matches recipe " + recipe.substring(0, 12)) && second.contains("reused"), second);
            assertFalse(second.contains("baking it"), second);
            assertEquals(0, fleet.verify(), () -> "verify after reuse failed:\n" + buffer);
            MachineImage image = images.find(recipe).orElseThrow();
            assertTrue(assertThrows(image), "an image in use is not removed");
            assertEquals(0, fleet.teardown(true), () -> "second teardown failed:\n" + buffer);
            assertTrue(images.find(recipe).isPresent());

            assertEquals(0, fleet.removeImage(true, recipe.substring(0, 16)), buffer::toString);
            assertTrue(images.find(recipe).isEmpty(), "removed by the explicit action");
        } finally {
            System.out.println(buffer.toString(StandardCharsets.UTF_8));
            new LabMachines(name).destroyAll();
            network.destroyAll();
            if (recipe != null) {
                images.find(recipe).ifPresent(images::remove);
            }
        }
        HostState.assertRestored(before, HostState.capture(LabPaths.standard()), "wf-" + name + "-01", "wf-" + name + "-02",
                "wf-" + name + "-bake");
    }

    private boolean assertThrows(MachineImage image) {
        try {
            new LabImages(LabPaths.standard()).remove(image);
            return false;
        } catch (org.workshopfleet.error.FleetException e) {
            return e.getMessage().contains("is in use by");
        }
    }
}
