package org.workshopfleet.cloud.lightsail;

import org.workshopfleet.error.BadInput;
import org.workshopfleet.error.CloudFailure;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.workshopfleet.cloud.ImageExtension;
import org.workshopfleet.cloud.ImageFailed;
import org.workshopfleet.cloud.MachineImage;
import org.workshopfleet.cloud.RecipeHash;
import org.workshopfleet.concurrent.Waiter;
import org.workshopfleet.spec.Tags;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.lightsail.LightsailClient;
import software.amazon.awssdk.services.lightsail.model.GetInstanceSnapshotsResponse;
import software.amazon.awssdk.services.lightsail.model.InstanceSnapshot;
import software.amazon.awssdk.services.lightsail.model.InstanceSnapshotState;
import software.amazon.awssdk.services.lightsail.model.InvalidInputException;
import software.amazon.awssdk.services.lightsail.model.NotFoundException;
import software.amazon.awssdk.services.lightsail.model.Tag;

/**
 * Baked images on Lightsail: instance snapshots named {@code workshop-fleet-<hash12>} and tagged
 * {@code ManagedBy=workshop-fleet}, {@code ImageRecipe=<hash>} (never {@code Workshop}, so a workshop's teardown leaves
 * them). Lightsail names are unique across resource types and CreateInstanceSnapshot is not idempotent, so a
 * {@code NameExists} answer is resolved by reading the snapshot: this recipe's (pending or available) is adopted, an
 * errored one is deleted and made again, anything else is refused. Lightsail has no waiters: the wait polls
 * GetInstanceSnapshot with the cloud's {@link Waiter}.
 */
final class LightsailImages implements ImageExtension {

    private final LightsailClient client;
    private final String region;
    private final Waiter polling;

    LightsailImages(LightsailSession session) {
        this.client = Objects.requireNonNull(session.client());
        this.region = Objects.requireNonNull(session.region());
        this.polling = Objects.requireNonNull(session.polling());
    }

    /** The newest available snapshot of this recipe: all GetInstanceSnapshots pages. */
    @Override
    public Optional<MachineImage> findImage(String recipeHash) {
        RecipeHash recipe = new RecipeHash(recipeHash);
        return scan().stream()
                .filter(s -> isManaged(s) && recipe.hex().equals(LightsailTags.value(s.tags(), RecipeHash.TAG))
                        && s.state() == InstanceSnapshotState.AVAILABLE)
                .map(LightsailImages::machineImage)
                .max(Comparator.comparing(MachineImage::createdAt, Comparator.nullsFirst(Comparator.naturalOrder())));
    }

    /** Every workshop-fleet snapshot in the region, any recipe and state, oldest first. */
    @Override
    public List<MachineImage> listImages() {
        return scan().stream()
                .filter(s -> isManaged(s) && LightsailTags.value(s.tags(), RecipeHash.TAG) != null)
                .map(LightsailImages::machineImage)
                .sorted(Comparator.comparing(MachineImage::createdAt, Comparator.nullsFirst(Comparator.naturalOrder())))
                .toList();
    }

    /**
     * CreateInstanceSnapshot of the instance named {@code instanceName}, tagged for the recipe and never for the
     * workshop, then waits until the snapshot is available; this recipe's snapshot already being made is adopted.
     */
    @Override
    public MachineImage captureImage(String instanceName, String recipeHash, Duration timeout) {
        RecipeHash recipe = new RecipeHash(recipeHash);
        Instant deadline = Instant.now().plus(timeout);
        createOrAdopt(instanceName, recipe, true);
        return awaitAvailable(recipe, timeout, deadline);
    }

    private void createOrAdopt(String instanceName, RecipeHash recipe, boolean replaceBroken) {
        String name = recipe.imageName();
        List<Tag> tags = List.of(Tag.builder().key(Tags.MANAGED_BY).value(Tags.MANAGED_BY_VALUE).build(),
                Tag.builder().key(RecipeHash.TAG).value(recipe.hex()).build());
        try {
            client.createInstanceSnapshot(b -> b.instanceSnapshotName(name).instanceName(instanceName).tags(tags));
            return;
        } catch (InvalidInputException e) {
            if (!LightsailTags.isNameExists(e)) {
                throw ApiFailure.of("snapshotting " + instanceName, region, e);
            }
        } catch (SdkException e) {
            throw ApiFailure.of("snapshotting " + instanceName, region, e);
        }
        // The name is taken: this recipe's snapshot from an earlier run (or this call's, its response lost), or not ours.
        InstanceSnapshot existing;
        try {
            existing = client.getInstanceSnapshot(b -> b.instanceSnapshotName(name)).instanceSnapshot();
        } catch (NotFoundException e) {
            throw new BadInput("the name " + name + " is taken by another Lightsail resource in " + region
                    + " (instance, key pair, disk...): delete or rename it, then re-run");
        } catch (SdkException e) {
            throw ApiFailure.of("reading snapshot " + name, region, e);
        }
        if (!isManaged(existing) || !recipe.hex().equals(LightsailTags.value(existing.tags(), RecipeHash.TAG))) {
            throw new BadInput("Lightsail snapshot " + name + " in " + region + " is not the workshop-fleet image"
                    + " of this recipe: delete it in the Lightsail console, then re-run");
        }
        if (existing.state() == InstanceSnapshotState.ERROR) {
            if (!replaceBroken) {
                throw failed(name);
            }
            removeImage(machineImage(existing));
            createOrAdopt(instanceName, recipe, false);
        }
    }

