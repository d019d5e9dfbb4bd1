package org.workshopfleet.cloud.ec2.fake;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.workshopfleet.ssh.SshKeyPair;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.DescribeInstancesRequest;
import software.amazon.awssdk.services.ec2.model.Ec2Exception;
import software.amazon.awssdk.services.ec2.model.Filter;
import software.amazon.awssdk.services.ec2.model.Instance;
import software.amazon.awssdk.services.ec2.model.InstanceStateName;
import software.amazon.awssdk.services.ec2.model.IpPermission;
import software.amazon.awssdk.services.ec2.model.IpRange;
import software.amazon.awssdk.services.ec2.model.Ipv6Range;
import software.amazon.awssdk.services.ec2.model.PrefixListId;
import software.amazon.awssdk.services.ec2.model.ResourceType;
import software.amazon.awssdk.services.ec2.model.RunInstancesRequest;
import software.amazon.awssdk.services.ec2.model.RunInstancesResponse;
import software.amazon.awssdk.services.ec2.model.Tag;
import software.amazon.awssdk.services.ec2.model.TagSpecification;
import software.amazon.awssdk.services.ec2.model.UserIdGroupPair;

/** The stand-in itself, driven by the real SDK client: wire format, statuses, state machine, paging, faults. */
class Ec2FakeTest {

    private final Ec2Fake fake = Ec2Fake.start();
    private final List<Ec2Client> clients = new ArrayList<>();

    @AfterEach
    void close() {
        clients.forEach(Ec2Client::close);
        fake.close();
    }

    private Ec2Client client() {
        Ec2Client c = fake.client();
        clients.add(c);
        return c;
    }

    private Ec2Client noRetryClient() {
        Ec2Client c = fake.client(AwsRetryStrategy.doNotRetry());
        clients.add(c);
        return c;
    }

    private String setUpGroupAndKey(Ec2Client ec2) {
        ec2.importKeyPair(r -> r.keyName("k").publicKeyMaterial(
                SdkBytes.fromUtf8String(SshKeyPair.generate("t").publicKeyLine())));
        return ec2.createSecurityGroup(r -> r.groupName("g").description("d")).groupId();
    }

    private RunInstancesResponse run(Ec2Client ec2, String sg, int count, String token, String tagValue) {
        return ec2.runInstances(RunInstancesRequest.builder().imageId("ami-08f191dd81ec3a3de").instanceType("t3.small")
                .keyName("k").minCount(count).maxCount(count).securityGroupIds(sg).clientToken(token)
                .userData(Base64.getEncoder().encodeToString("#cloud-config\n".getBytes(StandardCharsets.UTF_8)))
                .tagSpecifications(TagSpecification.builder().resourceType(ResourceType.INSTANCE)
                        .tags(Tag.builder().key("run").value(tagValue).build()).build())
                .build());
    }

    @ParameterizedTest
    @CsvSource({"RequestLimitExceeded,503", "InsufficientInstanceCapacity,500", "VcpuLimitExceeded,400",
            "InstanceLimitExceeded,400", "InvalidInstanceID.NotFound,400", "InvalidGroup.Duplicate,400",
            "InvalidGroup.NotFound,400", "InvalidPermission.Duplicate,400", "DependencyViolation,400",
            "InvalidKeyPair.Duplicate,400", "UnauthorizedOperation,403", "AuthFailure,401", "InternalError,500",
            "Unavailable,503", "ServiceUnavailable,503"})
    void injectedErrorsCarryTheRealStatusAndCode(String code, int status) {
        fake.faults().failNext("DescribeVpcs", code, 1);
        Ec2Exception e = assertThrows(Ec2Exception.class, () -> noRetryClient().describeVpcs());
        assertEquals(status, e.statusCode());
        assertEquals(code, e.awsErrorDetails().errorCode());
        assertEquals(code.equals("RequestLimitExceeded"), e.isThrottlingException());
        assertFalse(e.awsErrorDetails().errorMessage().isEmpty());
        assertTrue(e.requestId() != null && !e.requestId().isEmpty());
    }

