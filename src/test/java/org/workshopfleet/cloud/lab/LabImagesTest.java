package org.workshopfleet.cloud.lab;

import org.workshopfleet.error.FleetException;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.workshopfleet.cloud.MachineImage;

/** The lab's image store on plain folders (no root, no machines): adopt, find, list, in-use refusal, remove. */
class LabImagesTest {

    @TempDir
    Path tmp;

    @Test
    void aTakenLayerBecomesTheImageOfItsRecipeUntilRemovedAndNotWhileInUse() throws Exception {
        LabPaths paths = new LabPaths(tmp.resolve("cache"), tmp.resolve("run"));
        LabImages images = new LabImages(paths);
        String recipe = "ab".repeat(32);
        assertTrue(images.find(recipe).isEmpty());
        assertTrue(images.list().isEmpty());

        Path layer = images.staging(recipe).resolve("layer");
        Files.createDirectories(layer.resolve("usr/local/bin"));
        Files.writeString(layer.resolve("usr/local/bin/ebpf_exporter"), "binary");
        MachineImage image = images.adopt(recipe, layer, "lab:6d0daf8607d3");
        assertEquals(recipe, image.id());
        assertEquals(recipe, image.recipeHash());
        assertEquals("workshop-fleet-abababababab", image.name());
        assertEquals("binary", Files.readString(images.layer(image.id()).resolve("usr/local/bin/ebpf_exporter")));
        assertEquals(List.of(image), images.list());

        // A second baker finishing the same recipe adopts the first image and drops its own layer.
        Path other = images.staging(recipe).resolve("layer2");
        Files.createDirectories(other);
        assertEquals(image, images.adopt(recipe, other, "lab:6d0daf8607d3"));
        assertFalse(Files.exists(other));

        // In use by a machine of any scope: refused.
        new LabMachineRecord("wf-x-01", "x-01", "someone-else", 1, "10.231.1.1", "wf-v1", tmp.resolve("m"), 0, 0,
                Instant.now(), image.id()).write(paths.recordsDir());
        FleetException e = assertThrows(FleetException.class, () -> images.remove(image));
        assertTrue(e.getMessage().contains("in use by x-01"), e.getMessage());
        assertTrue(images.find(recipe).isPresent());
        LabMachineRecord.delete(paths.recordsDir(), "wf-x-01");

        images.remove(image);
        assertTrue(images.find(recipe).isEmpty());
        assertTrue(images.list().isEmpty());
        assertThrows(FleetException.class, () -> images.layer(recipe), "a removed image cannot be launched from");
        images.remove(image); // already gone: fine
    }

    @Test
    void recordsWithoutAnImageReadBackAsBaseMachines() {
        Path dir = tmp.resolve("records");
        new LabMachineRecord("wf-y-01", "y-01", "s", 2, "10.231.1.2", "wf-v2", tmp.resolve("m"), 5, 6, Instant.now(), null)
                .write(dir);
        assertEquals("", LabMachineRecord.readAll(dir).get(0).image());
    }
}
