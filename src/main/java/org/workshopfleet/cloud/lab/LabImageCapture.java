package org.workshopfleet.cloud.lab;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.workshopfleet.cloud.ImageExtension;
import org.workshopfleet.cloud.MachineImage;

/**
 * The lab's {@link ImageExtension}: captures a sealed machine of one scope as the {@link LabImages image} of its
 * recipe (the machine's upper layer, taken after a clean power-off), and finds, lists and removes the host's images.
 */
final class LabImageCapture implements ImageExtension {

    private final LabMachines machines;
    private final LabImages images;

    LabImageCapture(LabMachines machines) {
        this.machines = machines;
        this.images = machines.images();
    }

    @Override
    public Optional<MachineImage> findImage(String recipeHash) {
        return images.find(recipeHash);
    }

    /**
     * Powers the (sealed) machine off and keeps its upper layer as the image of this recipe; the machine itself stays
     * recorded, without a running container, until it is destroyed. An image already baked for the recipe is adopted
     * and the machine left running.
     */
    @Override
    public MachineImage captureImage(String machineId, String recipeHash, Duration timeout) {
        Optional<MachineImage> done = images.find(recipeHash);
        if (done.isPresent()) {
            return done.get();
        }
        Path staging = images.staging(recipeHash);
        Path layer = staging.resolve("layer");
        try {
            machines.takeLayer(machineId, layer);
            return images.adopt(recipeHash, layer, "lab:" + BaseImage.hash());
        } finally {
            HostCommand.quietly("rm", "-rf", "--one-file-system", staging.toString());
        }
    }

    @Override
    public List<MachineImage> listImages() {
        return images.list();
    }

    /** Deletes the image's layer; refused while a lab machine launched from it exists. */
    @Override
    public void removeImage(MachineImage image) {
        images.remove(image);
    }
}