    @Test
    void ingressTakesEveryKindOfSourceAndRevokeReportsWhatItDidNotFind() {
        Ec2Client ec2 = client();
        String sg = ec2.createSecurityGroup(r -> r.groupName("g").description("d").vpcId(Ec2Fake.DEFAULT_VPC)).groupId();
        String peer = ec2.createSecurityGroup(r -> r.groupName("peer").description("d").vpcId(Ec2Fake.DEFAULT_VPC))
                .groupId();
        IpPermission all = IpPermission.builder().ipProtocol("tcp").fromPort(22).toPort(22)
                .ipRanges(IpRange.builder().cidrIp("203.0.113.7/32").build())
                .ipv6Ranges(Ipv6Range.builder().cidrIpv6("::/0").build())
                .prefixListIds(PrefixListId.builder().prefixListId("pl-0123456789abcdef0").build())
                .userIdGroupPairs(UserIdGroupPair.builder().groupId(peer).build()).build();
        ec2.authorizeSecurityGroupIngress(r -> r.groupId(sg).ipPermissions(all));

        IpPermission described = ec2.describeSecurityGroups(r -> r.groupIds(sg)).securityGroups().get(0)
                .ipPermissions().get(0);
        assertEquals("203.0.113.7/32", described.ipRanges().get(0).cidrIp());
        assertEquals("::/0", described.ipv6Ranges().get(0).cidrIpv6());
        assertEquals("pl-0123456789abcdef0", described.prefixListIds().get(0).prefixListId());
        assertEquals(peer, described.userIdGroupPairs().get(0).groupId());
        assertEquals(Ec2Fake.OWNER_ID, described.userIdGroupPairs().get(0).userId());
        Ec2Exception duplicate = assertThrows(Ec2Exception.class, () -> ec2.authorizeSecurityGroupIngress(r -> r.groupId(sg)
                .ipPermissions(IpPermission.builder().ipProtocol("tcp").fromPort(22).toPort(22)
                        .ipv6Ranges(Ipv6Range.builder().cidrIpv6("::/0").build()).build())));
        assertEquals("InvalidPermission.Duplicate", duplicate.awsErrorDetails().errorCode());
        Ec2Exception malformed = assertThrows(Ec2Exception.class, () -> ec2.authorizeSecurityGroupIngress(r -> r.groupId(sg)
                .ipPermissions(IpPermission.builder().ipProtocol("tcp").fromPort(80).toPort(80)
                        .prefixListIds(PrefixListId.builder().prefixListId("not-a-list").build()).build())));
        assertEquals("InvalidPrefixListId.Malformed", malformed.awsErrorDetails().errorCode());

        // One revoke takes all four; a rule that is not there comes back in unknownIpPermissions (default VPC).
        List<IpPermission> unknown = ec2.revokeSecurityGroupIngress(r -> r.groupId(sg).ipPermissions(all,
                IpPermission.builder().ipProtocol("tcp").fromPort(80).toPort(80)
                        .ipv6Ranges(Ipv6Range.builder().cidrIpv6("2001:db8::/32").build()).build())).unknownIpPermissions();
        assertEquals(1, unknown.size());
        assertEquals("2001:db8::/32", unknown.get(0).ipv6Ranges().get(0).cidrIpv6());
        assertEquals(List.of(), fake.ingress("g"));
    }

    @Test
    void theStockImageIsCanonicalsAndATestCanGiveItAnotherOwner() {
        Ec2Client ec2 = client();
        assertEquals(Ec2Fake.CANONICAL_OWNER, ec2.describeImages(r -> r.imageIds(Ec2Fake.STOCK_AMI)).images().get(0)
                .ownerId());
        fake.addImage(Ec2Fake.STOCK_AMI, "look-alike", "2025-01-12T00:00:00.000Z", "111122223333", "available");
        assertEquals("111122223333", ec2.describeImages(r -> r.imageIds(Ec2Fake.STOCK_AMI)).images().get(0).ownerId());
    }

