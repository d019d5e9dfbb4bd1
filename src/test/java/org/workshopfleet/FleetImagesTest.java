package org.workshopfleet;

import org.workshopfleet.command.Wiring;
import org.workshopfleet.command.Prompt;
import org.workshopfleet.command.CidrDetector;
import org.workshopfleet.command.MachineRendering;
import org.workshopfleet.cli.Options;
import org.workshopfleet.spec.Cidr;
import org.workshopfleet.error.FleetException;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.workshopfleet.bake.ImageBaker;
import org.workshopfleet.bake.ImageMode;
import org.workshopfleet.cloud.MachineImage;
import org.workshopfleet.cloud.UserDataFormat;
import org.workshopfleet.cloud.ec2.fake.Ec2Fake;
import org.workshopfleet.cloud.ec2.fake.InstanceBackend;
import org.workshopfleet.provision.MachineLayout;
import org.workshopfleet.provision.Pipeline;
import org.workshopfleet.provision.ProvisionListener;
import org.workshopfleet.provision.TestMachines;
import org.workshopfleet.render.Bundle;
import org.workshopfleet.render.BundleFile;
import org.workshopfleet.render.MachineModel;
import org.workshopfleet.render.SetupStep;
import org.workshopfleet.spec.Provider;
import org.workshopfleet.spec.WorkshopSpec;
import org.workshopfleet.ssh.LoopbackSshd;
import org.workshopfleet.state.Ledger;
import org.workshopfleet.state.ResourceEntry;
import org.workshopfleet.state.Secrets;
import org.workshopfleet.state.StateFolder;
import software.amazon.awssdk.utils.SdkAutoCloseable;

/**
 * Bake mode's bookkeeping in {@link Fleet} with the stand-in cloud: an existing image of the recipe is reused without a
 * builder, a failing builder (or an image that ends failed) is destroyed, launches no attendee and is reported like a
 * failed machine, teardown never removes an image, and the explicit
 * image actions list and remove (with confirmation, refusing unknown or ambiguous choices).
 */
class FleetImagesTest {

    @TempDir
    Path dir;
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final RecordingCloud.State cloud = new RecordingCloud.State();

    Fleet fleet(WorkshopSpec spec, Prompt prompt, int sshPort) {
        CidrDetector noDetect = () -> {
            throw new AssertionError("tests never detect a public address");
        };
        Wiring wiring = new Wiring((s, rec) -> new RecordingCloud(cloud, rec), s -> { }, noDetect, prompt,
                ProvisionListener.NONE, Clock.systemUTC(), LoopbackSshd.user(), sshPort, MachineLayout.STANDARD,
                Duration.ofSeconds(2), Duration.ofSeconds(3));
        return new Fleet(spec, Path.of("").toAbsolutePath(), wiring, new PrintStream(out, true, StandardCharsets.UTF_8));
    }

    WorkshopSpec spec(int count) {
        return WorkshopSpec.defaults(count, Provider.LAB).withStateRoot(dir.resolve("workshops")).withCidr(Cidr.parse("203.0.113.7/32"));
    }

    String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void aFailingBuilderIsDestroyedAndNoAttendeeIsLaunched() throws Exception {
        int closedPort = LoopbackSshd.freePort(); // nothing answers SSH: the builder fails at "ssh"
        assertEquals(1, fleet(spec(2), null, closedPort).up(true, ImageMode.BAKE), "a machine failure, not bad input");
        assertTrue(out().contains("builder ebpf-php-bake failed at ssh") && out().contains(
                "no attendee machine was launched"), out());
        assertEquals(List.of("createNodes [ebpf-php-bake]"), cloud.calls.stream().filter(c -> c.startsWith("createNodes")).toList());
        assertTrue(cloud.calls.contains("destroyNodes [m-1]"), cloud.calls.toString());
        assertTrue(cloud.machines.isEmpty(), "builder gone");
        assertNull(cloud.launchedFrom.get(0), "the builder starts from the stock image");
        assertEquals(String.format("%02d", ImageBaker.BUILDER_ATTENDEE), cloud.requests.get(0).tags().get("Attendee"));
        assertTrue(cloud.images.isEmpty());
    }

