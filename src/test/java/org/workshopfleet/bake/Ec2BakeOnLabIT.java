package org.workshopfleet.bake;

import org.workshopfleet.spec.Cidr;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.workshopfleet.command.CloudFactory;
import org.workshopfleet.command.Wiring;
import org.workshopfleet.cloud.RecipeHash;
import org.workshopfleet.cloud.ec2.AmiCatalog;
import org.workshopfleet.cloud.ec2.Ec2Cloud;
import org.workshopfleet.cloud.ec2.fake.BakedImages;
import org.workshopfleet.cloud.ec2.fake.Ec2Fake;
import org.workshopfleet.cloud.ec2.fake.RecordedCall;
import org.workshopfleet.cloud.lab.LabInstanceBackend;
import org.workshopfleet.cloud.lab.LabMachines;
import org.workshopfleet.cloud.lab.LabNetwork;
import org.workshopfleet.concurrent.Waiter;
import org.workshopfleet.e2e.DebianRendering;
import org.workshopfleet.spec.Provider;
import org.workshopfleet.spec.SourceLocations;
import org.workshopfleet.spec.Tags;
import org.workshopfleet.spec.WorkshopSpec;

/**
 * {@link BakeOnLabContract} on EC2's protocol: the real {@code Ec2Cloud} and SDK client against the EC2 STAND-IN
 * ({@link Ec2Fake}), whose instances are real Debian 12 lab machines and whose AMIs are real lab layers
 * ({@link LabInstanceBackend}).
 *
 * <p>It shows, in EC2's calls: the builder is launched from the stock AMI; CreateImage images that instance with the
 * recipe's tags on the image and its snapshot (never the workshop's); the image is awaited until available, and the
 * builder terminated, before any attendee launches; the attendees launch with the baked ImageId; teardown removes the
 * instances, the security group and the key pair but not the AMI or its snapshot; the later workshop launches from the
 * same AMI without a builder or a second CreateImage; remove-image deregisters it and deletes its snapshot (and with it
 * the lab layer).
 */
class Ec2BakeOnLabIT extends BakeOnLabContract {

    /** The stand-in destroys its machines in the background after TerminateInstances; the layer goes with the last. */
    private static final Waiter LAYER_RELEASED = new Waiter(Duration.ofMillis(500), Duration.ofMillis(500), 1.0, 0.0,
            Duration.ofMinutes(1));

    private final LabInstanceBackend backend = new LabInstanceBackend(name());
    private final Set<String> labNames = new LinkedHashSet<>();
    private final List<String> amis = new ArrayList<>();
    private Ec2Fake fake;
    private BakedImages.ImageView ami;
    private BakedImages.SnapshotView snapshot;

    @Override
    protected String name() {
        return "bake-ec2";
    }

    @Override
    protected void start() {
        fake = Ec2Fake.start();
        fake.backend(backend);
    }

    @Override
    protected WorkshopSpec spec(String workshop, Path stateDir, SourceLocations sources) {
        // The machines reach this host (the stand-ins) from the lab bridge: the fleet's ingress names it.
        return new WorkshopSpec(workshop, 2, Provider.EC2, Ec2Fake.REGION, null, null, Cidr.parse(LabNetwork.SUBNET), false, null, 8,
                stateDir, sources);
    }

    @Override
    protected Wiring wiring() {
        CloudFactory clouds = (spec, recorder) -> new Ec2Cloud(fake.client(), Ec2Cloud.config(spec), recorder, stockAmis(),
                new Waiter(Duration.ofMillis(500), Duration.ofSeconds(2), 1.5, 0.0, Duration.ofMinutes(2)));
        return wiring(clouds).withRendering(DebianRendering.FOR_LAB_MACHINES);
    }

    @Override
    protected Optional<String> imageId(String recipe) {
        return fake.bakedImages().registered().stream().filter(i -> recipe.equals(i.tags().get(RecipeHash.TAG)))
                .map(BakedImages.ImageView::id).findFirst();
    }

    @Override
    protected void assertBuilderGone(String workshop) {
        assertTrue(fake.instances().stream().filter(i -> (workshop + "-bake").equals(i.tags().get(Tags.NAME)))
                .allMatch(i -> i.state().equals("terminated") || i.state().equals("shutting-down")), "builder terminated");
    }

