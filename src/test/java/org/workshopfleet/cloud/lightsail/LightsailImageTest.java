package org.workshopfleet.cloud.lightsail;

import org.workshopfleet.error.FleetException;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.workshopfleet.cloud.lightsail.LightsailScenario.WORKSHOP;
import static org.workshopfleet.cloud.lightsail.LightsailScenario.cloud;
import static org.workshopfleet.cloud.lightsail.LightsailScenario.context;
import static org.workshopfleet.cloud.lightsail.LightsailScenario.launchScript;
import static org.workshopfleet.cloud.lightsail.LightsailScenario.requests;
import static org.workshopfleet.cloud.lightsail.LightsailScenario.spec;
import static org.workshopfleet.cloud.lightsail.LightsailScenario.up;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.workshopfleet.cloud.ImageFailed;
import org.workshopfleet.cloud.LaunchContext;
import org.workshopfleet.cloud.Machine;
import org.workshopfleet.cloud.MachineImage;
import org.workshopfleet.cloud.RecipeHash;
import org.workshopfleet.cloud.RecordedResources;
import org.workshopfleet.cloud.lightsail.fake.Fault;
import org.workshopfleet.cloud.lightsail.fake.LightsailFake;
import org.workshopfleet.spec.Tags;
import org.workshopfleet.spec.WorkshopSpec;
import org.workshopfleet.ssh.SshKeyPair;

/** Bake mode on Lightsail: LightsailCloud's image methods on the real SDK client against the Lightsail stand-in. */
class LightsailImageTest {

    static final String RECIPE = sha256("recipe: ubuntu_22_04 + steps 01..07");
    private static final Duration BAKE_TIMEOUT = Duration.ofSeconds(20);
    private static final String BUILDER = WORKSHOP + "-01";

    private LightsailFake fake;
    private RecordedResources recorder;
    private LaunchContext context;

    @BeforeEach
    void start() {
        fake = LightsailFake.start("ap-northeast-1").pageSize(4).pendingPolls(2).snapshotPendingPolls(3);
        recorder = new RecordedResources();
        context = context(SshKeyPair.generate("workshop-fleet@" + WORKSHOP));
    }

    @AfterEach
    void stop() {
        fake.close();
    }

    static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private void builder(LightsailCloud cloud) {
        List<Machine> up = up(cloud, context, requests(spec(1), 1, 1));
        assertTrue(up.get(0).isRunningWithAddress(), up.toString());
    }

    private List<JsonNode> bodies(String operation) {
        return fake.requests().stream().filter(r -> r.operation().equals(operation)).map(LightsailFake.Request::body)
                .toList();
    }

    private static Map<String, String> tags(JsonNode array) {
        Map<String, String> out = new LinkedHashMap<>();
        array.forEach(t -> out.put(t.path("key").asText(), t.path("value").asText()));
        return out;
    }

