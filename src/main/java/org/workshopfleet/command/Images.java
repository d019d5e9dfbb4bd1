package org.workshopfleet.command;

import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Locale;
import org.workshopfleet.cloud.Cloud;
import org.workshopfleet.cloud.ImageExtension;
import org.workshopfleet.cloud.MachineImage;
import org.workshopfleet.cloud.ResourceRecorder;
import org.workshopfleet.error.BadInput;

/** {@code images}: the images workshop-fleet baked on this cloud and region, marking the current recipe's. */
public final class Images {

    private final WorkshopContext ctx;

    /** @param ctx the workshop this command works on, and the steps it shares with the others */
    public Images(WorkshopContext ctx) {
        this.ctx = ctx;
    }

    /** Lists them (any workshop's); needs no ledger, changes nothing, returns 0. */
    public int run() {
        ctx.placeFromLedger();
        ctx.wiring().credentials().check(ctx.spec());
        String current = ctx.currentRecipe().hash();
        try (Cloud cloud = ctx.wiring().clouds().create(ctx.spec(), ResourceRecorder.NONE)) {
            List<MachineImage> images = of(cloud).listImages();
            ctx.out().printf(Locale.ROOT, "%-28s %-24s %-14s %-22s %s%n", "NAME", "ID", "RECIPE", "CREATED", "");
            for (MachineImage i : images) {
                ctx.out().printf(Locale.ROOT, "%-28s %-24s %-14s %-22s %s%n", i.name(), abbreviate(i.id()),
                        i.recipeHash().substring(0, Math.min(12, i.recipeHash().length())),
                        i.createdAt().truncatedTo(ChronoUnit.SECONDS),
                        i.recipeHash().equals(current) ? "current recipe" : "");
            }
            ctx.out().println(images.size() + " image(s) on " + cloud.providerName()
                    + (ctx.profile().regional() ? " " + ctx.spec().region() : "")
                    + "; this project's recipe is " + current.substring(0, 12)
                    + (images.stream().anyMatch(i -> i.recipeHash().equals(current)) ? ""
                            : " (not baked: up -Dimage=bake bakes it)")
                    + ". Images stay until -Daction=remove-image -DimageRecipe=<recipe>; teardown never removes them.");
        }
        return 0;
    }

    /** The cloud's images, or bad input when it keeps none. */
    static ImageExtension of(Cloud cloud) {
        return cloud.images().orElseThrow(() -> new BadInput(cloud.providerName() + " has no images"));
    }

    private static String abbreviate(String id) {
        return id.length() <= 24 ? id : id.substring(0, 21) + "...";
    }
}
