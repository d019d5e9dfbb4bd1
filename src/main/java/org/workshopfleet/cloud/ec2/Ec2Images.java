package org.workshopfleet.cloud.ec2;

import org.workshopfleet.error.BadInput;
import org.workshopfleet.error.CloudFailure;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.workshopfleet.cloud.ImageExtension;
import org.workshopfleet.cloud.ImageFailed;
import org.workshopfleet.cloud.MachineImage;
import org.workshopfleet.cloud.RecipeHash;
import org.workshopfleet.concurrent.Waiter;
import org.workshopfleet.spec.Tags;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.BlockDeviceMapping;
import software.amazon.awssdk.services.ec2.model.DescribeImagesRequest;
import software.amazon.awssdk.services.ec2.model.Ec2Exception;
import software.amazon.awssdk.services.ec2.model.Filter;
import software.amazon.awssdk.services.ec2.model.Image;
import software.amazon.awssdk.services.ec2.model.ImageState;
import software.amazon.awssdk.services.ec2.model.ResourceType;
import software.amazon.awssdk.services.ec2.model.Tag;
import software.amazon.awssdk.services.ec2.model.TagSpecification;

/**
 * Baked images on EC2: AMIs made with {@code CreateImage} from one provisioned instance and shared by every workshop
 * whose image recipe hashes the same. The AMI and its EBS snapshots are tagged at creation with
 * {@code ManagedBy=workshop-fleet}, {@code ImageRecipe=<hash>} and a {@code Name}, never with a {@code Workshop} tag, so
 * a workshop's teardown (which searches by {@code Workshop}) leaves them alone; only {@link #remove} deletes them.
 *
 * <p>Idempotent without a ledger: AMI names are unique per account and region, so a second {@code CreateImage} for the
 * same recipe answers {@code InvalidAMIName.Duplicate} and the existing image (pending or available) is adopted; a
 * failed one is removed and made again. Removal deregisters the AMI first (a snapshot backing a registered AMI cannot
 * be deleted: {@code InvalidSnapshot.InUse}), then deletes its snapshots, including snapshots of the recipe found by tag
 * that an interrupted removal left behind.
 */
final class Ec2Images implements ImageExtension {

    private static final String SELF = "self";
    /** Tries of a snapshot delete that answers InUse right after its AMI was deregistered (eventual consistency). */
    private static final int IN_USE_ATTEMPTS = 8;
    private static final Set<ImageState> BROKEN = Set.of(ImageState.FAILED, ImageState.ERROR, ImageState.INVALID);

    private final Ec2Client ec2;
    private final Waiter waiting;
    /** The region, named in errors. */
    private final String region;

    Ec2Images(Ec2Client ec2, Waiter waiting, String region) {
        this.ec2 = Objects.requireNonNull(ec2);
        this.waiting = Objects.requireNonNull(waiting);
        this.region = Objects.requireNonNull(region);
    }

    /** The available AMI baked for this recipe in this account and region. */
    @Override
    public Optional<MachineImage> findImage(String recipeHash) {
        RecipeHash recipe = new RecipeHash(recipeHash);
        return Ec2Calls.call(region, "image lookup", () -> find(recipe));
    }

    /**
     * {@code CreateImage} of the instance (EC2 reboots it for a consistent snapshot), tagged for the recipe and never
     * for the workshop, then waits until the AMI is available; an image of the recipe already being made is adopted.
     */
    @Override
    public MachineImage captureImage(String machineId, String recipeHash, Duration timeout) {
        RecipeHash recipe = new RecipeHash(recipeHash);
        return Ec2Calls.call(region, "image bake", () -> capture(machineId, recipe, timeout));
    }

    @Override
    public List<MachineImage> listImages() {
        return Ec2Calls.call(region, "image listing", this::list);
    }

    /** Deregisters the AMI, then deletes its EBS snapshots; what is already gone counts as removed. */
    @Override
    public void removeImage(MachineImage image) {
        Ec2Calls.call(region, "image removal", () -> {
            remove(image);
            return null;
        });
    }

    /** The newest available image of this recipe owned by this account: one (paged) {@code DescribeImages}. */
    private Optional<MachineImage> find(RecipeHash recipe) {
        return describe(DescribeImagesRequest.builder().owners(SELF)
                .filters(Ec2Calls.filter("tag:" + Tags.MANAGED_BY, Tags.MANAGED_BY_VALUE),
                        Ec2Calls.filter("tag:" + RecipeHash.TAG, recipe.hex()),
                        Ec2Calls.filter("state", "available"))
                .build()).stream()
                .filter(i -> i.state() == ImageState.AVAILABLE)
                .map(Ec2Images::machineImage)
                .max(Comparator.comparing(MachineImage::createdAt, Comparator.nullsFirst(Comparator.naturalOrder())));
    }

