package org.workshopfleet.cloud.ec2.fake;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * The part of the EC2 STAND-IN ({@link Ec2Fake}) that holds this account's own AMIs and their EBS snapshots:
 * {@code CreateImage}, {@code DescribeImages} (with the public catalogue {@link Ec2Fake#addImage} seeds),
 * {@code DeregisterImage}, {@code DescribeSnapshots}, {@code DeleteSnapshot}, and the check {@code RunInstances} makes on
 * a baked {@code ImageId}. It follows the EC2 API reference as far as it is documented:
 *
 * <ul>
 *   <li>CreateImage needs a running or stopped instance, a name of 3-128 allowed characters that no registered image
 *       of the account uses ({@code InvalidAMIName.Duplicate} "AMI name … is already in use by AMI …"), and tag
 *       specifications of type {@code image} or {@code snapshot} only. It answers {@code <imageId>} at once; the image
 *       is {@code pending} (its snapshot too) for {@link #pendingPolls} DescribeImages calls and until the
 *       {@link InstanceBackend} has captured the instance's disk ({@link InstanceBackend#capture}), then
 *       {@code available} (snapshot {@code completed}), or {@code failed} when {@link #failNextImage()} was asked or
 *       the capture failed.</li>
 *   <li>DescribeImages takes {@code Owner.N} ({@code self} = this account), {@code ImageId.N} (an id never seen fails
 *       the call with {@code InvalidAMIID.NotFound}), filters ({@code tag:K}, {@code name}, {@code state}, …) and
 *       paging. "Recently deregistered images appear in the returned results for a short interval and then return
 *       empty results": a deregistered image is listed as {@code deregistered} for {@link #deregisteredListedPolls}
 *       calls, then no longer.</li>
 *   <li>DeleteSnapshot of a snapshot backing a registered image fails with {@code InvalidSnapshot.InUse} ("The
 *       snapshot … is currently in use by ami-…"); an unknown or deleted one with {@code InvalidSnapshot.NotFound}.</li>
 *   <li>The fake's own choices where the reference is silent: the failed image's state reason, deregistering a
 *       deregistered image ({@code InvalidAMIID.Unavailable}, "has been deregistered and is no longer available"),
 *       RunInstances with a baked image that is not available ({@code InvalidAMIID.Unavailable}).</li>
 * </ul>
 *
 * <p>All state is guarded by the fake's lock; the public methods take it themselves.
 */
public final class BakedImages {

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9()\\[\\] ./\\-'@_]{3,128}");
    private static final Set<String> TAGGABLE = Set.of("image", "snapshot");

    /** What CreateImage needs to know about the instance it images. */
    record InstanceFacts(String id, String state, String volumeId) {
    }

    /** One baked image for assertions. */
    public record ImageView(String id, String name, String state, String instanceId, boolean noReboot,
                            Map<String, String> tags, List<String> snapshotIds) {
    }

    /** One EBS snapshot for assertions. */
    public record SnapshotView(String id, String status, String volumeId, Map<String, String> tags) {
    }

    private static final class Ami {
        String id;
        String name;
        String description;
        String instanceId;
        boolean noReboot;
        String creationDate;
        int createdAt;
        boolean fails;
        /** The backend's capture of the instance's disk: the image is pending until it is done. */
        CompletableFuture<?> data = CompletableFuture.completedFuture(null);
        boolean released;
        Integer deregisteredAt;
        Map<String, String> tags = new LinkedHashMap<>();
        List<String> snapshotIds = new ArrayList<>();
    }

    private static final class Snap {
        String id;
        String volumeId;
        String imageId;
        String description;
        Instant startTime;
        boolean deleted;
        int inUseAnswersLeft;
        Map<String, String> tags = new LinkedHashMap<>();
    }

    private final Object lock;
    private final Function<String, String> newId;
    private final Consumer<String> release;
    private final Map<String, Ami> amis = new LinkedHashMap<>();
    private final Map<String, Snap> snapshots = new LinkedHashMap<>();
    /** Time for images: the number of DescribeImages calls answered. */
    private int tick;
    private int pendingPolls = 2;
    private int notFoundDescribes;
    private int deregisteredListedPolls = 2;
    private int inUseAfterDeregister;
    private boolean failNext;

    /**
     * @param release told the id of an image whose snapshots are all deleted: what backs its data may go
     */
    BakedImages(Object lock, Function<String, String> newId, Consumer<String> release) {
        this.lock = lock;
        this.newId = newId;
        this.release = release;
    }

    // ------------------------------------------------------------------ behaviour settings

    /** New images stay pending for this many DescribeImages calls (default 2). */
    public BakedImages pendingPolls(int polls) {
        synchronized (lock) {
            pendingPolls = polls;
        }
        return this;
    }

    /** Eventual consistency: a new image is unknown ({@code InvalidAMIID.NotFound}) to this many DescribeImages calls. */
    public BakedImages notFoundDescribesAfterCreate(int polls) {
        synchronized (lock) {
            notFoundDescribes = polls;
        }
        return this;
    }

    /** A deregistered image is still listed (state {@code deregistered}) for this many DescribeImages calls (default 2). */
    public BakedImages deregisteredListedPolls(int polls) {
        synchronized (lock) {
            deregisteredListedPolls = polls;
        }
        return this;
    }

    /** Eventual consistency: a deregistered image's snapshots still answer InvalidSnapshot.InUse to this many deletes. */
    public BakedImages snapshotInUseAfterDeregister(int deletes) {
        synchronized (lock) {
            inUseAfterDeregister = deletes;
        }
        return this;
    }

    /** The next image CreateImage makes ends {@code failed} instead of {@code available}. */
    public BakedImages failNextImage() {
        synchronized (lock) {
            failNext = true;
        }
        return this;
    }

    // ------------------------------------------------------------------ inspection

    /** Every image ever made here, deregistered ones included. */
    public List<ImageView> images() {
        synchronized (lock) {
            return amis.values().stream().map(a -> new ImageView(a.id, a.name, state(a), a.instanceId, a.noReboot,
                    Map.copyOf(a.tags), List.copyOf(a.snapshotIds))).toList();
        }
    }

    /** Images that are not deregistered. */
    public List<ImageView> registered() {
        return images().stream().filter(i -> !i.state().equals("deregistered")).toList();
    }

    /** Snapshots that exist (not deleted). */
    public List<SnapshotView> snapshots() {
        synchronized (lock) {
            return snapshots.values().stream().filter(s -> !s.deleted)
                    .map(s -> new SnapshotView(s.id, status(s), s.volumeId, Map.copyOf(s.tags))).toList();
        }
    }

    // ------------------------------------------------------------------ state

    private String state(Ami a) {
        if (a.deregisteredAt != null) {
            return "deregistered";
        }
        if (tick - a.createdAt <= pendingPolls || !a.data.isDone()) {
            return "pending";
        }
        return a.fails || a.data.isCompletedExceptionally() ? "failed" : "available";
    }

    private String status(Snap s) {
        Ami a = amis.get(s.imageId);
        if (a == null) {
            return "completed";
        }
        if (a.deregisteredAt != null) {
            return a.fails ? "error" : "completed";
        }
        String state = state(a);
        return state.equals("pending") ? "pending" : state.equals("failed") ? "error" : "completed";
    }

    private boolean listed(Ami a) {
        return tick - a.createdAt > notFoundDescribes
                && (a.deregisteredAt == null || tick - a.deregisteredAt <= deregisteredListedPolls);
    }

    // ------------------------------------------------------------------ operations (called under the fake's lock)

    /**
     * @param capture asks the backend to keep the instance's disk as this image's data (instance id, image id); the
     *                image is pending until the future completes
     */
    String createImage(QueryForm q, Function<String, InstanceFacts> instances,
                       BiFunction<String, String, CompletableFuture<?>> capture) {
        String instanceId = required(q, "InstanceId");
        String name = required(q, "Name");
        if (!NAME.matcher(name).matches()) {
            throw Ec2Error.of("InvalidAMIName.Malformed", "AMI names must be between 3 and 128 characters long, and"
                    + " may contain letters, numbers, '(', ')', '.', '-', '/' and '_'");
        }
        Map<String, Map<String, String>> tagSpecs = q.tagSpecifications();
        for (String type : tagSpecs.keySet()) {
            if (!TAGGABLE.contains(type)) {
                throw Ec2Error.of("InvalidParameterValue", "'" + type + "' is not a valid taggable resource type for"
                        + " this operation.");
            }
        }
        InstanceFacts instance = instances.apply(instanceId);
        if (instance == null) {
            throw Ec2Error.of("InvalidInstanceID.NotFound", "The instance ID '" + instanceId + "' does not exist");
        }
        if (!instance.state().equals("running") && !instance.state().equals("stopped")) {
            throw Ec2Error.of("IncorrectInstanceState", "The instance '" + instanceId + "' is not in a state from"
                    + " which it can be imaged (" + instance.state() + ")");
        }
        for (Ami a : amis.values()) {
            if (a.deregisteredAt == null && a.name.equals(name)) {
                throw Ec2Error.of("InvalidAMIName.Duplicate", "AMI name " + name + " is already in use by AMI " + a.id);
            }
        }
        Ami a = new Ami();
        a.id = newId.apply("ami-");
        a.name = name;
        a.description = q.get("Description");
        a.instanceId = instanceId;
        a.noReboot = "true".equals(q.get("NoReboot"));
        a.creationDate = Instant.now().truncatedTo(ChronoUnit.MILLIS).toString();
        a.createdAt = tick;
        a.fails = failNext;
        failNext = false;
        a.tags.putAll(tagSpecs.getOrDefault("image", Map.of()));
        Snap s = new Snap();
        s.id = newId.apply("snap-");
        s.volumeId = instance.volumeId();
        s.imageId = a.id;
        s.description = "Created by CreateImage(" + instanceId + ") for " + a.id;
        s.startTime = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        s.tags.putAll(tagSpecs.getOrDefault("snapshot", Map.of()));
        a.snapshotIds.add(s.id);
        amis.put(a.id, a);
        snapshots.put(s.id, s);
        a.data = capture.apply(instanceId, a.id);
        return new Xml().el("imageId", a.id).toString();
    }

    /** One catalogue (public) image as {@link Ec2Fake#addImage} seeded it. */
    record CatalogImage(String id, String name, String creationDate, String owner, String state, String arch) {
    }

    String describeImages(QueryForm q, List<CatalogImage> catalogue, String ownerId) {
        tick++;
        List<String> owners = q.list("Owner").stream().map(o -> o.equals("self") ? ownerId : o).toList();
        List<String> ids = q.list("ImageId");
        for (String id : ids) {
            boolean known = amis.containsKey(id) && tick - amis.get(id).createdAt > notFoundDescribes
                    || catalogue.stream().anyMatch(c -> c.id().equals(id));
            if (!known) {
                throw Ec2Error.of("InvalidAMIID.NotFound", "The image id '[" + id + "]' does not exist");
            }
        }
        List<QueryForm.FilterSpec> filters = q.filters();
        List<Object> selection = new ArrayList<>();
        for (CatalogImage c : catalogue) {
            if ((owners.isEmpty() || owners.contains(c.owner())) && (ids.isEmpty() || ids.contains(c.id()))
                    && Ec2Fake.matches(filters, f -> catalogueAttribute(c, f))) {
                selection.add(c);
            }
        }
        for (Ami a : amis.values()) {
            if (listed(a) && (owners.isEmpty() || owners.contains(ownerId)) && (ids.isEmpty() || ids.contains(a.id))
                    && Ec2Fake.matches(filters, f -> amiAttribute(a, f, ownerId))) {
                selection.add(a);
            }
        }
        Ec2Fake.Page<Object> page = Ec2Fake.page(selection, q, 5);
        Xml x = new Xml().open("imagesSet");
        for (Object o : page.items()) {
            if (o instanceof CatalogImage i) {
                x.open("item").el("imageId", i.id()).el("imageLocation", "amazon/" + i.name()).el("imageState", i.state())
                        .el("imageOwnerId", i.owner()).el("creationDate", i.creationDate()).el("isPublic", true)
                        .el("architecture", i.arch()).el("imageType", "machine").el("name", i.name())
                        .el("rootDeviceType", "ebs").el("rootDeviceName", "/dev/sda1").el("virtualizationType", "hvm")
                        .el("hypervisor", "xen").el("enaSupport", true).close("item");
            } else {
                amiXml(x, (Ami) o, ownerId);
            }
        }
        return x.close("imagesSet").el("nextToken", page.nextToken()).toString();
    }

    private void amiXml(Xml x, Ami a, String ownerId) {
        String state = state(a);
        x.open("item").el("imageId", a.id).el("imageLocation", ownerId + "/" + a.name).el("imageState", state)
                .el("imageOwnerId", ownerId).el("creationDate", a.creationDate).el("isPublic", false)
                .el("architecture", "x86_64").el("imageType", "machine").el("name", a.name)
                .el("description", a.description).el("rootDeviceType", "ebs").el("rootDeviceName", "/dev/sda1")
                .open("blockDeviceMapping");
        if (!state.equals("deregistered")) {
            for (String sid : a.snapshotIds) {
                x.open("item").el("deviceName", "/dev/sda1").open("ebs").el("snapshotId", sid).el("volumeSize", 8)
                        .el("deleteOnTermination", true).el("volumeType", "gp2").el("encrypted", false)
                        .close("ebs").close("item");
            }
        }
        x.close("blockDeviceMapping").el("virtualizationType", "hvm").el("hypervisor", "xen").el("enaSupport", true);
        if (state.equals("failed")) {
            // The reference documents stateReason but no failure text; this one is the fake's own.
            x.open("stateReason").el("code", "Server.InternalError")
                    .el("message", "Server.InternalError: Internal error while creating the image (fake)")
                    .close("stateReason");
        }
        Ec2Fake.tagSet(x, a.tags);
        x.close("item");
    }

    private static List<String> catalogueAttribute(CatalogImage c, String filter) {
        if (filter.startsWith("tag:") || filter.equals("tag-key")) {
            return List.of();
        }
        return switch (filter) {
            case "name" -> List.of(c.name());
            case "state" -> List.of(c.state());
            case "architecture" -> List.of(c.arch());
            case "owner-id" -> List.of(c.owner());
            case "image-id" -> List.of(c.id());
            case "is-public" -> List.of("true");
            case "image-type" -> List.of("machine");
            default -> null;
        };
    }

    private List<String> amiAttribute(Ami a, String filter, String ownerId) {
        if (filter.startsWith("tag:")) {
            String v = a.tags.get(filter.substring(4));
            return v == null ? List.of() : List.of(v);
        }
        return switch (filter) {
            case "name" -> List.of(a.name);
            case "state" -> List.of(state(a));
            case "architecture" -> List.of("x86_64");
            case "owner-id" -> List.of(ownerId);
            case "image-id" -> List.of(a.id);
            case "is-public" -> List.of("false");
            case "image-type" -> List.of("machine");
            case "tag-key" -> List.copyOf(a.tags.keySet());
            default -> null;
        };
    }

    String deregisterImage(QueryForm q) {
        String id = required(q, "ImageId");
        Ami a = amis.get(id);
        if (a == null) {
            throw Ec2Error.of("InvalidAMIID.NotFound", "The image id '[" + id + "]' does not exist");
        }
        if (a.deregisteredAt != null) {
            throw Ec2Error.of("InvalidAMIID.Unavailable", "The image id '[" + id + "]' has been deregistered and is"
                    + " no longer available");
        }
        a.deregisteredAt = tick;
        for (String sid : a.snapshotIds) {
            snapshots.get(sid).inUseAnswersLeft = inUseAfterDeregister;
        }
        if ("true".equals(q.get("DeleteAssociatedSnapshots"))) {
            a.snapshotIds.forEach(sid -> snapshots.get(sid).deleted = true);
            releaseIfUnbacked(a);
        }
        return new Xml().el("return", true).toString();
    }

    String deleteSnapshot(QueryForm q) {
        String id = required(q, "SnapshotId");
        Snap s = snapshots.get(id);
        if (s == null || s.deleted) {
            throw Ec2Error.of("InvalidSnapshot.NotFound", "The snapshot '" + id + "' does not exist.");
        }
        Ami a = amis.get(s.imageId);
        if (a != null && (a.deregisteredAt == null || s.inUseAnswersLeft-- > 0)) {
            throw Ec2Error.of("InvalidSnapshot.InUse", "The snapshot " + id + " is currently in use by " + a.id);
        }
        s.deleted = true;
        if (a != null) {
            releaseIfUnbacked(a);
        }
        return new Xml().el("return", true).toString();
    }

    /** An image's data lives in its snapshots: once the last one is deleted, the backend may let it go. */
    private void releaseIfUnbacked(Ami a) {
        if (!a.released && a.snapshotIds.stream().allMatch(sid -> snapshots.get(sid).deleted)) {
            a.released = true;
            release.accept(a.id);
        }
    }

    String describeSnapshots(QueryForm q, String ownerId) {
        List<String> ids = q.list("SnapshotId");
        for (String id : ids) {
            if (!snapshots.containsKey(id) || snapshots.get(id).deleted) {
                throw Ec2Error.of("InvalidSnapshot.NotFound", "The snapshot '" + id + "' does not exist.");
            }
        }
        List<String> owners = q.list("Owner").stream().map(o -> o.equals("self") ? ownerId : o).toList();
        List<QueryForm.FilterSpec> filters = q.filters();
        List<Snap> selection = snapshots.values().stream()
                .filter(s -> !s.deleted)
                .filter(s -> ids.isEmpty() || ids.contains(s.id))
                .filter(s -> owners.isEmpty() || owners.contains(ownerId))
                .filter(s -> Ec2Fake.matches(filters, f -> snapshotAttribute(s, f, ownerId)))
                .toList();
        Ec2Fake.Page<Snap> page = Ec2Fake.page(selection, q, 5);
        Xml x = new Xml().open("snapshotSet");
        for (Snap s : page.items()) {
            String status = status(s);
            x.open("item").el("snapshotId", s.id).el("volumeId", s.volumeId).el("status", status)
                    .el("startTime", s.startTime).el("progress", status.equals("pending") ? "0%" : "100%")
                    .el("ownerId", ownerId).el("volumeSize", 8).el("description", s.description).el("encrypted", false);
            Ec2Fake.tagSet(x, s.tags);
            x.el("storageTier", "standard").close("item");
        }
        return x.close("snapshotSet").el("nextToken", page.nextToken()).toString();
    }

    private List<String> snapshotAttribute(Snap s, String filter, String ownerId) {
        if (filter.startsWith("tag:")) {
            String v = s.tags.get(filter.substring(4));
            return v == null ? List.of() : List.of(v);
        }
        return switch (filter) {
            case "snapshot-id" -> List.of(s.id);
            case "volume-id" -> List.of(s.volumeId);
            case "status" -> List.of(status(s));
            case "owner-id" -> List.of(ownerId);
            case "description" -> List.of(s.description);
            case "tag-key" -> List.copyOf(s.tags.keySet());
            default -> null;
        };
    }

    /** Whether this id names one of this account's own (baked) images rather than a public catalogue image. */
    boolean isOwn(String imageId) {
        return amis.containsKey(imageId);
    }

    /** RunInstances with one of this account's images: it must be available. Other ids are the public catalogue's. */
    void checkLaunchable(String imageId) {
        Ami a = amis.get(imageId);
        if (a != null && !state(a).equals("available")) {
            throw Ec2Error.of("InvalidAMIID.Unavailable", "The image id '[" + imageId + "]' is " + state(a)
                    + " and cannot be launched");
        }
    }

    private static String required(QueryForm q, String name) {
        String v = q.get(name);
        if (v == null || v.isEmpty()) {
            throw Ec2Error.of("MissingParameter", "The request must contain the parameter " + name);
        }
        return v;
    }
}