    @Test
    void aBuilderFailingAtAnImageStepIsReportedLikeAFailedMachineAndDestroyed() throws Exception {
        LoopbackSshd.assumeAvailable();
        WorkshopSpec spec = spec(2);
        Secrets secrets = new Secrets(new StateFolder(spec.stateDir()), spec.name());
        int b = ImageBaker.BUILDER_ATTENDEE;
        int port = LoopbackSshd.freePort();
        // The builder is a real loopback sshd machine presenting the host key its user data pins.
        TestMachines.Box builder = TestMachines.start(dir.resolve("builder"), secrets.loginKey(), "done",
                secrets.hostKey(b), "127.0.0.2", port);
        try {
            cloud.address = n -> "127.0.0.2";
            Path project = dir.resolve("project");
            Files.createDirectories(project.resolve("security-groups"));
            Files.copy(Path.of("security-groups/workshop.json"), project.resolve("security-groups/workshop.json"));
            Wiring wiring = new Wiring((s, rec) -> new RecordingCloud(cloud, rec), s -> { }, () -> {
                throw new AssertionError("tests never detect a public address");
            }, null, ProvisionListener.NONE, Clock.systemUTC(), LoopbackSshd.user(), port, MachineLayout.STANDARD,
                    Duration.ofSeconds(20), Duration.ofSeconds(20), root -> TWO_PHASE_STEPS);
            Fleet fleet = new Fleet(spec, project, wiring, new PrintStream(out, true, StandardCharsets.UTF_8));

            assertEquals(1, fleet.up(true, ImageMode.BAKE), out());
            // As a failing machine of a normal up: its row with the failing step and reason, then its log's tail.
            List<String> lines = out().lines().toList();
            int row = lines.indexOf(lines.stream().filter(l -> l.startsWith("ebpf-php-bake ")).findFirst()
                    .orElseThrow(() -> new AssertionError("no builder row:\n" + out())));
            assertTrue(lines.get(row - 1).matches("MACHINE\\s+IP\\s+STATE\\s+FAILED AT"), out());
            assertTrue(lines.get(row).matches("ebpf-php-bake\\s+127\\.0\\.0\\.2\\s+FAILED\\s+01-base: step 01-base exited"
                    + " with 100"), out());
            List<String> tail = lines.subList(row + 1, lines.size()).stream().takeWhile(l -> l.startsWith("    | "))
                    .toList();
            assertEquals(Pipeline.TAIL_LINES, tail.size(), out());
            assertTrue(tail.contains("    | noise 30") && tail.contains("    | E: Unable to locate package nosuchpkg"), out());
            assertTrue(out().contains("image: builder ebpf-php-bake failed at 01-base") && out().contains(
                    "no attendee machine was launched"), out());
            assertTrue(out().strip().endsWith("the builder ebpf-php-bake was destroyed; nothing was baked: fix the failing"
                    + " step and re-run up -Dimage=bake"), out());
            assertFalse(out().contains(secrets.sshPassword(b)) || out().contains(secrets.grafanaPassword(b)), "no secret");

            assertEquals(List.of("01"), builder.runs(), "the builder stopped at its failing image step");
            assertEquals(List.of("createNodes [ebpf-php-bake]"),
                    cloud.calls.stream().filter(c -> c.startsWith("createNodes")).toList(), "no attendee launched");
            assertFalse(cloud.calls.stream().anyMatch(c -> c.startsWith("captureImage")), cloud.calls.toString());
            assertTrue(cloud.calls.contains("destroyNodes [m-1]") && cloud.machines.isEmpty(), "builder destroyed");
            Ledger ledger = Ledger.open(new StateFolder(spec.stateDir()), spec.name(), "lab", spec.region(), Clock.systemUTC());
            ResourceEntry entry = ledger.snapshot().resources().stream().filter(r -> r.id().equals("m-1")).findFirst()
                    .orElseThrow(() -> new AssertionError("the builder is a ledger resource"));
            assertEquals(b, entry.attendee());
            assertNotNull(entry.deletedAt(), "the ledger records the builder as destroyed");
        } finally {
            builder.sshd().close();
        }
    }