    @Override
    protected void afterBake(String recipe, String imageId) {
        rememberLabNames();
        String stockAmi = stockAmis().pinned(Ec2Fake.REGION).orElseThrow();
        List<RecordedCall> launches = succeeded(fake.calls("RunInstances"));
        assertEquals(3, launches.size(), "one builder, then two attendees: " + launches);
        RecordedCall builderLaunch = launches.get(0);
        assertEquals(name() + "-bake", instanceTag(builderLaunch, Tags.NAME), "the builder launches first");
        assertEquals(stockAmi, builderLaunch.param("ImageId"), "the builder starts from the stock AMI");
        String builderId = fake.instances().stream().filter(i -> (name() + "-bake").equals(i.tags().get(Tags.NAME)))
                .findFirst().orElseThrow().id();

        List<RecordedCall> creates = succeeded(fake.calls("CreateImage"));
        assertEquals(1, creates.size(), creates.toString());
        RecordedCall create = creates.get(0);
        assertEquals(builderId, create.param("InstanceId"), "CreateImage images the builder");
        Map<String, String> recipeTags = Map.of(Tags.MANAGED_BY, Tags.MANAGED_BY_VALUE, RecipeHash.TAG, recipe,
                Tags.NAME, "workshop-fleet-" + recipe.substring(0, 12));
        assertEquals(Map.of("image", recipeTags, "snapshot", recipeTags), create.tagSpecifications(),
                "the image and its snapshot carry the recipe's tags and no workshop tag");
        ami = single(fake.bakedImages().registered());
        amis.add(ami.id());
        assertEquals(imageId, ami.id());
        assertEquals("available", ami.state());
        assertEquals(recipeTags, ami.tags());
        snapshot = single(fake.bakedImages().snapshots());
        assertEquals(List.of(snapshot.id()), ami.snapshotIds());
        assertEquals(recipeTags, snapshot.tags());
        assertTrue(backend.layerOf(ami.id()).isPresent(), "a real lab layer backs the AMI");

        // Awaited: DescribeImages polled the new image, and no attendee launched before it was available.
        List<RecordedCall> all = fake.calls();
        int created = all.indexOf(create);
        int firstAttendee = all.indexOf(launches.get(1));
        assertTrue(all.subList(created, firstAttendee).stream().anyMatch(c -> c.operation().equals("DescribeImages")
                && c.list("ImageId").equals(List.of(ami.id()))), "the image was polled before the attendees launched");
        int builderTerminated = indexOf(all, "TerminateInstances", builderId);
        assertTrue(created < builderTerminated && builderTerminated < firstAttendee,
                "the builder is terminated after imaging, before the attendees launch");
        for (RecordedCall attendee : launches.subList(1, 3)) {
            assertEquals(ami.id(), attendee.param("ImageId"), "attendees launch from the baked AMI");
        }
    }

    @Override
    protected void assertTornDown(String workshop, String imageId) {
        assertEquals(0, fake.liveInstanceCount(), "no live instance after teardown");
        // name() is a prefix of the later workshop's name: neither workshop's group or key pair may be left.
        assertTrue(fake.securityGroupNames().stream().noneMatch(n -> n.contains(name())), "security group deleted");
        assertTrue(fake.keyPairNames().stream().noneMatch(n -> n.contains(name())), "key pair deleted");
        assertEquals(List.of(ami.id()), fake.bakedImages().registered().stream().map(BakedImages.ImageView::id).toList(),
                "teardown never deregisters the image");
        assertEquals(List.of(snapshot.id()), fake.bakedImages().snapshots().stream().map(BakedImages.SnapshotView::id)
                .toList(), "nor deletes its snapshot");
    }

    @Override
    protected void beforeReuse() {
        fake.clearCalls();
    }

    @Override
    protected void afterReuse(String imageId) {
        rememberLabNames();
        assertTrue(fake.calls("CreateImage").isEmpty(), "no second CreateImage");
        List<RecordedCall> relaunches = succeeded(fake.calls("RunInstances"));
        assertEquals(2, relaunches.size(), "two attendees, no builder: " + relaunches);
        relaunches.forEach(c -> assertEquals(imageId, c.param("ImageId"), "launched from the same AMI"));
        // EC2 lets an AMI in use be deregistered (the running instances keep their volumes): nothing to refuse here.
    }

    @Override
    protected void afterRemove(String imageId) {
        assertTrue(fake.bakedImages().registered().isEmpty(), "AMI deregistered");
        assertTrue(fake.bakedImages().snapshots().isEmpty(), "snapshot deleted");
        LAYER_RELEASED.until(() -> backend.layerOf(imageId).isEmpty(), Boolean::booleanValue, p -> { },
                "waiting for the lab layer behind " + imageId + " to go");
        assertTrue(backend.layerOf(imageId).isEmpty(), "the lab layer behind the snapshot is gone");
    }

    @Override
    protected void cleanUp(String recipe) {
        if (fake != null) {
            rememberLabNames();
            fake.close();
        }
        backend.destroyAll();
        backend.releaseAll(amis);
    }

    @Override
    protected List<String> labNames() {
        return List.copyOf(labNames);
    }

    /** The lab names of every instance the stand-in has made so far (it forgets terminated ones after a while). */
    private void rememberLabNames() {
        fake.instances().forEach(i -> labNames.add(LabMachines.PREFIX + i.id()));
    }

    private static AmiCatalog stockAmis() {
        return AmiCatalog.load(PROJECT.resolve("ami.properties"));
    }

    private static List<RecordedCall> succeeded(List<RecordedCall> calls) {
        return calls.stream().filter(c -> !c.failed()).toList();
    }

    private static String instanceTag(RecordedCall runInstances, String key) {
        return runInstances.tagSpecifications().getOrDefault("instance", Map.of()).get(key);
    }

    private static int indexOf(List<RecordedCall> calls, String operation, String instanceId) {
        for (int i = 0; i < calls.size(); i++) {
            if (calls.get(i).operation().equals(operation) && !calls.get(i).failed()
                    && calls.get(i).list("InstanceId").contains(instanceId)) {
                return i;
            }
        }
        throw new AssertionError("no " + operation + " of " + instanceId + " in " + calls);
    }

    private static <T> T single(List<T> list) {
        assertEquals(1, list.size(), list.toString());
        return list.get(0);
    }
}
