package org.workshopfleet.cloud.ec2.fake;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.workshopfleet.ssh.SshKeyPair;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.Ec2Exception;
import software.amazon.awssdk.services.ec2.model.Filter;
import software.amazon.awssdk.services.ec2.model.Image;
import software.amazon.awssdk.services.ec2.model.ImageState;
import software.amazon.awssdk.services.ec2.model.ResourceType;
import software.amazon.awssdk.services.ec2.model.Snapshot;
import software.amazon.awssdk.services.ec2.model.SnapshotState;
import software.amazon.awssdk.services.ec2.model.TagSpecification;

/** The stand-in's own AMIs and snapshots, driven by the real SDK client: wire names, states, error codes. */
class BakedImagesTest {

    private final Ec2Fake fake = Ec2Fake.start();
    private final List<Ec2Client> clients = new ArrayList<>();
    private Ec2Client ec2;
    private String instanceId;

    @BeforeEach
    void runningInstance() {
        ec2 = client();
        ec2.importKeyPair(r -> r.keyName("k").publicKeyMaterial(
                SdkBytes.fromUtf8String(SshKeyPair.generate("t").publicKeyLine())));
        instanceId = ec2.runInstances(r -> r.imageId("ami-0123456789abcdef0").instanceType("t3.small").keyName("k")
                .minCount(1).maxCount(1)).instances().get(0).instanceId();
        for (int i = 0; i < 3; i++) {
            ec2.describeInstances(r -> r.instanceIds(instanceId)); // pending -> running
        }
    }

    @AfterEach
    void close() {
        clients.forEach(Ec2Client::close);
        fake.close();
    }

    private Ec2Client client() {
        Ec2Client c = fake.client(AwsRetryStrategy.doNotRetry());
        clients.add(c);
        return c;
    }

    private String createImage(String name) {
        return ec2.createImage(r -> r.instanceId(instanceId).name(name).tagSpecifications(
                TagSpecification.builder().resourceType(ResourceType.IMAGE).tags(t -> t.key("Recipe").value("r1")).build(),
                TagSpecification.builder().resourceType(ResourceType.SNAPSHOT).tags(t -> t.key("Recipe").value("r1"))
                        .build())).imageId();
    }

    private Image describe(String id) {
        return ec2.describeImages(r -> r.owners("self").imageIds(id)).images().get(0);
    }

    private static String code(Ec2Exception e) {
        return e.awsErrorDetails().errorCode();
    }

    @Test
    void createImageIsPendingThenAvailableWithItsTaggedSnapshot() {
        String id = createImage("workshop-fleet-0123456789ab");

        Image pending = describe(id);
        assertEquals(ImageState.PENDING, pending.state());
        String snapshotId = pending.blockDeviceMappings().get(0).ebs().snapshotId();
        assertTrue(snapshotId.startsWith("snap-"), snapshotId);
        Snapshot snap = ec2.describeSnapshots(r -> r.ownerIds("self").snapshotIds(snapshotId)).snapshots().get(0);
        assertEquals(SnapshotState.PENDING, snap.state());
        assertEquals("r1", snap.tags().get(0).value());

        describe(id);
        Image available = describe(id);
        assertEquals(ImageState.AVAILABLE, available.state());
        assertEquals("workshop-fleet-0123456789ab", available.name());
        assertEquals("r1", available.tags().get(0).value());
        assertEquals(Boolean.FALSE, available.publicLaunchPermissions());
        assertTrue(available.creationDate().endsWith("Z"), available.creationDate());
        assertEquals(SnapshotState.COMPLETED,
                ec2.describeSnapshots(r -> r.snapshotIds(snapshotId)).snapshots().get(0).state());
    }

    @Test
    void theNameIsUniqueAndTheSnapshotCannotBeDeletedWhileTheImageIsRegistered() {
        String id = createImage("dup-name");
        Ec2Exception dup = assertThrows(Ec2Exception.class, () -> createImage("dup-name"));
        assertEquals("InvalidAMIName.Duplicate", code(dup));
        assertTrue(dup.awsErrorDetails().errorMessage().contains(id));

        String snapshotId = describe(id).blockDeviceMappings().get(0).ebs().snapshotId();
        Ec2Exception inUse = assertThrows(Ec2Exception.class, () -> ec2.deleteSnapshot(r -> r.snapshotId(snapshotId)));
        assertEquals("InvalidSnapshot.InUse", code(inUse));
        assertEquals(400, inUse.statusCode());

        ec2.deregisterImage(r -> r.imageId(id));
        ec2.deleteSnapshot(r -> r.snapshotId(snapshotId));
        Ec2Exception gone = assertThrows(Ec2Exception.class, () -> ec2.deleteSnapshot(r -> r.snapshotId(snapshotId)));
        assertEquals("InvalidSnapshot.NotFound", code(gone));
        Ec2Exception again = assertThrows(Ec2Exception.class, () -> ec2.deregisterImage(r -> r.imageId(id)));
        assertEquals("InvalidAMIID.Unavailable", code(again));

        String reused = createImage("dup-name");
        assertFalse(reused.equals(id), "a deregistered image frees its name");
    }

