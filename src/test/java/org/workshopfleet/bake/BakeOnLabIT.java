package org.workshopfleet.bake;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.workshopfleet.command.CloudsByProvider;
import org.workshopfleet.command.Wiring;
import org.workshopfleet.cloud.MachineImage;
import org.workshopfleet.cloud.lab.LabImages;
import org.workshopfleet.cloud.lab.LabMachines;
import org.workshopfleet.cloud.lab.LabPaths;
import org.workshopfleet.error.FleetException;
import org.workshopfleet.spec.Provider;
import org.workshopfleet.spec.SourceLocations;
import org.workshopfleet.spec.WorkshopSpec;

/**
 * {@link BakeOnLabContract} on the lab cloud: the image is a lab layer in the host's image cache, and the lab refuses to
 * remove it while a machine runs from it.
 */
class BakeOnLabIT extends BakeOnLabContract {

    private final LabImages images = new LabImages(LabPaths.standard());

    @Override
    protected String name() {
        return "bake-lab";
    }

    @Override
    protected void start() {
        // The lab cloud needs nothing beyond the lab network the contract brings up.
    }

    @Override
    protected WorkshopSpec spec(String workshop, Path stateDir, SourceLocations sources) {
        return new WorkshopSpec(workshop, 2, Provider.LAB, "ap-northeast-1", null, null, null, false, null, 8, stateDir,
                sources);
    }

    @Override
    protected Wiring wiring() {
        return wiring(new CloudsByProvider(PROJECT));
    }

    @Override
    protected Optional<String> imageId(String recipe) {
        return images.find(recipe).map(MachineImage::id);
    }

    @Override
    protected void assertBuilderGone(String workshop) {
        assertTrue(new LabMachines(workshop).list().stream().noneMatch(m -> m.name().endsWith("-bake")), "builder destroyed");
    }

    @Override
    protected void afterBake(String recipe, String imageId) {
        assertTrue(Files.isDirectory(images.layer(imageId)), "the image is a layer in the lab cache");
    }

    @Override
    protected void assertTornDown(String workshop, String imageId) {
        assertTrue(new LabMachines(workshop).list().isEmpty(), "no machine of " + workshop + " after teardown");
        assertTrue(Files.isDirectory(images.layer(imageId)), "teardown keeps the image's layer");
    }

    @Override
    protected void beforeReuse() {
        // Nothing to reset: the lab keeps no call log.
    }

    @Override
    protected void afterReuse(String imageId) {
        MachineImage image = images.list().stream().filter(i -> i.id().equals(imageId)).findFirst().orElseThrow();
        assertTrue(removalRefusedAsInUse(image), "an image in use is not removed");
    }

    @Override
    protected void afterRemove(String imageId) {
        assertTrue(images.list().stream().noneMatch(i -> i.id().equals(imageId)), "the image's layer is gone");
    }

    @Override
    protected void cleanUp(String recipe) {
        new LabMachines(name()).destroyAll();
        new LabMachines(name() + "b").destroyAll();
        if (recipe != null) {
            images.find(recipe).ifPresent(images::remove);
        }
    }

    @Override
    protected List<String> labNames() {
        return Stream.of(name(), name() + "b").flatMap(w -> Stream.of(w + "-01", w + "-02", w + "-bake"))
                .map(m -> LabMachines.PREFIX + m).toList();
    }

    private boolean removalRefusedAsInUse(MachineImage image) {
        try {
            images.remove(image);
            return false;
        } catch (FleetException e) {
            return e.getMessage().contains("is in use by");
        }
    }
}
