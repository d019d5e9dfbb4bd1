package org.workshopfleet.cloud.lightsail.fake;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.workshopfleet.ssh.SshKeyPair;
import software.amazon.awssdk.services.lightsail.LightsailClient;
import software.amazon.awssdk.services.lightsail.model.InstanceSnapshot;
import software.amazon.awssdk.services.lightsail.model.InstanceSnapshotState;
import software.amazon.awssdk.services.lightsail.model.InvalidInputException;
import software.amazon.awssdk.services.lightsail.model.NotFoundException;

/** The stand-in's instance snapshots, through the real SDK: fields, states, name rules, launching from them. */
class LightsailSnapshotFakeTest {

    private LightsailFake fake;
    private LightsailClient client;

    @BeforeEach
    void start() {
        fake = LightsailFake.start("ap-northeast-1").pendingPolls(1).snapshotPendingPolls(1).pageSize(2);
        client = fake.newClient();
        client.createInstances(b -> b.instanceNames("src").availabilityZone("ap-northeast-1a")
                .blueprintId("ubuntu_22_04").bundleId("medium_3_0").ipAddressType("ipv4"));
        client.getInstance(b -> b.instanceName("src"));
        client.getInstance(b -> b.instanceName("src")); // running now
    }

    @AfterEach
    void stop() {
        client.close();
        fake.close();
    }

    private InstanceSnapshot get(String name) {
        return client.getInstanceSnapshot(b -> b.instanceSnapshotName(name)).instanceSnapshot();
    }

    @Test
    void aSnapshotIsPendingThenAvailableAndRemembersWhereItCameFrom() {
        client.createInstanceSnapshot(b -> b.instanceSnapshotName("snap-1").instanceName("src")
                .tags(t -> t.key("ImageRecipe").value("abc")));

        InstanceSnapshot pending = get("snap-1");
        assertEquals(InstanceSnapshotState.PENDING, pending.state());
        InstanceSnapshot available = get("snap-1");
        assertEquals(InstanceSnapshotState.AVAILABLE, available.state());
        assertEquals("src", available.fromInstanceName());
        assertEquals("medium_3_0", available.fromBundleId());
        assertEquals("ubuntu_22_04", available.fromBlueprintId());
        assertEquals("abc", available.tags().get(0).value());
        assertNotNull(available.createdAt());
        assertEquals("InstanceSnapshot", available.resourceTypeAsString());
    }

    @Test
    void snapshotNamesAreUniqueAcrossResourceTypes() {
        client.importKeyPair(b -> b.keyPairName("taken").publicKeyBase64(SshKeyPair.generate("k").publicKeyLine()));
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> client.createInstanceSnapshot(b -> b.instanceSnapshotName("taken").instanceName("src")));
        assertEquals("NameExists", e.code());

        client.createInstanceSnapshot(b -> b.instanceSnapshotName("snap-2").instanceName("src"));
        InvalidInputException clash = assertThrows(InvalidInputException.class,
                () -> client.createInstances(b -> b.instanceNames("snap-2").availabilityZone("ap-northeast-1a")
                        .blueprintId("ubuntu_22_04").bundleId("small_3_0")));
        assertEquals("NameExists", clash.code());
    }

    @Test
    void instancesLaunchFromAnAvailableSnapshotOnTheSameOrALargerBundleOnly() {
        client.createInstanceSnapshot(b -> b.instanceSnapshotName("snap-3").instanceName("src"));
        assertThrows(InvalidInputException.class, () -> client.createInstancesFromSnapshot(b -> b.instanceNames("c1")
                .availabilityZone("ap-northeast-1a").instanceSnapshotName("snap-3").bundleId("medium_3_0")),
                "still pending");
        get("snap-3");
        get("snap-3");
        assertThrows(InvalidInputException.class, () -> client.createInstancesFromSnapshot(b -> b.instanceNames("c1")
                .availabilityZone("ap-northeast-1a").instanceSnapshotName("snap-3").bundleId("small_3_0")));

        client.createInstancesFromSnapshot(b -> b.instanceNames("c1", "c2").availabilityZone("ap-northeast-1a")
                .instanceSnapshotName("snap-3").bundleId("large_3_0").userData("echo hi").ipAddressType("ipv4"));

        LightsailFake.InstanceView c1 = fake.instance("c1").orElseThrow();
        assertEquals("large_3_0", c1.bundleId());
        assertEquals("ubuntu_22_04", c1.blueprintId());
        assertEquals("echo hi", c1.userData());
        assertTrue(fake.instance("c2").isPresent());
        NotFoundException missing = assertThrows(NotFoundException.class, () -> client.createInstancesFromSnapshot(
                b -> b.instanceNames("c3").availabilityZone("ap-northeast-1a").instanceSnapshotName("nope")
                        .bundleId("large_3_0")));
        assertTrue(missing.getMessage().contains("nope"));
    }

    @Test
    void listingPagesAndDeletingTwiceAnswersNotFound() {
        for (String n : List.of("s-a", "s-b", "s-c")) {
            client.createInstanceSnapshot(b -> b.instanceSnapshotName(n).instanceName("src"));
        }
        var first = client.getInstanceSnapshots(b -> b.pageToken(null));
        assertEquals(2, first.instanceSnapshots().size());
        var second = client.getInstanceSnapshots(b -> b.pageToken(first.nextPageToken()));
        assertEquals(List.of("s-c"), second.instanceSnapshots().stream().map(InstanceSnapshot::name).toList());

        client.deleteInstanceSnapshot(b -> b.instanceSnapshotName("s-a"));
        assertThrows(NotFoundException.class, () -> client.deleteInstanceSnapshot(b -> b.instanceSnapshotName("s-a")));
        assertThrows(NotFoundException.class, () -> get("s-a"));
    }

    @Test
    void aPendingInstanceCannotBeSnapshotted() {
        client.createInstances(b -> b.instanceNames("fresh").availabilityZone("ap-northeast-1a")
                .blueprintId("ubuntu_22_04").bundleId("small_3_0"));
        assertThrows(InvalidInputException.class,
                () -> client.createInstanceSnapshot(b -> b.instanceSnapshotName("s-x").instanceName("fresh")));
        assertThrows(NotFoundException.class,
                () -> client.createInstanceSnapshot(b -> b.instanceSnapshotName("s-y").instanceName("ghost")));
        assertEquals(List.of(), fake.snapshots());
    }
}
