package org.workshopfleet.cloud.ec2;

import org.workshopfleet.error.FleetException;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.workshopfleet.cloud.ImageFailed;
import org.workshopfleet.cloud.LaunchContext;
import org.workshopfleet.cloud.Machine;
import org.workshopfleet.cloud.MachineImage;
import org.workshopfleet.cloud.RecipeHash;
import org.workshopfleet.cloud.RecordedResources;
import org.workshopfleet.cloud.ec2.fake.BakedImages;
import org.workshopfleet.cloud.ec2.fake.Ec2Fake;
import org.workshopfleet.cloud.ec2.fake.RecordedCall;
import org.workshopfleet.spec.Tags;
import software.amazon.awssdk.services.ec2.model.ResourceType;
import software.amazon.awssdk.services.ec2.model.TagSpecification;

/** Bake mode on EC2: Ec2Cloud's image methods on the real SDK client against the EC2 stand-in. */
class Ec2ImageContractTest {

    static final String RECIPE = sha256("recipe: ubuntu 22.04 + steps 01..07");
    private static final Duration BAKE_TIMEOUT = Duration.ofSeconds(20);

    private final FleetFixture fx = new FleetFixture();
    private final Ec2Fake fake = fx.fake;
    private final BakedImages baked = fake.bakedImages();

    @AfterEach
    void close() {
        fx.close();
    }

    static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A fleet of one running builder; returns its instance id. */
    private String builder(Ec2Cloud cloud) {
        List<Machine> up = fx.up(cloud, fx.requests(1, 1));
        assertTrue(up.get(0).isRunningWithAddress(), up.toString());
        return up.get(0).id();
    }

    @Test
    void bakeFindLaunchTeardownThenRemoveTwice() {
        RecordedResources recorder = new RecordedResources();
        Ec2Cloud cloud = fx.cloud(recorder);
        String builder = builder(cloud);
        assertEquals(Optional.empty(), cloud.images().orElseThrow().findImage(RECIPE));

        MachineImage image = cloud.images().orElseThrow().captureImage(builder, RECIPE, BAKE_TIMEOUT);

        assertTrue(image.id().startsWith("ami-"), image.toString());
        assertEquals("workshop-fleet-" + RECIPE.substring(0, 12), image.name());
        assertEquals(RECIPE, image.recipeHash());
        assertNotNull(image.createdAt());
        RecordedCall create = fake.calls("CreateImage").get(0);
        assertEquals(builder, create.param("InstanceId"));
        assertEquals(image.name(), create.param("Name"));
        assertEquals(null, create.param("NoReboot"), "EC2 reboots the builder so the snapshot is consistent");
        Map<String, String> expectedTags = Map.of(Tags.MANAGED_BY, Tags.MANAGED_BY_VALUE, RecipeHash.TAG, RECIPE,
                Tags.NAME, image.name());
        BakedImages.ImageView view = baked.registered().get(0);
        assertEquals("available", view.state());
        assertEquals(expectedTags, view.tags(), "tagged at creation, never with the workshop");
        assertEquals(1, baked.snapshots().size());
        assertEquals(expectedTags, baked.snapshots().get(0).tags());
        assertEquals(view.snapshotIds(), List.of(baked.snapshots().get(0).id()));

        assertEquals(Optional.of(image), cloud.images().orElseThrow().findImage(RECIPE));
        RecordedCall find = fake.calls("DescribeImages").get(fake.calls("DescribeImages").size() - 1);
        assertEquals(List.of("self"), find.list("Owner"));
        assertEquals(Optional.empty(), cloud.images().orElseThrow().findImage(sha256("another recipe")));

        LaunchContext fromImage = fx.context.withImage(image.id());
        List<Machine> created = cloud.createNodes(fromImage, fx.requests(2, 6));
        List<Machine> running = cloud.awaitRunning(created.stream().map(Machine::id).toList(), Duration.ofSeconds(20));
        assertTrue(running.stream().allMatch(Machine::isRunningWithAddress), running.toString());
        List<RecordedCall> launches = fake.calls("RunInstances");
        assertEquals(image.id(), launches.get(launches.size() - 1).param("ImageId"));
        assertEquals(5, launches.stream().filter(c -> image.id().equals(c.param("ImageId"))).count(),
                "every attendee machine launched from the baked image");
        assertNotEquals(image.id(), launches.get(0).param("ImageId"), "the builder came from the stock Ubuntu");

        cloud.teardown(recorder.live());

        assertEquals(0, fake.liveInstanceCount());
        assertEquals(Set.of(), fake.securityGroupNames());
        assertEquals(List.of(image), cloud.images().orElseThrow().listImages(), "teardown of the workshop leaves the image");
        assertEquals(1, baked.snapshots().size());
        assertTrue(fake.calls("DeregisterImage").isEmpty() && fake.calls("DeleteSnapshot").isEmpty());

        fake.clearCalls();
        cloud.images().orElseThrow().removeImage(image);

        assertEquals(List.of(), baked.registered());
        assertEquals(List.of(), baked.snapshots());
        List<String> order = fake.calls().stream().map(RecordedCall::operation)
                .filter(o -> o.equals("DeregisterImage") || o.equals("DeleteSnapshot")).toList();
        assertEquals(List.of("DeregisterImage", "DeleteSnapshot"), order, "deregister first, then the snapshot");
        assertEquals(List.of(), cloud.images().orElseThrow().listImages());
        assertEquals(Optional.empty(), cloud.images().orElseThrow().findImage(RECIPE));

        cloud.images().orElseThrow().removeImage(image);
        assertEquals(List.of(), cloud.images().orElseThrow().listImages());
    }

