package org.workshopfleet.bake;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.workshopfleet.command.CloudFactory;
import org.workshopfleet.Fleet;
import org.workshopfleet.command.ReadinessCheck;
import org.workshopfleet.command.Wiring;
import org.workshopfleet.cloud.lab.HostState;
import org.workshopfleet.cloud.lab.LabMachines;
import org.workshopfleet.cloud.lab.LabNetwork;
import org.workshopfleet.cloud.lab.LabPaths;
import org.workshopfleet.cloud.lab.LabPrerequisites;
import org.workshopfleet.lab.standins.StandIns;
import org.workshopfleet.provision.MachineLayout;
import org.workshopfleet.provision.ProvisionListener;
import org.workshopfleet.spec.SourceLocations;
import org.workshopfleet.spec.WorkshopSpec;
import org.workshopfleet.ssh.SshLogin;

/**
 * Bake mode end to end on real lab machines, the same flow and checks for every cloud that can run them; a subclass
 * plugs in the cloud and adds what only that cloud shows. Stand-ins serve the downloads, Grafana's apt repository and
 * the git remote, as in FleetOnLabIT.
 *
 * <p>Every {@code up} ends with the real readiness checks ({@link ReadinessCheck#VERIFIER}). The flow: {@code up -Dimage=bake} bakes the image on one builder machine, which runs the image steps and only
 * those, and is gone once imaged; two machines launch from the image, skip every image step by the marker baked into
 * it and run only the {@code # phase: machine} steps; each has its own host key, machine-id, hostname and Grafana
 * password, and verify passes; {@code images} marks the image as the current recipe's; teardown removes the machines
 * and keeps the image; a later workshop with the same recipe reuses the image without a builder; only remove-image
 * deletes it. Afterwards the host holds no lab object of the test.
 */
abstract class BakeOnLabContract {

    /** The project root (templates, setup scripts, ami.properties). */
    protected static final Path PROJECT = Path.of("").toAbsolutePath();
    /** Steps baked into the image, in order. */
    protected static final List<String> IMAGE_STEPS = List.of("01-packages", "02-apache-php", "03-ebpf-exporter",
            "04-prometheus", "05-grafana", "06-attendee", "06-web-terminal");
    /** Steps every machine runs itself, also when launched from a baked image. */
    protected static final List<String> MACHINE_STEPS = List.of("07-login", "08-grafana-admin", "09-https");
    private static final Pattern RAN = Pattern.compile("(?m)^.*step \\d+/\\d+ (\\S+)\\s*$");

    @TempDir
    Path tmp;

    /** The first workshop's name; the later one that reuses the image is this name plus {@code b}. */
    protected abstract String name();

    /** Starts what the cloud needs besides the lab network (called once, before any fleet is made). */
    protected abstract void start() throws Exception;

    /** The spec of a two-machine workshop on this cloud, its state under {@code stateDir}. */
    protected abstract WorkshopSpec spec(String workshop, Path stateDir, SourceLocations sources);

    /** The wiring every fleet of the test uses (see {@link #wiring(CloudFactory)} for the common part). */
    protected abstract Wiring wiring();

    /** The id of the image this cloud holds for the recipe, if it holds one. */
    protected abstract Optional<String> imageId(String recipe);

    /** Asserts the builder machine of {@code workshop} no longer exists. */
    protected abstract void assertBuilderGone(String workshop);

    /** This cloud's own checks after the first up baked {@code imageId} and launched the attendees from it. */
    protected abstract void afterBake(String recipe, String imageId) throws Exception;

    /** Asserts teardown of {@code workshop} left none of its machines and resources, and kept {@code imageId}. */
    protected abstract void assertTornDown(String workshop, String imageId);

    /** Called just before the later workshop's up. */
    protected abstract void beforeReuse();

    /** This cloud's own checks after the later up reused {@code imageId}; its machines are still running from it. */
    protected abstract void afterReuse(String imageId) throws Exception;

    /** This cloud's own checks after remove-image removed {@code imageId}. */
    protected abstract void afterRemove(String imageId) throws Exception;

    /**
     * Removes whatever the test may have left on the cloud and the host, and the image of {@code recipe} (null when the
     * test failed before it knew the recipe). Always called, also after a failure.
     */
    protected abstract void cleanUp(String recipe) throws Exception;

    /** The lab names ({@code wf-…}) of every machine the test may have made: none may be left on the host. */
    protected abstract List<String> labNames();

    /** The wiring of these tests for a cloud: lab subnet as the operator's address, real SSH and timings. */
    protected static Wiring wiring(CloudFactory clouds) {
        return new Wiring(clouds, s -> { }, () -> LabNetwork.SUBNET, null, ProvisionListener.NONE, Clock.systemUTC(),
                SshLogin.MACHINE_USER, 22, MachineLayout.STANDARD, Duration.ofMinutes(5), Duration.ofMinutes(10))
                .withReadiness(ReadinessCheck.VERIFIER);
    }