    @Test
    void theSdkRetriesThrottlingAndServerErrorsButNotClientErrors() {
        fake.faults().failNext("DescribeVpcs", "RequestLimitExceeded", 2).failNext("DescribeVpcs", "InternalError", 1);
        assertEquals(1, client().describeVpcs().vpcs().size());
        assertEquals(4, fake.calls("DescribeVpcs").size());

        fake.faults().failNext("DescribeKeyPairs", "DependencyViolation", 1);
        assertThrows(Ec2Exception.class, () -> client().describeKeyPairs());
        assertEquals(1, fake.calls("DescribeKeyPairs").size());
    }

    @Test
    void aFaultInsideTheStandInIsAnsweredAsInternalErrorWithItsStackTraceOnStderr() throws Exception {
        // A backend that fails where the fake calls it inside a request: releasing an image's data on DeleteSnapshot.
        InstanceBackend failsOnRelease = new InstanceBackend() {
            @Override
            public String boot(String instanceId, String rawUserData) {
                return "198.51.100.9";
            }

            @Override
            public void terminate(String instanceId) {
            }

            @Override
            public void release(String imageId) {
                throw new IllegalStateException("backend lost the disk of " + imageId);
            }
        };
        fake.backend(failsOnRelease).pendingPolls(0).bakedImages().pendingPolls(0);
        Ec2Client ec2 = noRetryClient();
        String builder = ec2.runInstances(r -> r.imageId("ami-0123456789abcdef0").instanceType("t3.small").minCount(1)
                .maxCount(1)).instances().get(0).instanceId();
        awaitState(() -> describe(ec2, builder).state().nameAsString(), "running");
        String image = ec2.createImage(r -> r.instanceId(builder).name("workshop-fleet-0123456789ab")).imageId();
        awaitState(() -> ec2.describeImages(r -> r.owners("self").imageIds(image)).images().get(0).stateAsString(),
                "available");
        String snapshot = ec2.describeImages(r -> r.owners("self").imageIds(image)).images().get(0)
                .blockDeviceMappings().get(0).ebs().snapshotId();
        ec2.deregisterImage(r -> r.imageId(image));

        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        java.io.PrintStream stderr = System.err;
        Ec2Exception e;
        System.setErr(new java.io.PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            e = assertThrows(Ec2Exception.class, () -> ec2.deleteSnapshot(r -> r.snapshotId(snapshot)));
        } finally {
            System.setErr(stderr);
        }

        assertEquals(500, e.statusCode());
        assertEquals("InternalError", e.awsErrorDetails().errorCode());
        assertTrue(e.awsErrorDetails().errorMessage().contains("backend lost the disk of " + image),
                e.awsErrorDetails().errorMessage());
        assertTrue(e.requestId() != null && !e.requestId().isEmpty());
        RecordedCall call = fake.calls("DeleteSnapshot").get(0);
        assertEquals(500, call.status());
        assertEquals("InternalError", call.errorCode());
        String log = err.toString(StandardCharsets.UTF_8);
        assertTrue(log.contains("java.lang.IllegalStateException: backend lost the disk of " + image)
                && log.contains("\tat "), "stack trace on stderr: " + log);
        stderr.print(log); // still in the test's own log
    }

    private static void awaitState(java.util.function.Supplier<String> state, String wanted)
            throws InterruptedException {
        String last = null;
        for (int i = 0; i < 200; i++) {
            last = state.get();
            if (last.equals(wanted)) {
                return;
            }
            Thread.sleep(10);
        }
        throw new AssertionError("still " + last + ", never " + wanted);
    }

    @Test
    void throttlingAtARateIsReproducibleForASeed() {
        List<Integer> first = throttledPattern(11);
        List<Integer> second = throttledPattern(11);
        assertEquals(first, second);
        long throttled = first.stream().filter(s -> s == 503).count();
        assertTrue(throttled > 5 && throttled < 20, "about 30 % of 40: " + throttled);
    }