    @Test
    void aDeregisteredImageIsListedForAWhileThenNoLonger() {
        fake.bakedImages().deregisteredListedPolls(1);
        String id = createImage("short-lived");
        ec2.deregisterImage(r -> r.imageId(id));

        Image deregistered = describe(id);
        assertEquals(ImageState.DEREGISTERED, deregistered.state());
        assertTrue(deregistered.blockDeviceMappings().isEmpty());
        assertEquals(List.of(), ec2.describeImages(r -> r.owners("self").imageIds(id)).images());
        Ec2Exception unknown = assertThrows(Ec2Exception.class,
                () -> ec2.describeImages(r -> r.imageIds("ami-0000000000000dead")));
        assertEquals("InvalidAMIID.NotFound", code(unknown));
    }

    @Test
    void ownerSelfAndTagFiltersSelectOnlyThisAccountsImages() {
        fake.addImage("ami-0aaaaaaaaaaaaaaaa", "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20250101",
                "2025-01-01T00:00:00.000Z", "099720109477", "available");
        String id = createImage("mine");

        assertEquals(List.of(id), ec2.describeImages(r -> r.owners("self")).images().stream().map(Image::imageId).toList());
        assertEquals(List.of(id), ec2.describeImages(r -> r.filters(Filter.builder().name("tag:Recipe").values("r1")
                .build())).images().stream().map(Image::imageId).toList());
        assertEquals(List.of(), ec2.describeImages(r -> r.owners("self").filters(Filter.builder().name("tag:Recipe")
                .values("other").build())).images());
        assertEquals(java.util.Set.of("ami-0aaaaaaaaaaaaaaaa", Ec2Fake.STOCK_AMI), ec2.describeImages(
                r -> r.owners("099720109477")).images().stream().map(Image::imageId).collect(java.util.stream.Collectors.toSet()));
    }

    @Test
    void runInstancesWantsABakedImageAvailable() {
        fake.bakedImages().pendingPolls(5);
        String id = createImage("not-yet");

        Ec2Exception e = assertThrows(Ec2Exception.class, () -> ec2.runInstances(r -> r.imageId(id)
                .instanceType("t3.small").minCount(1).maxCount(1)));
        assertEquals("InvalidAMIID.Unavailable", code(e));
    }

    @Test
    void createImageRefusesAPendingInstanceAndBadTagTypes() {
        String fresh = ec2.runInstances(r -> r.imageId("ami-0123456789abcdef0").instanceType("t3.small")
                .minCount(1).maxCount(1)).instances().get(0).instanceId();
        Ec2Exception pending = assertThrows(Ec2Exception.class, () -> ec2.createImage(r -> r.instanceId(fresh).name("x-1")));
        assertEquals("IncorrectInstanceState", code(pending));

        Ec2Exception badType = assertThrows(Ec2Exception.class, () -> ec2.createImage(r -> r.instanceId(instanceId)
                .name("x-2").tagSpecifications(TagSpecification.builder().resourceType(ResourceType.INSTANCE)
                        .tags(t -> t.key("a").value("b")).build())));
        assertEquals("InvalidParameterValue", code(badType));
        assertEquals(List.of(), fake.bakedImages().images());
    }

    @Test
    void aFailedImageCarriesAStateReason() {
        fake.bakedImages().failNextImage().pendingPolls(0);
        String id = createImage("will-fail");

        Image failed = describe(id);

        assertEquals(ImageState.FAILED, failed.state());
        assertTrue(failed.stateReason().message().contains("Internal error"), failed.stateReason().toString());
    }

    /** Records what the fake asks of a backend with disks; captures wait for {@link #captureMayFinish}. */
    private static final class DiskBackend implements InstanceBackend {
        final List<String> events = java.util.Collections.synchronizedList(new ArrayList<>());
        final java.util.concurrent.CountDownLatch captureMayFinish = new java.util.concurrent.CountDownLatch(1);
        volatile boolean captureFails;