    @Test
    void bakeFindLaunchTeardownThenRemoveTwice() {
        WorkshopSpec spec = spec(5);
        try (LightsailCloud cloud = cloud(fake, spec, recorder)) {
            builder(cloud);
            assertEquals(Optional.empty(), cloud.images().orElseThrow().findImage(RECIPE));

            MachineImage image = cloud.images().orElseThrow().captureImage(BUILDER, RECIPE, BAKE_TIMEOUT);

            String name = "workshop-fleet-" + RECIPE.substring(0, 12);
            assertEquals(name, image.id());
            assertEquals(name, image.name());
            assertEquals(RECIPE, image.recipeHash());
            assertNotNull(image.createdAt());
            JsonNode create = bodies("CreateInstanceSnapshot").get(0);
            assertEquals(name, create.path("instanceSnapshotName").asText());
            assertEquals(BUILDER, create.path("instanceName").asText());
            Map<String, String> expected = Map.of(Tags.MANAGED_BY, Tags.MANAGED_BY_VALUE, RecipeHash.TAG, RECIPE);
            assertEquals(expected, tags(create.path("tags")), "tagged at creation, never with the workshop");
            assertEquals("available", fake.snapshot(name).orElseThrow().state());
            assertEquals(Optional.of(image), cloud.images().orElseThrow().findImage(RECIPE));
            assertEquals(Optional.empty(), cloud.images().orElseThrow().findImage(sha256("another recipe")));

            LaunchContext fromImage = context.withImage(image.id());
            List<Machine> created = cloud.createNodes(fromImage, requests(spec, 2, 5));
            List<Machine> running = cloud.awaitRunning(created.stream().map(Machine::id).toList(), Duration.ofSeconds(20));
            assertTrue(running.stream().allMatch(Machine::isRunningWithAddress), running.toString());
            List<JsonNode> launches = bodies("CreateInstancesFromSnapshot");
            assertEquals(4, launches.size(), "one call per machine, as with CreateInstances");
            assertEquals(1, fake.count("CreateInstances"), "only the builder came from the blueprint");
            for (JsonNode b : launches) {
                String machine = b.path("instanceNames").get(0).asText();
                int attendee = Integer.parseInt(machine.substring(machine.length() - 2));
                assertEquals(name, b.path("instanceSnapshotName").asText());
                assertEquals(spec.lightsailBundle(), b.path("bundleId").asText());
                assertEquals(WORKSHOP + "-key", b.path("keyPairName").asText());
                assertEquals(launchScript(attendee), b.path("userData").asText());
                assertEquals("ipv4", b.path("ipAddressType").asText());
                assertEquals(WORKSHOP, tags(b.path("tags")).get(Tags.WORKSHOP));
            }
            for (Machine m : running) {
                assertEquals(4, fake.instance(m.id()).orElseThrow().ports().size(), "the firewall is put as usual");
            }

            cloud.teardown(recorder.live());

            assertEquals(Set.of(), fake.instances().stream().map(LightsailFake.InstanceView::name).collect(Collectors.toSet()));
            assertEquals(List.of(image), cloud.images().orElseThrow().listImages(), "teardown of the workshop leaves the image");
            assertEquals(0, fake.count("DeleteInstanceSnapshot"));

            cloud.images().orElseThrow().removeImage(image);
            assertEquals(List.of(), fake.snapshots());
            assertEquals(List.of(), cloud.images().orElseThrow().listImages());
            assertEquals(Optional.empty(), cloud.images().orElseThrow().findImage(RECIPE));

            cloud.images().orElseThrow().removeImage(image);
            assertEquals(List.of(), cloud.images().orElseThrow().listImages());
        }
    }

    @Test
    void snapshotStillPendingAfterACrashIsAdoptedNotMadeTwice() {
        fake.snapshotPendingPolls(1000);
        try (LightsailCloud first = cloud(fake, spec(1), recorder)) {
            builder(first);
            FleetException e = assertThrows(FleetException.class,
                    () -> first.images().orElseThrow().captureImage(BUILDER, RECIPE, Duration.ofMillis(30)));
            assertTrue(e.getMessage().contains("still pending"), e.getMessage());
        }
        fake.snapshotPendingPolls(3);
        try (LightsailCloud rerun = cloud(fake, spec(1), new RecordedResources())) {
            MachineImage image = rerun.images().orElseThrow().captureImage(BUILDER, RECIPE, BAKE_TIMEOUT);
            assertEquals(new RecipeHash(RECIPE).imageName(), image.id());
        }
        assertEquals(1, fake.snapshots().size());
        assertEquals(List.of(200, 400), fake.requests().stream().filter(r -> r.operation().equals("CreateInstanceSnapshot"))
                .map(LightsailFake.Request::status).toList(), "the second create met NameExists and adopted");
    }

    @Test
    void lostCreateInstanceSnapshotResponseIsAdopted() {
        try (LightsailCloud cloud = cloud(fake, spec(1), recorder)) {
            builder(cloud);
            fake.failNext("CreateInstanceSnapshot", Fault.LOST_RESPONSE);

            MachineImage image = cloud.images().orElseThrow().captureImage(BUILDER, RECIPE, BAKE_TIMEOUT);

            assertEquals("available", fake.snapshot(image.id()).orElseThrow().state());
        }
        assertEquals(1, fake.snapshots().size());
        assertEquals(List.of(500, 400), fake.requests().stream().filter(r -> r.operation().equals("CreateInstanceSnapshot"))
                .map(LightsailFake.Request::status).toList());
    }

    @Test
    void throttlingThatOutlastsTheSdkRetriesDuringTheWaitIsRiddenOut() {
        try (LightsailCloud cloud = cloud(fake, spec(1), recorder)) {
            builder(cloud);
            // The test client tries 8 times; 12 throttled answers in a row escape it once.
            for (int i = 0; i < 12; i++) {
                fake.failNext("GetInstanceSnapshot", Fault.THROTTLING);
            }

            MachineImage image = cloud.images().orElseThrow().captureImage(BUILDER, RECIPE, BAKE_TIMEOUT);

            assertEquals("available", fake.snapshot(image.id()).orElseThrow().state());
        }
        assertEquals(12, fake.requests().stream().filter(r -> r.operation().equals("GetInstanceSnapshot")
                && "ThrottlingException".equals(r.errorType())).count());
    }