    @Test
    void anImageThatEndsFailedIsReportedAsTheBuildersFailureAtCaptureAndNothingIsLeftRunning() throws Exception {
        LoopbackSshd.assumeAvailable();
        // The real Ec2Cloud on the EC2 stand-in, whose next image ends "failed"; its instances are a loopback sshd
        // machine presenting the host key the builder's user data pins, so the image step and the seal pass.
        WorkshopSpec spec = WorkshopSpec.defaults(2, Provider.EC2).withStateRoot(dir.resolve("workshops"))
                .withCidr(Cidr.parse("203.0.113.7/32"));
        Secrets secrets = new Secrets(new StateFolder(spec.stateDir()), spec.name());
        int b = ImageBaker.BUILDER_ATTENDEE;
        int port = LoopbackSshd.freePort();
        TestMachines.Box builder = TestMachines.start(dir.resolve("builder"), secrets.loginKey(), "done",
                secrets.hostKey(b), "127.0.0.2", port);
        List<SdkAutoCloseable> clients = new ArrayList<>();
        try (Ec2Fake fake = Ec2Fake.start()) {
            fake.backend(InstanceBackend.at("127.0.0.2")).pendingPolls(0).bakedImages().pendingPolls(0).failNextImage();
            Path project = dir.resolve("project");
            Files.createDirectories(project.resolve("security-groups"));
            Files.copy(Path.of("security-groups/workshop.json"), project.resolve("security-groups/workshop.json"));
            Files.copy(Path.of("ami.properties"), project.resolve("ami.properties"));
            Wiring wiring = new Wiring(fake.cloudFactory(Path.of("ami.properties"), clients), s -> { }, () -> {
                throw new AssertionError("tests never detect a public address");
            }, null, ProvisionListener.NONE, Clock.systemUTC(), LoopbackSshd.user(), port, MachineLayout.STANDARD,
                    Duration.ofSeconds(20), Duration.ofSeconds(20), root -> twoPhaseSteps("echo base done\n"));
            Fleet fleet = new Fleet(spec, project, wiring, new PrintStream(out, true, StandardCharsets.UTF_8));

            assertEquals(1, fleet.up(true, ImageMode.BAKE), out());

            String image = fake.bakedImages().images().get(0).id();
            assertEquals("failed", fake.bakedImages().images().get(0).state());
            // The same results table as a builder failing at a step: its row names the step and the image's reason.
            List<String> lines = out().lines().toList();
            int row = lines.indexOf(lines.stream().filter(l -> l.startsWith("ebpf-php-bake ")).findFirst()
                    .orElseThrow(() -> new AssertionError("no builder row:\n" + out())));
            assertTrue(lines.get(row - 1).matches("MACHINE\\s+IP\\s+STATE\\s+FAILED AT"), out());
            assertTrue(lines.get(row).matches("ebpf-php-bake\\s+127\\.0\\.0\\.2\\s+FAILED\\s+capture: "
                    + image + " ended failed: Server.InternalError: Internal error while creating the image.*"), out());
            assertTrue(out().contains("image: capturing builder ebpf-php-bake failed: " + image + " ended failed: ")
                    && out().contains("no attendee machine was launched"), out());
            assertEquals(1, out().split("re-run", -1).length - 1, "what to do is said once:\n" + out());
            assertTrue(out().strip().endsWith("the builder ebpf-php-bake was destroyed; nothing was baked: re-run up"
                    + " -Dimage=bake (the broken image is replaced)"), out());

            assertEquals(List.of("01"), builder.runs(), "the image step ran on the builder, nothing else");
            // Nothing left running: the builder was the only instance, and it is terminated.
            assertEquals(1, fake.instances().size(), "no attendee launched");
            assertTrue(fake.instances().stream().allMatch(i -> i.state().equals("terminated")
                    || i.state().equals("shutting-down")), fake.instances().toString());
        } finally {
            synchronized (clients) {
                clients.forEach(SdkAutoCloseable::close);
            }
            builder.sshd().close();
        }
    }

    /**
     * A tiny two-phase bundle for loopback machines: one image step that fails as a missing apt package does (after
     * more output than the log tail holds), one per-machine step, and the seal and lib the recipe needs.
     */
    private static final MachineRendering TWO_PHASE_STEPS = twoPhaseSteps("for i in $(seq 1 30); do echo \"noise $i\"; done\n"
            + "echo 'E: Unable to locate package nosuchpkg' >&2\nexit 100\n");

    /** As {@link #TWO_PHASE_STEPS} with an image step that ends with {@code imageStepEnd}. */
    private static MachineRendering twoPhaseSteps(String imageStepEnd) {
        return new MachineRendering() {
            @Override
            public String userData(MachineModel m, UserDataFormat f) {
                return "#cloud-config\nhostname: " + m.hostname() + "\n";
            }

            @Override
            public Bundle bundle(MachineModel m) {
                Map<String, String> scripts = new LinkedHashMap<>();
                scripts.put("01-base", "# phase: image\nset -euo pipefail\necho 01 >> /var/lib/runs.log\n" + imageStepEnd);
                scripts.put("02-login", "# phase: machine\nset -euo pipefail\necho 02 >> /var/lib/runs.log\n");
                List<BundleFile> files = new ArrayList<>();
                List<SetupStep> steps = new ArrayList<>();
                for (Map.Entry<String, String> e : scripts.entrySet()) {
                    String path = "scripts/" + e.getKey() + ".sh";
                    files.add(new BundleFile(path, e.getValue().getBytes(StandardCharsets.UTF_8), 0755));
                    steps.add(new SetupStep(e.getKey(), path, TestMachines.sha256(e.getValue())));
                }
                files.add(new BundleFile("scripts/seal.sh", "echo sealed\n".getBytes(StandardCharsets.UTF_8), 0755));
                files.add(new BundleFile("scripts/lib.sh", "true\n".getBytes(StandardCharsets.UTF_8), 0644));
                return new Bundle(m.hostname(), files, steps);
            }
        };
    }