    private MachineImage awaitAvailable(RecipeHash recipe, Duration timeout, Instant deadline) {
        String name = recipe.imageName();
        int attempt = 0;
        while (true) {
            // A snapshot takes minutes: wait before every poll, the first included.
            polling.pause(attempt, deadline, LightsailSession.WAITING_FOR);
            InstanceSnapshot s = null;
            try {
                s = client.getInstanceSnapshot(b -> b.instanceSnapshotName(name)).instanceSnapshot();
            } catch (NotFoundException e) {
                // Not visible yet right after the create (eventual consistency): poll again.
            } catch (SdkException e) {
                if (!ApiFailure.isTransient(e)) {
                    throw ApiFailure.of("reading snapshot " + name, region, e);
                }
            }
            if (s != null && s.state() == InstanceSnapshotState.AVAILABLE) {
                return machineImage(s);
            }
            if (s != null && s.state() == InstanceSnapshotState.ERROR) {
                throw failed(name);
            }
            if (!Instant.now().isBefore(deadline)) {
                throw new CloudFailure("Lightsail snapshot " + name + " is still "
                        + (s == null ? "not visible" : s.stateAsString()) + " after " + minutes(timeout)
                        + ": re-run the same command later; it adopts the snapshot instead of making another");
            }
            attempt++;
        }
    }

    private ImageFailed failed(String name) {
        return new ImageFailed(name + " ended in state error", "Lightsail snapshot " + name + " in " + region
                + " ended in state error: re-run to bake it again; the broken snapshot is replaced");
    }

    /** DeleteInstanceSnapshot of this workshop-fleet snapshot; one already gone counts as removed. */
    @Override
    public void removeImage(MachineImage image) {
        InstanceSnapshot s;
        try {
            s = client.getInstanceSnapshot(b -> b.instanceSnapshotName(image.id())).instanceSnapshot();
        } catch (NotFoundException e) {
            return;
        } catch (SdkException e) {
            throw ApiFailure.of("reading snapshot " + image.id(), region, e);
        }
        if (!isManaged(s)) {
            throw new BadInput("Lightsail snapshot " + image.id() + " is not a workshop-fleet image (no ManagedBy="
                    + Tags.MANAGED_BY_VALUE + " tag): refusing to delete it");
        }
        try {
            client.deleteInstanceSnapshot(b -> b.instanceSnapshotName(image.id()));
        } catch (NotFoundException e) {
            // deleted meanwhile, or a retry after a lost response
        } catch (SdkException e) {
            throw ApiFailure.of("deleting snapshot " + image.id(), region, e);
        }
    }

    private List<InstanceSnapshot> scan() {
        List<InstanceSnapshot> out = new ArrayList<>();
        String token = null;
        do {
            String page = token;
            GetInstanceSnapshotsResponse r;
            try {
                r = client.getInstanceSnapshots(b -> b.pageToken(page));
            } catch (SdkException e) {
                throw ApiFailure.of("listing instance snapshots", region, e);
            }
            out.addAll(r.instanceSnapshots());
            token = r.nextPageToken();
        } while (token != null && !token.isEmpty());
        return out;
    }

    private static MachineImage machineImage(InstanceSnapshot s) {
        return new MachineImage(s.name(), s.name(), LightsailTags.value(s.tags(), RecipeHash.TAG), s.createdAt());
    }

    private static boolean isManaged(InstanceSnapshot s) {
        return Tags.MANAGED_BY_VALUE.equals(LightsailTags.value(s.tags(), Tags.MANAGED_BY));
    }

    private static String minutes(Duration d) {
        return d.toMinutes() > 0 ? d.toMinutes() + " min" : d.toMillis() + " ms";
    }
}