    /** Every image workshop-fleet made in this region, any recipe and state except deregistered, oldest first. */
    private List<MachineImage> list() {
        return describe(DescribeImagesRequest.builder().owners(SELF)
                .filters(Ec2Calls.filter("tag:" + Tags.MANAGED_BY, Tags.MANAGED_BY_VALUE))
                .build()).stream()
                .filter(i -> i.state() != ImageState.DEREGISTERED && recipeOf(i) != null)
                .map(Ec2Images::machineImage)
                .sorted(Comparator.comparing(MachineImage::createdAt, Comparator.nullsFirst(Comparator.naturalOrder())))
                .toList();
    }

    /**
     * Makes (or adopts) the AMI of this recipe from the instance and waits until it is available. EC2 reboots the
     * instance for the snapshot (NoReboot is left false) so the file systems are consistent.
     */
    private MachineImage capture(String instanceId, RecipeHash recipe, Duration timeout) {
        Instant deadline = Instant.now().plus(timeout);
        String imageId = createOrAdopt(instanceId, recipe, true);
        return awaitAvailable(imageId, recipe, timeout, deadline);
    }

    private String createOrAdopt(String instanceId, RecipeHash recipe, boolean replaceBroken) {
        String name = recipe.imageName();
        Map<String, String> tags = new HashMap<>();
        tags.put(Tags.MANAGED_BY, Tags.MANAGED_BY_VALUE);
        tags.put(RecipeHash.TAG, recipe.hex());
        tags.put(Tags.NAME, name);
        try {
            return ec2.createImage(r -> r.instanceId(instanceId).name(name)
                    .description("workshop-fleet image, recipe " + recipe.hex())
                    .tagSpecifications(Ec2Calls.tagSpec(ResourceType.IMAGE, tags), Ec2Calls.tagSpec(ResourceType.SNAPSHOT, tags)))
                    .imageId();
        } catch (Ec2Exception e) {
            if (!"InvalidAMIName.Duplicate".equals(Ec2Calls.code(e))) {
                throw e;
            }
        }
        // The name is taken: our own image from an earlier run (or from this call, its response lost), or a stranger.
        Image existing = describe(DescribeImagesRequest.builder().owners(SELF).filters(Ec2Calls.filter("name", name)).build())
                .stream().filter(i -> i.state() != ImageState.DEREGISTERED).findFirst()
                .orElseThrow(() -> new CloudFailure("EC2 says the image name " + name + " is in use in this region"
                        + " but lists no such image owned by this account: wait a minute and re-run"));
        if (!recipe.hex().equals(recipeOf(existing)) || !isManaged(existing)) {
            throw new BadInput("EC2 image " + existing.imageId() + " is named " + name + " but is not the"
                    + " workshop-fleet image of this recipe: deregister it (aws ec2 deregister-image --image-id "
                    + existing.imageId() + ") or rename it, then re-run");
        }
        if (BROKEN.contains(existing.state())) {
            if (!replaceBroken) {
                throw failed(existing);
            }
            remove(machineImage(existing));
            return createOrAdopt(instanceId, recipe, false);
        }
        return existing.imageId();
    }

    private MachineImage awaitAvailable(String imageId, RecipeHash recipe, Duration timeout, Instant deadline) {
        for (int attempt = 0; ; attempt++) {
            // Making an AMI takes minutes: wait before every poll, the first included.
            waiting.pause(attempt, Ec2Calls.WAITING_FOR);
            Image image = null;
            try {
                List<Image> found = ec2.describeImages(r -> r.owners(SELF).imageIds(imageId)).images();
                image = found.isEmpty() ? null : found.get(0);
            } catch (Ec2Exception e) {
                // Not yet visible right after CreateImage (eventual consistency), or throttling that outlived the SDK's
                // retries: both are worth another poll.
                if (!"InvalidAMIID.NotFound".equals(Ec2Calls.code(e)) && !isTransient(e)) {
                    throw e;
                }
            }
            if (image != null) {
                if (image.state() == ImageState.AVAILABLE) {
                    return machineImage(image);
                }
                if (BROKEN.contains(image.state()) || image.state() == ImageState.DEREGISTERED) {
                    throw failed(image);
                }
            }
            if (Instant.now().isAfter(deadline)) {
                throw new CloudFailure("EC2 image " + imageId + " (" + recipe.imageName() + ") is still "
                        + (image == null ? "not visible" : image.stateAsString()) + " after " + minutes(timeout)
                        + ": re-run the same command later; it adopts the image instead of making another");
            }
        }
    }

    private static ImageFailed failed(Image image) {
        String reason = image.stateReason() == null ? "no reason given"
                : Objects.toString(image.stateReason().message(), Objects.toString(image.stateReason().code(), "no reason given"));
        reason = reason.replaceAll("[\\r\\n]+", " ");
        return new ImageFailed(image.imageId() + " ended " + image.stateAsString() + ": " + reason,
                "EC2 image " + image.imageId() + " (" + image.name() + ") ended " + image.stateAsString() + " (" + reason
                        + "): re-run to bake it again; the broken image is replaced");
    }

