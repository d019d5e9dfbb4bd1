package org.workshopfleet.command;

import java.util.Optional;
import org.workshopfleet.bake.ImageRecipe;
import org.workshopfleet.cloud.Cloud;
import org.workshopfleet.cloud.ImageExtension;
import org.workshopfleet.cloud.LaunchContext;
import org.workshopfleet.cloud.MachineImage;
import org.workshopfleet.error.CloudFailure;
import org.workshopfleet.error.FleetException;
import org.workshopfleet.render.Bundle;
import org.workshopfleet.state.BakedImage;
import org.workshopfleet.state.Ledger;

/**
 * The image the new machines of {@code replace}, {@code up}'s heal and a plain {@code up}'s missing machines launch
 * from: the one the fleet was launched from
 * ({@link Ledger#image()}), so that, as on {@code up -Dimage=bake}, they skip the image steps by their markers and run
 * only the per-machine ones. When that image is gone, or the project's image recipe no longer matches the one it
 * carries (its markers would not match the steps, which would run again on top of it), they launch from the stock
 * image and run every step, and one line says why: a replacement never fails for its image. Decided once per command,
 * on the first new machine.
 */
final class ReplacementImage {

    private final WorkshopContext ctx;
    private final Ledger ledger;
    private final Cloud cloud;
    private LaunchContext chosen;

    ReplacementImage(WorkshopContext ctx, Ledger ledger, Cloud cloud) {
        this.ctx = ctx;
        this.ledger = ledger;
        this.cloud = cloud;
    }

    /**
     * {@code given}, launching from the fleet's image when it is still there and matches the project.
     *
     * @param given      the command's launch context; one that names an image already (the baked image this
     *                   {@code up} launched from) is kept as it is
     * @param anyMachine the bundle of one new machine, for the project's image recipe now
     */
    LaunchContext launchContext(LaunchContext given, Bundle anyMachine) {
        if (chosen == null) {
            chosen = choose(given, anyMachine);
        }
        return chosen;
    }

    private LaunchContext choose(LaunchContext given, Bundle anyMachine) {
        BakedImage recorded = ledger.image();
        if (given.imageId() != null || recorded == null) {
            return given;
        }
        String fleetImage = "the fleet's image " + recorded.id() + " (recipe " + shortHash(recorded.recipeHash()) + ")";
        Optional<ImageExtension> images = cloud.images();
        if (images.isEmpty()) {
            return stock(given, fleetImage + " is on a cloud that keeps no images");
        }
        String now;
        try {
            now = ImageRecipe.of(ctx.profile().stockImage(ctx.spec().region(), ctx.projectRoot()), anyMachine).hash();
        } catch (FleetException e) {
            return stock(given, fleetImage + " cannot be matched with the project: " + e.getMessage());
        }
        if (!now.equals(recorded.recipeHash())) {
            return stock(given, fleetImage + " no longer matches the project, whose recipe is now " + shortHash(now)
                    + " (re-run up -Dimage=bake to bake it)");
        }
        Optional<MachineImage> found;
        try {
            found = images.get().findImage(recorded.recipeHash());
        } catch (CloudFailure e) {
            return stock(given, fleetImage + " could not be looked up: " + e.getMessage());
        }
        if (found.isEmpty()) {
            return stock(given, fleetImage + " is gone (re-run up -Dimage=bake to bake it again)");
        }
        MachineImage image = found.get();
        if (!image.id().equals(recorded.id())) {
            // The same recipe baked again (the recorded image was removed): the same steps, the same markers.
            ledger.putImage(new BakedImage(image.id(), recorded.recipeHash()));
        }
        ctx.out().println("image: new machines launch from the fleet's image " + image.id() + " (recipe "
                + shortHash(recorded.recipeHash()) + "), which holds the image steps: only the per-machine steps run");
        return given.withImage(image.id());
    }

    private LaunchContext stock(LaunchContext given, String why) {
        ctx.out().println("image: new machines launch from the stock image and run every step: " + why);
        return given;
    }

    private static String shortHash(String hash) {
        return hash == null || hash.length() < 12 ? String.valueOf(hash) : hash.substring(0, 12);
    }
}