    private List<Integer> throttledPattern(long seed) {
        try (Ec2Fake f = Ec2Fake.start(); Ec2Client c = f.client(AwsRetryStrategy.doNotRetry())) {
            f.faults().throttle(0.3, seed);
            for (int i = 0; i < 40; i++) {
                try {
                    c.describeVpcs();
                } catch (Ec2Exception ignored) {
                    // counted from the log
                }
            }
            return f.calls().stream().map(RecordedCall::status).toList();
        }
    }

    @Test
    void instancesArePendingWithoutAddressThenRunningThenTerminatedAndStillListed() {
        fake.pendingPolls(2).terminatingPolls(1).listedAfterTerminated(2);
        Ec2Client ec2 = client();
        String sg = setUpGroupAndKey(ec2);
        String id = run(ec2, sg, 1, "t-1", "a").instances().get(0).instanceId();

        Instance i = describe(ec2, id);
        assertEquals(InstanceStateName.PENDING, i.state().name());
        assertNull(i.publicIpAddress());
        describe(ec2, id);
        i = describe(ec2, id);
        assertEquals(InstanceStateName.RUNNING, i.state().name());
        assertTrue(i.publicIpAddress().startsWith("198.51.100."), i.publicIpAddress());
        assertTrue(i.publicDnsName().startsWith("ec2-198-51-100-"));

        assertEquals(InstanceStateName.SHUTTING_DOWN,
                ec2.terminateInstances(r -> r.instanceIds(id)).terminatingInstances().get(0).currentState().name());
        assertEquals(InstanceStateName.SHUTTING_DOWN, describe(ec2, id).state().name());
        assertEquals(InstanceStateName.TERMINATED, describe(ec2, id).state().name());
        assertEquals(InstanceStateName.TERMINATED, describe(ec2, id).state().name());
        Ec2Exception gone = assertThrows(Ec2Exception.class, () -> describe(ec2, id));
        assertEquals("InvalidInstanceID.NotFound", gone.awsErrorDetails().errorCode());
    }

    private static Instance describe(Ec2Client ec2, String id) {
        return ec2.describeInstances(r -> r.instanceIds(id)).reservations().get(0).instances().get(0);
    }

    @Test
    void oneUnknownIdFailsTheWholeDescribeAndTerminate() {
        Ec2Client ec2 = noRetryClient();
        String sg = setUpGroupAndKey(ec2);
        String id = run(ec2, sg, 1, "t-1", "a").instances().get(0).instanceId();

        Ec2Exception d = assertThrows(Ec2Exception.class,
                () -> ec2.describeInstances(r -> r.instanceIds(id, "i-0123456789abcdef0", "i-0fedcba9876543210")));
        assertEquals("The instance IDs 'i-0123456789abcdef0, i-0fedcba9876543210' do not exist",
                d.awsErrorDetails().errorMessage());
        assertThrows(Ec2Exception.class, () -> ec2.terminateInstances(r -> r.instanceIds(id, "i-0123456789abcdef0")));
        assertEquals(InstanceStateName.PENDING, describe(ec2, id).state().name(), "nothing was terminated");
    }

    @Test
    void newInstancesAreUnknownToTheFirstDescribesWhenAsked() {
        fake.notFoundDescribesAfterLaunch(2);
        Ec2Client ec2 = noRetryClient();
        String sg = setUpGroupAndKey(ec2);
        String id = run(ec2, sg, 1, "t-1", "a").instances().get(0).instanceId();
        assertThrows(Ec2Exception.class, () -> describe(ec2, id));
        assertTrue(ec2.describeInstances().reservations().isEmpty(), "not listed by filter either");
        assertEquals(id, describe(ec2, id).instanceId());
    }

    @Test
    void aRepeatedClientTokenReturnsTheSameReservation() {
        Ec2Client ec2 = client();
        String sg = setUpGroupAndKey(ec2);
        RunInstancesResponse first = run(ec2, sg, 3, "same", "a");
        RunInstancesResponse again = run(ec2, sg, 3, "same", "a");
        assertEquals(first.reservationId(), again.reservationId());
        assertEquals(first.instances().stream().map(Instance::instanceId).toList(),
                again.instances().stream().map(Instance::instanceId).toList());
        assertEquals(List.of(0, 1, 2), first.instances().stream().map(Instance::amiLaunchIndex).toList());
        assertEquals(3, fake.launchedInstanceCount());
    }