    @Test
    void snapshotInErrorFailsClearlyAndTheNextBakeReplacesIt() {
        fake.failNextSnapshot();
        try (LightsailCloud cloud = cloud(fake, spec(1), recorder)) {
            builder(cloud);
            // An ImageFailed, which the baker reports as its builder's failure at "capture" with this reason.
            ImageFailed e = assertThrows(ImageFailed.class, () -> cloud.images().orElseThrow().captureImage(BUILDER, RECIPE, BAKE_TIMEOUT));
            assertTrue(e.getMessage().contains("state error"), e.getMessage());
            assertTrue(e.reason().endsWith(" ended in state error"), e.reason());
            assertFalse(e.getMessage().contains("\n"));

            MachineImage image = cloud.images().orElseThrow().captureImage(BUILDER, RECIPE, BAKE_TIMEOUT);

            assertEquals("available", fake.snapshot(image.id()).orElseThrow().state());
        }
        assertEquals(1, fake.count("DeleteInstanceSnapshot"), "the broken snapshot was deleted before the new one");
        assertEquals(1, fake.snapshots().size());
    }

    @Test
    void aNameHeldByAnotherResourceIsRefused() {
        String name = new RecipeHash(RECIPE).imageName();
        fake.addOtherResource(name, "StaticIp");
        try (LightsailCloud cloud = cloud(fake, spec(1), recorder)) {
            builder(cloud);
            FleetException e = assertThrows(FleetException.class, () -> cloud.images().orElseThrow().captureImage(BUILDER, RECIPE, BAKE_TIMEOUT));
            assertTrue(e.getMessage().contains("taken by another Lightsail resource"), e.getMessage());
        }
        assertEquals(List.of(), fake.snapshots());
    }

    @Test
    void aSnapshotOfTheSameNameButAnotherRecipeIsRefused() {
        try (LightsailCloud cloud = cloud(fake, spec(1), recorder)) {
            builder(cloud);
            String name = new RecipeHash(RECIPE).imageName();
            String collidingRecipe = RECIPE.substring(0, 12) + "0".repeat(52);
            try (var client = fake.newClient()) {
                client.createInstanceSnapshot(b -> b.instanceSnapshotName(name).instanceName(BUILDER)
                        .tags(t -> t.key(Tags.MANAGED_BY).value(Tags.MANAGED_BY_VALUE),
                                t -> t.key(RecipeHash.TAG).value(collidingRecipe)));
            }

            FleetException e = assertThrows(FleetException.class, () -> cloud.images().orElseThrow().captureImage(BUILDER, RECIPE, BAKE_TIMEOUT));

            assertTrue(e.getMessage().contains("not the workshop-fleet image of this recipe"), e.getMessage());
            assertEquals(Optional.empty(), cloud.images().orElseThrow().findImage(RECIPE));
        }
        assertEquals(0, fake.count("DeleteInstanceSnapshot"));
    }

    @Test
    void listAndFindPageThroughAllSnapshots() {
        try (LightsailCloud cloud = cloud(fake, spec(1), recorder)) {
            builder(cloud);
            for (int n = 0; n < 6; n++) {
                cloud.images().orElseThrow().captureImage(BUILDER, sha256("recipe " + n), BAKE_TIMEOUT);
            }
            fake.clearRequests();

            assertEquals(6, cloud.images().orElseThrow().listImages().size());
            assertEquals(2, fake.count("GetInstanceSnapshots"), "6 snapshots on pages of 4");
            assertEquals(sha256("recipe 5"), cloud.images().orElseThrow().findImage(sha256("recipe 5")).orElseThrow().recipeHash());
        }
    }

    @Test
    void launchingFromARemovedSnapshotFailsWithAOneLineHint() {
        WorkshopSpec spec = spec(3);
        try (LightsailCloud cloud = cloud(fake, spec, recorder)) {
            builder(cloud);
            MachineImage image = cloud.images().orElseThrow().captureImage(BUILDER, RECIPE, BAKE_TIMEOUT);
            cloud.images().orElseThrow().removeImage(image);

            FleetException e = assertThrows(FleetException.class,
                    () -> cloud.createNodes(context.withImage(image.id()), requests(spec, 2, 3)));

            assertTrue(e.getMessage().contains(image.id()) && e.getMessage().contains("bake it again"), e.getMessage());
        }
        assertEquals(Set.of(BUILDER), fake.instances().stream().map(LightsailFake.InstanceView::name)
                .collect(Collectors.toSet()));
    }
}