    @Test
    void anImageOfTheRecipeIsReusedTeardownKeepsItAndOnlyRemoveImageRemovesIt() throws Exception {
        Fleet fleet = fleet(spec(2), null, LoopbackSshd.freePort());
        String recipe = fleet.currentRecipe().hash();
        MachineImage mine = new MachineImage("img-a", "workshop-fleet-" + recipe.substring(0, 12), recipe, Instant.now());
        MachineImage older = new MachineImage("img-b", "workshop-fleet-0123456789ab", "0123456789ab" + "0".repeat(52),
                Instant.parse("2026-01-01T00:00:00Z"));
        cloud.images.addAll(List.of(older, mine));

        assertEquals(1, fleet.up(true, ImageMode.BAKE), out()); // machines fail at ssh: nothing answers here
        assertEquals(List.of("createNodes [ebpf-php-01, ebpf-php-02]"),
                cloud.calls.stream().filter(c -> c.startsWith("createNodes")).toList(), "no builder: the image exists");
        assertEquals(List.of("img-a"), cloud.launchedFrom, "attendees launch from the image of the recipe");
        assertFalse(cloud.calls.stream().anyMatch(c -> c.startsWith("captureImage")), cloud.calls.toString());
        assertTrue(out().contains("matches recipe " + recipe.substring(0, 12)) && out().contains("reused"), out());

        assertEquals(0, fleet.teardown(true));
        assertEquals(List.of(older, mine), cloud.images, "teardown never removes an image");
        assertFalse(cloud.calls.stream().anyMatch(c -> c.startsWith("removeImage")), cloud.calls.toString());

        out.reset();
        assertEquals(0, fleet.images());
        assertTrue(out().lines().anyMatch(l -> l.startsWith("workshop-fleet-" + recipe.substring(0, 12)) && l.endsWith("current recipe")), out());
        assertTrue(out().lines().anyMatch(l -> l.startsWith("workshop-fleet-0123456789ab") && !l.contains("current")), out());

        assertTrue(assertThrows(FleetException.class, () -> fleet.removeImage(true, "fedcba98")).getMessage()
                .contains("no image matches 'fedcba98'"));
        cloud.images.add(new MachineImage("img-c", "workshop-fleet-012345678900", "012345678900" + "1".repeat(52), Instant.now()));
        assertTrue(assertThrows(FleetException.class, () -> fleet.removeImage(true, "01234567")).getMessage()
                .contains("matches 2 images"));
        assertTrue(assertThrows(FleetException.class, () -> fleet.removeImage(false, "0123456789ab0")).getMessage()
                .contains("no terminal to confirm on"), "removal is confirmed like other destructive actions");
        assertEquals(3, cloud.images.size());
        assertEquals(0, fleet(spec(2), q -> true, 22).removeImage(false, "0123456789ab0"));
        assertEquals(List.of(mine, cloud.images.get(1)), cloud.images);
        assertTrue(cloud.calls.contains("removeImage img-b"), cloud.calls.toString());
    }

    @Test
    void imageOptionsAreParsedAndCheckedBeforeAnythingRuns() {
        Map<String, String> env = Map.of();
        assertEquals(ImageMode.STOCK, Options.parse(Map.of("count", "2"), env).image());
        assertEquals(ImageMode.BAKE, Options.parse(Map.of("count", "2", "image", "Bake"), env).image());
        assertTrue(assertThrows(FleetException.class, () -> Options.parse(Map.of("count", "2", "image", "golden"), env))
                .getMessage().contains("-Dimage=golden is not an image mode"));
        assertEquals(Options.Action.IMAGES, Options.parse(Map.of("action", "images"), env).action());
        Options remove = Options.parse(Map.of("action", "remove-image", "imageRecipe", " 0123abcd "), env);
        assertEquals(Options.Action.REMOVE_IMAGE, remove.action());
        assertEquals("0123abcd", remove.imageRecipe());
        assertTrue(assertThrows(FleetException.class, () -> Options.parse(Map.of("action", "remove-image"), env))
                .getMessage().contains("which image? add -DimageRecipe="));
        assertTrue(assertThrows(FleetException.class, () -> Options.parse(Map.of("action", "remove-image",
                "imageRecipe", "a b;rm"), env)).getMessage().contains("is neither a recipe hash"));
        assertTrue(Options.helpText().contains("-Dimage ") && Options.helpText().contains("-DimageRecipe"), Options.helpText());
    }
}