    @Test
    void tagFiltersStateFiltersAndPagingWork() {
        Ec2Client ec2 = client();
        String sg = setUpGroupAndKey(ec2);
        run(ec2, sg, 7, "t-a", "a");
        run(ec2, sg, 5, "t-b", "b");
        DescribeInstancesRequest byTag = DescribeInstancesRequest.builder()
                .filters(Filter.builder().name("tag:run").values("a").build(),
                        Filter.builder().name("instance-state-name").values("pending", "running").build())
                .maxResults(5).build();
        List<Instance> found = ec2.describeInstancesPaginator(byTag).reservations().stream()
                .flatMap(r -> r.instances().stream()).toList();
        assertEquals(7, found.size());
        List<RecordedCall> pages = fake.calls("DescribeInstances");
        assertEquals(2, pages.size());
        assertEquals("5", pages.get(1).param("MaxResults"));
        assertTrue(pages.get(1).param("NextToken") != null);
        assertEquals(12, ec2.describeInstances(r -> r.filters(Filter.builder().name("tag:run").values("?").build()))
                .reservations().stream().mapToInt(r -> r.instances().size()).sum(), "wildcards");
        Ec2Exception bad = assertThrows(Ec2Exception.class,
                () -> ec2.describeInstances(r -> r.filters(Filter.builder().name("no-such-filter").values("x").build())));
        assertEquals("InvalidParameterValue", bad.awsErrorDetails().errorCode());
    }

    @Test
    void userDataOverTheLimitIsRejected() {
        Ec2Client ec2 = noRetryClient();
        String sg = setUpGroupAndKey(ec2);
        String big = Base64.getEncoder().encodeToString(new byte[16385]);
        Ec2Exception e = assertThrows(Ec2Exception.class, () -> ec2.runInstances(r -> r.imageId("ami-0abcdef1234567890")
                .minCount(1).maxCount(1).securityGroupIds(sg).userData(big)));
        assertEquals("InvalidParameterValue", e.awsErrorDetails().errorCode());
        assertEquals(0, fake.launchedInstanceCount());
    }

    @Test
    void duplicatesAndDependencyViolationAreReported() {
        Ec2Client ec2 = noRetryClient();
        String sg = setUpGroupAndKey(ec2);
        assertEquals("InvalidGroup.Duplicate", assertThrows(Ec2Exception.class,
                () -> ec2.createSecurityGroup(r -> r.groupName("G").description("d"))).awsErrorDetails().errorCode());
        assertEquals("InvalidKeyPair.Duplicate", assertThrows(Ec2Exception.class,
                () -> ec2.importKeyPair(r -> r.keyName("k").publicKeyMaterial(
                        SdkBytes.fromUtf8String(SshKeyPair.generate("t").publicKeyLine()))))
                .awsErrorDetails().errorCode());
        String id = run(ec2, sg, 1, "t", "a").instances().get(0).instanceId();
        assertEquals("DependencyViolation", assertThrows(Ec2Exception.class,
                () -> ec2.deleteSecurityGroup(r -> r.groupId(sg))).awsErrorDetails().errorCode());
        ec2.terminateInstances(r -> r.instanceIds(id));
        for (int i = 0; i < 3; i++) {
            ec2.describeInstances(r -> r.instanceIds(id));
        }
        ec2.deleteSecurityGroup(r -> r.groupId(sg));
        assertEquals("InvalidGroup.NotFound", assertThrows(Ec2Exception.class,
                () -> ec2.deleteSecurityGroup(r -> r.groupId(sg))).awsErrorDetails().errorCode());
        ec2.deleteKeyPair(r -> r.keyName("k"));
        ec2.deleteKeyPair(r -> r.keyName("k")); // 200 when absent
        assertTrue(fake.keyPairNames().isEmpty());
    }