    /**
     * Deregisters the AMI, then deletes its EBS snapshots and any other snapshot of the recipe that is not in use (left
     * by an interrupted removal). Whatever is already gone counts as removed, so a second call succeeds.
     */
    private void remove(MachineImage image) {
        Set<String> own = new LinkedHashSet<>();
        List<Image> described;
        try {
            described = ec2.describeImages(r -> r.owners(SELF).imageIds(image.id())).images();
        } catch (Ec2Exception e) {
            if (!"InvalidAMIID.NotFound".equals(Ec2Calls.code(e))) {
                throw e;
            }
            described = List.of();
        }
        for (Image i : described) {
            if (i.state() == ImageState.DEREGISTERED) {
                continue;
            }
            if (!isManaged(i)) {
                throw new BadInput("EC2 image " + i.imageId() + " is not a workshop-fleet image (no ManagedBy="
                        + Tags.MANAGED_BY_VALUE + " tag): refusing to remove it");
            }
            for (BlockDeviceMapping m : i.blockDeviceMappings()) {
                if (m.ebs() != null && m.ebs().snapshotId() != null) {
                    own.add(m.ebs().snapshotId());
                }
            }
            try {
                ec2.deregisterImage(r -> r.imageId(i.imageId()));
            } catch (Ec2Exception e) {
                String code = Ec2Calls.code(e);
                if (!"InvalidAMIID.NotFound".equals(code) && !"InvalidAMIID.Unavailable".equals(code)) {
                    throw e;
                }
            }
        }
        Set<String> byTag = new LinkedHashSet<>();
        if (image.recipeHash() != null && image.recipeHash().matches("[0-9a-f]{64}")) {
            ec2.describeSnapshotsPaginator(r -> r.ownerIds(SELF).filters(
                            Ec2Calls.filter("tag:" + Tags.MANAGED_BY, Tags.MANAGED_BY_VALUE),
                            Ec2Calls.filter("tag:" + RecipeHash.TAG, image.recipeHash())))
                    .snapshots().forEach(s -> byTag.add(s.snapshotId()));
        }
        byTag.removeAll(own);
        for (String id : own) {
            deleteSnapshot(id, true);
        }
        for (String id : byTag) {
            deleteSnapshot(id, false);
        }
    }

    /**
     * Deletes one snapshot; NotFound means already gone. {@code InvalidSnapshot.InUse} on the image's own snapshot is
     * the deregistration not having propagated yet and is retried; on a snapshot found only by tag it means another
     * registered image still uses it, which is left alone.
     */
    private void deleteSnapshot(String id, boolean ownedByRemovedImage) {
        for (int attempt = 0; ; attempt++) {
            try {
                ec2.deleteSnapshot(r -> r.snapshotId(id));
                return;
            } catch (Ec2Exception e) {
                String code = Ec2Calls.code(e);
                if ("InvalidSnapshot.NotFound".equals(code)) {
                    return;
                }
                if (!"InvalidSnapshot.InUse".equals(code)) {
                    throw e;
                }
                if (!ownedByRemovedImage) {
                    return;
                }
                if (attempt + 1 >= IN_USE_ATTEMPTS) {
                    throw new CloudFailure("EBS snapshot " + id + " is still in use after its image was deregistered:"
                            + " wait a minute and remove the image again");
                }
                waiting.pause(attempt, Ec2Calls.WAITING_FOR);
            }
        }
    }

    // ------------------------------------------------------------------ mapping

    private List<Image> describe(DescribeImagesRequest request) {
        return ec2.describeImagesPaginator(request).images().stream().toList();
    }

    private static MachineImage machineImage(Image i) {
        return new MachineImage(i.imageId(), i.name(), recipeOf(i), parse(i.creationDate()));
    }

    private static String recipeOf(Image i) {
        return tag(i.tags(), RecipeHash.TAG);
    }

    private static boolean isManaged(Image i) {
        return Tags.MANAGED_BY_VALUE.equals(tag(i.tags(), Tags.MANAGED_BY));
    }

    private static String tag(List<Tag> tags, String key) {
        for (Tag t : tags) {
            if (key.equals(t.key())) {
                return t.value();
            }
        }
        return null;
    }

    private static Instant parse(String creationDate) {
        if (creationDate == null) {
            return null;
        }
        try {
            return Instant.parse(creationDate);
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    private static boolean isTransient(Ec2Exception e) {
        return e.isThrottlingException() || e.statusCode() >= 500;
    }

    private static String minutes(Duration d) {
        return d.toMinutes() > 0 ? d.toMinutes() + " min" : d.toMillis() + " ms";
    }
}