        @Override
        public String boot(String instanceId, String rawUserData) {
            events.add("boot " + instanceId);
            return "198.51.100.7";
        }

        @Override
        public String bootFromImage(String instanceId, String imageId, String rawUserData) {
            events.add("boot " + instanceId + " from " + imageId);
            return "198.51.100.8";
        }

        @Override
        public void terminate(String instanceId) {
        }

        @Override
        public void capture(String instanceId, String imageId) {
            try {
                captureMayFinish.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (captureFails) {
                throw new IllegalStateException("disk unreadable");
            }
            events.add("capture " + instanceId + " as " + imageId);
        }

        @Override
        public void release(String imageId) {
            events.add("release " + imageId);
        }
    }

    private static String runningInstance(Ec2Client c, String image) throws InterruptedException {
        String id = c.runInstances(r -> r.imageId(image).instanceType("t3.small").minCount(1).maxCount(1))
                .instances().get(0).instanceId();
        for (int i = 0; i < 100; i++) {
            if (c.describeInstances(r -> r.instanceIds(id)).reservations().get(0).instances().get(0).state().nameAsString()
                    .equals("running")) {
                return id;
            }
            Thread.sleep(20);
        }
        throw new AssertionError(id + " never ran");
    }

    private static ImageState awaitSettled(Ec2Client c, String image) throws InterruptedException {
        for (int i = 0; i < 100; i++) {
            ImageState s = c.describeImages(r -> r.owners("self").imageIds(image)).images().get(0).state();
            if (s != ImageState.PENDING) {
                return s;
            }
            Thread.sleep(20);
        }
        throw new AssertionError(image + " stayed pending");
    }

    @Test
    void aBackendWithDisksBacksTheImageFromCaptureUntilItsSnapshotIsDeleted() throws Exception {
        DiskBackend disks = new DiskBackend();
        try (Ec2Fake withDisks = Ec2Fake.start()) {
            withDisks.backend(disks).bakedImages().pendingPolls(0);
            Ec2Client c = withDisks.client(AwsRetryStrategy.doNotRetry());
            clients.add(c);
            String builder = runningInstance(c, "ami-0123456789abcdef0");
            String image = c.createImage(r -> r.instanceId(builder).name("workshop-fleet-0123456789ab")).imageId();
            for (int i = 0; i < 5; i++) {
                assertEquals(ImageState.PENDING, c.describeImages(r -> r.owners("self").imageIds(image)).images().get(0)
                        .state(), "pending while the disk is being captured");
            }
            assertEquals("InvalidAMIID.Unavailable", code(assertThrows(Ec2Exception.class, () -> c.runInstances(r -> r
                    .imageId(image).instanceType("t3.small").minCount(1).maxCount(1)))));
            disks.captureMayFinish.countDown();
            assertEquals(ImageState.AVAILABLE, awaitSettled(c, image));

            String fromImage = runningInstance(c, image);
            assertEquals(List.of("boot " + builder, "capture " + builder + " as " + image,
                    "boot " + fromImage + " from " + image), disks.events);

            String snapshot = c.describeImages(r -> r.owners("self").imageIds(image)).images().get(0)
                    .blockDeviceMappings().get(0).ebs().snapshotId();
            c.deregisterImage(r -> r.imageId(image));
            assertFalse(disks.events.contains("release " + image), "a deregistered image's snapshot still holds its data");
            c.deleteSnapshot(r -> r.snapshotId(snapshot));
            assertEquals("release " + image, disks.events.get(disks.events.size() - 1));
            assertEquals(1, disks.events.stream().filter(e -> e.startsWith("release")).count());
        }
    }

    @Test
    void aCaptureThatFailsLeavesTheImageFailed() throws Exception {
        DiskBackend disks = new DiskBackend();
        disks.captureFails = true;
        disks.captureMayFinish.countDown();
        try (Ec2Fake withDisks = Ec2Fake.start()) {
            withDisks.backend(disks).bakedImages().pendingPolls(0);
            Ec2Client c = withDisks.client(AwsRetryStrategy.doNotRetry());
            clients.add(c);
            String builder = runningInstance(c, "ami-0123456789abcdef0");
            String image = c.createImage(r -> r.instanceId(builder).name("workshop-fleet-0123456789ab")).imageId();
            assertEquals(ImageState.FAILED, awaitSettled(c, image));
        }
    }
}