    @Test
    void bakeLaunchVerifyTeardownReuseRemove() throws Exception {
        LabPrerequisites.require("ssh-keyscan");
        String name = name();
        String later = name + "b";
        HostState before = HostState.capture(LabPaths.standard());
        LabMachines network = new LabMachines(name);
        network.ensureNetwork();
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(buffer, true, StandardCharsets.UTF_8);
        String recipe = null;
        try {
            start();
            try (StandIns standIns = StandIns.start(InetAddress.getByName(LabNetwork.HOST_ADDRESS), tmp.resolve("standins"))) {
                Path workshops = tmp.resolve("workshops");
                WorkshopSpec spec = spec(name, workshops, standIns.sources());
                Fleet fleet = new Fleet(spec, PROJECT, wiring(), out);
                recipe = fleet.currentRecipe().hash();
                String prefix = recipe.substring(0, 12);
                assertTrue(imageId(recipe).isEmpty(), "the stand-ins' addresses make this recipe new");

                // ---- the first up bakes
                assertEquals(0, fleet.up(true, ImageMode.BAKE), () -> "bake up failed:\n" + buffer);
                String first = buffer.toString(StandardCharsets.UTF_8);
                assertTrue(first.contains("baking it on one builder machine, " + name + "-bake"), first);
                String image = imageId(recipe).orElseThrow(() -> new AssertionError("no image for the recipe:\n" + first));
                assertTrue(first.contains("image: baked workshop-fleet-" + prefix + " (" + image + ")"), first);
                assertBuilderGone(name);
                Path logs = workshops.resolve(name).resolve("logs");
                // The builder ran the image steps, and only those, before it was imaged.
                assertEquals(IMAGE_STEPS, ran(Files.readString(logs.resolve(name + "-bake.log"))), "builder steps");
                assertAttendeesRanOnlyMachineSteps(logs, name);
                afterBake(recipe, image);

                buffer.reset();
                assertEquals(0, fleet.verify(), () -> "verify failed:\n" + buffer);
                assertTrue(buffer.toString(StandardCharsets.UTF_8).contains("verify: all 2 machine(s) pass every check"),
                        buffer::toString);
                OwnIdentities.assertEachMachineHasItsOwn(spec, spec.provider().id());

                buffer.reset();
                assertEquals(0, fleet.images());
                assertTrue(buffer.toString(StandardCharsets.UTF_8).lines().anyMatch(l -> l.startsWith("workshop-fleet-"
                        + prefix) && l.endsWith("current recipe")), buffer::toString);

                // ---- teardown keeps the image
                assertEquals(0, fleet.teardown(true), () -> "teardown failed:\n" + buffer);
                assertEquals(Optional.of(image), imageId(recipe), "teardown never removes an image");
                assertTornDown(name, image);

                // ---- a later workshop with the same recipe: the image is reused, no builder
                Fleet laterFleet = new Fleet(spec(later, workshops, standIns.sources()), PROJECT, wiring(), out);
                assertEquals(recipe, laterFleet.currentRecipe().hash(), "the recipe holds nothing of the workshop");
                beforeReuse();
                buffer.reset();
                assertEquals(0, laterFleet.up(true, ImageMode.BAKE), () -> "second bake up failed:\n" + buffer);
                String second = buffer.toString(StandardCharsets.UTF_8);
                assertTrue(second.contains("(" + image + ") matches recipe " + prefix) && second.contains("reused"), second);
                assertFalse(second.contains("baking it"), second);
                Path laterLogs = workshops.resolve(later).resolve("logs");
                assertFalse(Files.exists(laterLogs.resolve(later + "-bake.log")), "no builder for a reused image");
                assertAttendeesRanOnlyMachineSteps(laterLogs, later);
                afterReuse(image);
                buffer.reset();
                assertEquals(0, laterFleet.verify(), () -> "verify after reuse failed:\n" + buffer);
                assertTrue(buffer.toString(StandardCharsets.UTF_8).contains("verify: all 2 machine(s) pass every check"),
                        buffer::toString);
                assertEquals(0, laterFleet.teardown(true), () -> "second teardown failed:\n" + buffer);
                assertEquals(Optional.of(image), imageId(recipe), "the image outlives the second teardown too");
                assertTornDown(later, image);

                // ---- only remove-image removes it
                assertEquals(0, laterFleet.removeImage(true, recipe.substring(0, 16)), buffer::toString);
                assertTrue(imageId(recipe).isEmpty(), "removed by the explicit action");
                afterRemove(image);
            }
        } finally {
            System.out.println(buffer.toString(StandardCharsets.UTF_8));
            try {
                cleanUp(recipe);
            } finally {
                network.destroyAll();
            }
        }
        HostState.assertRestored(before, HostState.capture(LabPaths.standard()), labNames().toArray(String[]::new));
    }

    /**
     * The attendees of {@code workshop} skipped every image step by its baked marker and ran the per-machine steps,
     * and only those.
     */
    private static void assertAttendeesRanOnlyMachineSteps(Path logs, String workshop) throws IOException {
        for (String machine : List.of(workshop + "-01", workshop + "-02")) {
            String log = Files.readString(logs.resolve(machine + ".log"));
            for (String step : IMAGE_STEPS) {
                assertTrue(log.contains("step " + step + ": unchanged since its last successful run, skipped"),
                        machine + " ran image step " + step + " again:\n" + log);
            }
            assertEquals(MACHINE_STEPS, ran(log), machine + " ran these steps:\n" + log);
            assertFalse(log.contains("08-grafana-admin: unchanged"), "per-machine steps run on every baked machine");
        }
    }

    /** The steps a machine's log shows as run (not skipped), in order. */
    private static List<String> ran(String log) {
        List<String> out = new ArrayList<>();
        RAN.matcher(log).results().forEach(m -> out.add(m.group(1)));
        return out;
    }
}