    @Test
    void aBuilderTerminatedAfterTheBakeDoesNotComeBackAsItsAttendee() {
        RecordedResources recorder = new RecordedResources();
        Ec2Cloud cloud = fx.cloud(recorder);
        String builder = builder(cloud);
        MachineImage image = cloud.images().orElseThrow().captureImage(builder, RECIPE, BAKE_TIMEOUT);
        cloud.destroyNodes(List.of(builder));

        // Per-machine user data: attendee 1 gets a RunInstances of its own, as the builder had.
        LaunchContext fromImage = fx.context.withImage(image.id());
        List<Machine> created = cloud.createNodes(fromImage, fx.requests(1, 3));
        List<Machine> running = cloud.awaitRunning(created.stream().map(Machine::id).toList(), Duration.ofSeconds(20));

        assertTrue(running.stream().allMatch(Machine::isRunningWithAddress), running.toString());
        assertFalse(running.stream().anyMatch(m -> m.id().equals(builder)), "attendee 1 is a new instance");
        assertEquals(4, fake.launchedInstanceCount());
        List<RecordedCall> launches = fake.calls("RunInstances");
        RecordedCall attendee1 = launches.stream().filter(c -> image.id().equals(c.param("ImageId"))
                && "01".equals(c.param("TagSpecification.1.Tag.1.Value"))).findFirst().orElse(null);
        assertNotNull(attendee1, "attendee 1 had its own launch from the image");
        assertNotEquals(launches.get(0).param("ClientToken"), attendee1.param("ClientToken"));
    }

    @Test
    void imageStillPendingAfterACrashIsAdoptedNotMadeTwice() {
        baked.pendingPolls(50);
        Ec2Cloud first = fx.cloud(new RecordedResources());
        String builder = builder(first);
        FleetException timedOut = assertThrows(FleetException.class,
                () -> first.images().orElseThrow().captureImage(builder, RECIPE, Duration.ofMillis(30)));
        assertTrue(timedOut.getMessage().contains("still pending"), timedOut.getMessage());
        String pendingId = baked.registered().get(0).id();

        baked.pendingPolls(3);
        MachineImage adopted = fx.cloud(new RecordedResources()).images().orElseThrow().captureImage(builder, RECIPE, BAKE_TIMEOUT);

        assertEquals(pendingId, adopted.id());
        assertEquals(1, baked.images().size(), "no second image");
        List<RecordedCall> creates = fake.calls("CreateImage");
        assertEquals(2, creates.size());
        assertEquals("InvalidAMIName.Duplicate", creates.get(1).errorCode());
    }

    @Test
    void lostCreateImageResponseIsAdopted() {
        Ec2Cloud cloud = fx.cloud(new RecordedResources());
        String builder = builder(cloud);
        fake.faults().failAfterNext("CreateImage", "InternalError", 1);

        MachineImage image = cloud.images().orElseThrow().captureImage(builder, RECIPE, BAKE_TIMEOUT);

        assertEquals(1, baked.images().size());
        assertEquals(baked.images().get(0).id(), image.id());
        assertEquals(List.of("InternalError", "InvalidAMIName.Duplicate"), fake.calls("CreateImage").stream()
                .map(RecordedCall::errorCode).toList());
    }

