package org.workshopfleet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.workshopfleet.bake.ImageBaker;
import org.workshopfleet.bake.ImageMode;
import org.workshopfleet.cloud.MachineImage;
import org.workshopfleet.provision.MachineLayout;
import org.workshopfleet.provision.ProvisionListener;
import org.workshopfleet.spec.Provider;
import org.workshopfleet.spec.WorkshopSpec;
import org.workshopfleet.ssh.LoopbackSshd;

/**
 * Bake mode's bookkeeping in {@link Fleet} with the stand-in cloud: an existing image of the recipe is reused without a
 * builder, a failing builder is destroyed and launches no attendee, teardown never removes an image, and the explicit
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
        return WorkshopSpec.defaults(count, Provider.LAB).withStateRoot(dir.resolve("workshops")).withCidr("203.0.113.7/32");
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
