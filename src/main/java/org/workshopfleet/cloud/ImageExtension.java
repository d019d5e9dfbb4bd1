package org.workshopfleet.cloud;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * A cloud that can bake machine images and launch from them (EC2 AMIs, Lightsail instance snapshots, lab layers).
 * Asked for with {@link Cloud#images()}; a cloud without images answers empty, so callers never guess by provider.
 */
public interface ImageExtension {

    /** The available image baked for this recipe, if there is one (found by its {@code ImageRecipe} tag or name). */
    Optional<MachineImage> findImage(String recipeHash);

    /**
     * Bakes an image of this machine (already sealed by the caller), tagged {@code ManagedBy=workshop-fleet} and
     * {@code ImageRecipe=<recipeHash>} but not with the workshop, and waits until it is available. Idempotent: an image
     * for the same recipe that already exists (or is still being made) is adopted.
     */
    MachineImage captureImage(String machineId, String recipeHash, Duration timeout);

    /** Every image workshop-fleet baked in this region, any recipe. */
    List<MachineImage> listImages();

    /** Removes this image and what backs it (EBS snapshots). Removing what is already gone succeeds. */
    void removeImage(MachineImage image);
}