    @Test
    void importedKeyMaterialArrivesAsTheOpenSshLine() {
        Ec2Client ec2 = client();
        SshKeyPair key = SshKeyPair.generate("facilitator@test");
        ec2.importKeyPair(r -> r.keyName("k").publicKeyMaterial(SdkBytes.fromUtf8String(key.publicKeyLine())));
        String sent = fake.calls("ImportKeyPair").get(0).param("PublicKeyMaterial");
        assertEquals(key.publicKeyLine(), new String(Base64.getDecoder().decode(sent), StandardCharsets.UTF_8));
        assertEquals("ed25519", ec2.describeKeyPairs().keyPairs().get(0).keyTypeAsString());
    }

    @Test
    void aBackendThatFailsToBootLeavesATerminatedInstance() {
        fake.backend(new InstanceBackend() {
            @Override
            public String boot(String instanceId, String rawUserData) {
                throw new IllegalStateException("no machine for you");
            }

            @Override
            public void terminate(String instanceId) {
            }
        }).pendingPolls(0);
        Ec2Client ec2 = client();
        String sg = setUpGroupAndKey(ec2);
        String id = run(ec2, sg, 1, "t", "a").instances().get(0).instanceId();
        Instance last = describe(ec2, id);
        for (int i = 0; i < 100 && last.state().name() != InstanceStateName.TERMINATED; i++) {
            last = describe(ec2, id);
        }
        assertEquals(InstanceStateName.TERMINATED, last.state().name());
        assertEquals("Server.InternalError", last.stateReason().code());
    }

    @Test
    void capacityPerZoneLaunchesWhatFitsWhenMinCountAllows() {
        fake.capacity("ap-northeast-1a", "t3.small", 2);
        Ec2Client ec2 = noRetryClient();
        String sg = setUpGroupAndKey(ec2);
        RunInstancesResponse r = ec2.runInstances(q -> q.imageId("ami-0abcdef1234567890").instanceType("t3.small")
                .minCount(1).maxCount(5).securityGroupIds(sg).placement(p -> p.availabilityZone("ap-northeast-1a")));
        assertEquals(2, r.instances().size());
        Ec2Exception e = assertThrows(Ec2Exception.class, () -> ec2.runInstances(q -> q.imageId("ami-0abcdef1234567890")
                .instanceType("t3.small").minCount(1).maxCount(1).securityGroupIds(sg)
                .placement(p -> p.availabilityZone("ap-northeast-1a"))));
        assertEquals(500, e.statusCode());
        assertTrue(e.awsErrorDetails().errorMessage().contains("ap-northeast-1c"), e.awsErrorDetails().errorMessage());
    }

    @Test
    void aBackendCanStandBehindRunInstances() throws InterruptedException {
        List<String> booted = new java.util.concurrent.CopyOnWriteArrayList<>();
        List<String> stopped = new java.util.concurrent.CopyOnWriteArrayList<>();
        fake.backend(new InstanceBackend() {
            @Override
            public String boot(String instanceId, String rawUserData) {
                booted.add(instanceId + ":" + rawUserData);
                return "10.231.0.77";
            }

            @Override
            public void terminate(String instanceId) {
                stopped.add(instanceId);
            }
        }).pendingPolls(0);
        Ec2Client ec2 = client();
        String sg = setUpGroupAndKey(ec2);
        String id = run(ec2, sg, 1, "t", "a").instances().get(0).instanceId();
        Instance running = describe(ec2, id);
        for (int i = 0; i < 100 && running.publicIpAddress() == null; i++) {
            Thread.sleep(10); // the backend boots in the background
            running = describe(ec2, id);
        }
        assertEquals("10.231.0.77", running.publicIpAddress());
        assertEquals(List.of(id + ":#cloud-config\n"), booted);
        ec2.terminateInstances(r -> r.instanceIds(id));
        ec2.terminateInstances(r -> r.instanceIds(id));
        for (int i = 0; i < 100 && stopped.isEmpty(); i++) {
            Thread.sleep(10);
        }
        assertEquals(List.of(id), stopped, "terminated once");
    }
}