    @Test
    void throttlingThatOutlastsTheSdkRetriesDuringTheWaitIsRiddenOut() {
        Ec2Cloud cloud = fx.cloud(new RecordedResources());
        String builder = builder(cloud);
        // The test client tries 8 times; 12 throttled answers in a row escape it once.
        fake.faults().failNext("DescribeImages", "RequestLimitExceeded", 12);

        MachineImage image = cloud.images().orElseThrow().captureImage(builder, RECIPE, BAKE_TIMEOUT);

        assertEquals("available", baked.images().get(0).state());
        assertEquals(baked.images().get(0).id(), image.id());
        long throttled = fake.calls("DescribeImages").stream()
                .filter(c -> "RequestLimitExceeded".equals(c.errorCode())).count();
        assertEquals(12, throttled);
    }

    @Test
    void imageNotYetVisibleAfterCreateImageIsWaitedFor() {
        baked.notFoundDescribesAfterCreate(2);
        Ec2Cloud cloud = fx.cloud(new RecordedResources());
        String builder = builder(cloud);

        MachineImage image = cloud.images().orElseThrow().captureImage(builder, RECIPE, BAKE_TIMEOUT);

        assertEquals(baked.images().get(0).id(), image.id());
        assertTrue(fake.calls("DescribeImages").stream().anyMatch(c -> "InvalidAMIID.NotFound".equals(c.errorCode())));
    }

