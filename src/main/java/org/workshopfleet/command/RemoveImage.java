package org.workshopfleet.command;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.workshopfleet.cloud.Cloud;
import org.workshopfleet.cloud.ImageExtension;
import org.workshopfleet.cloud.MachineImage;
import org.workshopfleet.cloud.ResourceRecorder;
import org.workshopfleet.error.BadInput;
import org.workshopfleet.error.FleetException;
import org.workshopfleet.state.BakedImage;
import org.workshopfleet.state.Ledger;
import org.workshopfleet.state.LedgerData;
import org.workshopfleet.state.StateFolder;
import org.workshopfleet.state.WorkshopLock;

/**
 * {@code remove-image}: removes one baked image, chosen by recipe hash (or prefix), name or id; refused while a fleet
 * whose ledger is in this state folder (this workshop's or another's) launches its new machines from it.
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
            if (Ledger.exists(folder)) {
                ctx.openLedger(folder); // and the spec moves to its provider and region
            }
            List<Fleet> fleets = fleetsBeside();
            ctx.wiring().credentials().check(ctx.spec());
            try (Cloud cloud = ctx.wiring().clouds().create(ctx.spec(), ResourceRecorder.NONE)) {
                remove(cloud, yes, ref, fleets);
            }
            return 0;
        }
    }

    private void remove(Cloud cloud, boolean yes, String ref, List<Fleet> fleets) {
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
        for (Fleet fleet : fleets) {
            refuseIfTheFleetLaunchesFromIt(image, fleet);
        }
        ctx.out().println("remove-image: " + image.name() + " (" + image.id() + ", recipe " + image.recipeHash()
                + ", baked " + image.createdAt() + ") and what backs it; later -Dimage=bake runs bake it again");
        ctx.confirm(yes, "Remove image " + image.name() + "?");
        images.removeImage(image);
        ctx.out().println("image " + image.name() + " removed");
    }

    /**
     * A live fleet that records {@code image} as the one its replacements and missing machines launch from
     * ({@link BakedImage}): removing it would make them all run every step from the stock image again, so it is
     * refused while that fleet is up. Images are shared by the account; fleets whose ledgers are elsewhere (another
     * computer, another state folder) are not seen here.
     */
    private static void refuseIfTheFleetLaunchesFromIt(MachineImage image, Fleet fleet) {
        BakedImage recorded = fleet.data().image();
        if (recorded == null || !fleet.data().placesFleet() || !recorded.id().equals(image.id())) {
            return;
        }
        String name = fleet.data().workshop();
        throw new BadInput("image " + image.name() + " (" + image.id() + ") is the image fleet " + name
                + " launches its new machines from (its ledger " + fleet.folder().ledgerFile() + " says so): tear that"
                + " fleet down first (-Daction=teardown -Dname=" + name + "), then remove the image");
    }

    /**
     * The ledgers of every workshop in this workshop's state folder (its own included) on the same provider. One that
     * cannot be read is named on the output and skipped: it is another workshop's to repair, and the image it may
     * record would only make its new machines run every step.
     */
    private List<Fleet> fleetsBeside() {
        Path root = ctx.spec().stateRoot();
        List<Path> folders;
        try (Stream<Path> listed = Files.list(root)) {
            folders = listed.filter(Files::isDirectory).sorted().toList();
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list the workshops in " + root, e);
        }
        String provider = ctx.spec().provider().id();
        List<Fleet> fleets = new ArrayList<>();
        for (Path dir : folders) {
            StateFolder folder = new StateFolder(dir);
            if (!Ledger.exists(folder)) {
                continue;
            }
            try {
                LedgerData data = Ledger.open(folder, dir.getFileName().toString(), provider, ctx.spec().region(),
                        ctx.wiring().clock()).snapshot();
                if (data.provider().equals(provider)) {
                    fleets.add(new Fleet(folder, data));
                }
            } catch (FleetException e) {
                ctx.out().println("remove-image: skipped the ledger in " + dir + ": " + e.getMessage());
            }
        }
        return fleets;
    }

    /** A workshop's ledger as read here, and where it is. */
    private record Fleet(StateFolder folder, LedgerData data) {
    }
}
