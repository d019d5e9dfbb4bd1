package org.workshopfleet.command;

import java.util.List;
import org.workshopfleet.cloud.Cloud;
import org.workshopfleet.cloud.ImageExtension;
import org.workshopfleet.cloud.MachineImage;
import org.workshopfleet.cloud.ResourceRecorder;
import org.workshopfleet.error.BadInput;
import org.workshopfleet.state.BakedImage;
import org.workshopfleet.state.Ledger;
import org.workshopfleet.state.LedgerData;
import org.workshopfleet.state.StateFolder;
import org.workshopfleet.state.WorkshopLock;

/**
 * {@code remove-image}: removes one baked image, chosen by recipe hash (or prefix), name or id; refused while this
 * workshop's fleet launches its new machines from it.
 */
public final class RemoveImage {

    private final WorkshopContext ctx;

    /** @param ctx the workshop this command works on, and the steps it shares with the others */
    public RemoveImage(WorkshopContext ctx) {
        this.ctx = ctx;
    }

    /** Removes the one image {@code ref} names after confirmation (unless {@code yes}); 0, or refuses (2). */
    public int run(boolean yes, String ref) {
        // Images are shared by every workshop of the account; the lock keeps at least this workshop's own up (which
        // may be baking or launching from the image) from running meanwhile.
        try (WorkshopLock held = ctx.lock("remove-image")) {
            StateFolder folder = ctx.folder();
            LedgerData fleet = Ledger.exists(folder) ? ctx.openLedger(folder).snapshot() : null;
            ctx.wiring().credentials().check(ctx.spec());
            try (Cloud cloud = ctx.wiring().clouds().create(ctx.spec(), ResourceRecorder.NONE)) {
                remove(cloud, yes, ref, fleet);
            }
            return 0;
        }
    }

    private void remove(Cloud cloud, boolean yes, String ref, LedgerData fleet) {
        ImageExtension images = Images.of(cloud);
        List<MachineImage> matches = images.listImages().stream().filter(i -> i.recipeHash().startsWith(ref)
                || i.name().equals(ref) || i.id().equals(ref)).toList();
        if (matches.isEmpty()) {
            throw new BadInput("no image matches '" + ref + "' on " + cloud.providerName()
                    + ": -Daction=images lists them");
        }
        if (matches.size() > 1) {
            throw new BadInput("'" + ref + "' matches " + matches.size() + " images (" + String.join(", ",
                    matches.stream().map(MachineImage::name).toList()) + "): give more digits of the recipe hash");
        }
        MachineImage image = matches.get(0);
        refuseIfTheFleetLaunchesFromIt(image, fleet);
        ctx.out().println("remove-image: " + image.name() + " (" + image.id() + ", recipe " + image.recipeHash()
                + ", baked " + image.createdAt() + ") and what backs it; later -Dimage=bake runs bake it again");
        ctx.confirm(yes, "Remove image " + image.name() + "?");
        images.removeImage(image);
        ctx.out().println("image " + image.name() + " removed");
    }

    /**
     * This workshop's live fleet records {@code image} as the one its replacements and missing machines launch from
     * ({@link BakedImage}): removing it would make them all run every step from the stock image again, so it is
     * refused while the fleet is up. Other workshops' ledgers are not seen here (images are shared by the account).
     */
    private void refuseIfTheFleetLaunchesFromIt(MachineImage image, LedgerData fleet) {
        BakedImage recorded = fleet == null ? null : fleet.image();
        if (recorded == null || !fleet.placesFleet() || !recorded.id().equals(image.id())) {
            return;
        }
        throw new BadInput("image " + image.name() + " (" + image.id() + ") is the image fleet " + fleet.workshop()
                + " launches its new machines from (its ledger " + ctx.folder().ledgerFile() + " says so): tear that"
                + " fleet down first (-Daction=teardown -Dname=" + fleet.workshop() + "), then remove the image");
    }
}