    @Test
    void failedImageFailsClearlyAndTheNextBakeReplacesIt() {
        baked.failNextImage();
        Ec2Cloud cloud = fx.cloud(new RecordedResources());
        String builder = builder(cloud);

        // An ImageFailed, which the baker reports as its builder's failure at "capture" with this reason.
        ImageFailed e = assertThrows(ImageFailed.class, () -> cloud.images().orElseThrow().captureImage(builder, RECIPE, BAKE_TIMEOUT));
        assertTrue(e.getMessage().contains("failed") && e.getMessage().contains("Internal error"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
        String failedId = baked.images().get(0).id();
        assertTrue(e.reason().startsWith(failedId + " ended failed: ") && e.reason().contains("Internal error"),
                e.reason());

        MachineImage image = cloud.images().orElseThrow().captureImage(builder, RECIPE, BAKE_TIMEOUT);

        assertNotEquals(failedId, image.id());
        assertEquals(List.of(image.id()), baked.registered().stream().map(BakedImages.ImageView::id).toList());
        assertEquals("available", baked.registered().get(0).state());
        assertEquals(1, baked.snapshots().size(), "the failed image's snapshot was deleted with it");
    }

    @Test
    void anImageNameHeldBySomethingElseIsRefused() {
        Ec2Cloud cloud = fx.cloud(new RecordedResources());
        String builder = builder(cloud);
        String name = new RecipeHash(RECIPE).imageName();
        fx.client().createImage(r -> r.instanceId(builder).name(name).tagSpecifications(TagSpecification.builder()
                .resourceType(ResourceType.IMAGE).tags(t -> t.key("Owner").value("someone")).build()));

        FleetException e = assertThrows(FleetException.class, () -> cloud.images().orElseThrow().captureImage(builder, RECIPE, BAKE_TIMEOUT));

        assertTrue(e.getMessage().contains("not the workshop-fleet image"), e.getMessage());
        assertEquals(1, baked.registered().size(), "the stranger's image is untouched");
        assertTrue(fake.calls("DeregisterImage").isEmpty());
    }

    @Test
    void removalInterruptedAfterDeregisterStillDeletesTheSnapshotFoundByTag() {
        Ec2Cloud cloud = fx.cloud(new RecordedResources());
        MachineImage image = cloud.images().orElseThrow().captureImage(builder(cloud), RECIPE, BAKE_TIMEOUT);
        // The earlier removal got as far as DeregisterImage before the process died.
        fx.client().deregisterImage(r -> r.imageId(image.id()));
        baked.deregisteredListedPolls(0);

        cloud.images().orElseThrow().removeImage(image);

        assertEquals(List.of(), baked.snapshots());
        RecordedCall search = fake.calls("DescribeSnapshots").get(0);
        assertEquals(List.of("self"), search.list("Owner"));
    }

    @Test
    void snapshotStillInUseRightAfterDeregisterIsRetried() {
        baked.snapshotInUseAfterDeregister(2);
        Ec2Cloud cloud = fx.cloud(new RecordedResources());
        MachineImage image = cloud.images().orElseThrow().captureImage(builder(cloud), RECIPE, BAKE_TIMEOUT);

        cloud.images().orElseThrow().removeImage(image);

        assertEquals(List.of(), baked.snapshots());
        assertEquals(java.util.Arrays.asList("InvalidSnapshot.InUse", "InvalidSnapshot.InUse", null), fake.calls("DeleteSnapshot")
                .stream().map(RecordedCall::errorCode).toList());
    }

    @Test
    void listShowsOnlyWorkshopFleetImagesOfAnyRecipe() {
        Ec2Cloud cloud = fx.cloud(new RecordedResources());
        String builder = builder(cloud);
        MachineImage a = cloud.images().orElseThrow().captureImage(builder, RECIPE, BAKE_TIMEOUT);
        MachineImage b = cloud.images().orElseThrow().captureImage(builder, sha256("recipe two"), BAKE_TIMEOUT);
        fx.client().createImage(r -> r.instanceId(builder).name("somebody-elses-image"));

        assertEquals(Set.of(a, b), Set.copyOf(cloud.images().orElseThrow().listImages()));
        assertEquals(Optional.of(b), cloud.images().orElseThrow().findImage(b.recipeHash()));
    }

    @Test
    void launchingFromARemovedImageFailsWithAOneLineHint() {
        RecordedResources recorder = new RecordedResources();
        Ec2Cloud cloud = fx.cloud(recorder);
        MachineImage image = cloud.images().orElseThrow().captureImage(builder(cloud), RECIPE, BAKE_TIMEOUT);
        cloud.images().orElseThrow().removeImage(image);

        FleetException e = assertThrows(FleetException.class,
                () -> cloud.createNodes(fx.context.withImage(image.id()), fx.requests(2, 3)));

        assertTrue(e.getMessage().contains(image.id()) && e.getMessage().contains("bake it again"), e.getMessage());
        assertEquals(1, fake.launchedInstanceCount(), "only the builder was ever launched");
    }

    @Test
    void theBakeCostsOneCreateImageAndAPollPerWaitAndTheLaunchNoImageCalls() {
        baked.pendingPolls(3);
        Ec2Cloud cloud = fx.cloud(new RecordedResources());
        String builder = builder(cloud);
        fake.clearCalls();

        MachineImage image = cloud.images().orElseThrow().captureImage(builder, RECIPE, BAKE_TIMEOUT);

        assertEquals(Map.of("CreateImage", 1L, "DescribeImages", 4L), fake.callCounts(),
                "pending for 3 polls, available on the 4th");
        fake.clearCalls();
        cloud.createNodes(fx.context.withImage(image.id()), fx.requests(2, 31));
        assertEquals(Map.of("DescribeInstances", 1L, "RunInstances", 30L), fake.callCounts(),
                "30 machines: one RunInstances each; no image lookup at launch");
    }

    @Test
    void aMalformedRecipeHashIsRefusedBeforeAnyCall() {
        Ec2Cloud cloud = fx.cloud(new RecordedResources());

        assertThrows(FleetException.class, () -> cloud.images().orElseThrow().findImage("abc123"));
        assertThrows(FleetException.class, () -> cloud.images().orElseThrow().captureImage("i-0123", RECIPE.toUpperCase(), BAKE_TIMEOUT));
        assertTrue(fake.calls().isEmpty());
    }

    @Test
    void imagesCarryNoWorkshopTagSoATeardownWithoutLedgerLeavesThem() {
        Ec2Cloud cloud = fx.cloud(new RecordedResources());
        MachineImage image = cloud.images().orElseThrow().captureImage(builder(cloud), RECIPE, BAKE_TIMEOUT);

        fx.cloud(new RecordedResources()).teardown(List.of());

        assertEquals(List.of(image), cloud.images().orElseThrow().listImages());
        Set<String> keys = baked.registered().get(0).tags().keySet();
        assertFalse(keys.contains(Tags.WORKSHOP), keys.toString());
        assertFalse(baked.snapshots().stream().flatMap(s -> s.tags().keySet().stream()).collect(Collectors.toSet())
                .contains(Tags.WORKSHOP));
    }
}
