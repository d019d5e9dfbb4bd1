package org.workshopfleet.cloud.ec2;

import org.workshopfleet.error.FleetException;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.workshopfleet.cloud.Cloud;
import org.workshopfleet.cloud.CloudContract;
import org.workshopfleet.cloud.CloudResource;
import org.workshopfleet.cloud.LaunchConfig;
import org.workshopfleet.cloud.Machine;
import org.workshopfleet.cloud.MachineState;
import org.workshopfleet.cloud.NodeRequest;
import org.workshopfleet.cloud.RecordedResources;
import org.workshopfleet.cloud.ResourceKind;
import org.workshopfleet.cloud.ResourceRecorder;
import org.workshopfleet.cloud.ec2.fake.Ec2Fake;
import org.workshopfleet.cloud.ec2.fake.RecordedCall;
import org.workshopfleet.spec.Tags;
import org.workshopfleet.concurrent.Waiter;
import software.amazon.awssdk.services.ec2.model.IpPermission;
import software.amazon.awssdk.services.ec2.model.IpRange;
import software.amazon.awssdk.services.ec2.model.Ipv6Range;
import software.amazon.awssdk.services.ec2.model.PrefixListId;
import software.amazon.awssdk.services.ec2.model.UserIdGroupPair;

/**
 * Ec2Cloud on the real SDK client against the EC2 stand-in: the {@link CloudContract}, and what only EC2 does
 * (client tokens, zones and type fallback, quotas, the security group's rules, user data limits, throttling).
 */
class Ec2CloudContractTest extends CloudContract {

    private final FleetFixture fx = new FleetFixture();
    private final Ec2Fake fake = fx.fake;

    @AfterEach
    void close() {
        fx.close();
    }

    @Override
    protected String workshopName() {
        return fx.spec.name();
    }

    @Override
    protected LaunchConfig config(String workshop, int fleetSize) {
        return Ec2Cloud.config(fx.spec.withCount(fleetSize));
    }

    @Override
    protected Cloud cloud(LaunchConfig config, ResourceRecorder recorder) {
        return fx.cloud(config, recorder);
    }

    @Override
    protected String userData(LaunchConfig config, int attendee) {
        return "#cloud-config\nhostname: " + config.machineName(attendee) + "\n";
    }

    @Override
    protected Duration bootTimeout() {
        return Duration.ofSeconds(20);
    }

    @Override
    protected ResourceKind machineKind() {
        return ResourceKind.INSTANCE;
    }

    @Override
    protected Set<Capability> capabilities() {
        return EnumSet.allOf(Capability.class);
    }

    @Override
    protected boolean imageRoundTripIsCheap() {
        return true;
    }

    @Override
    protected Set<String> liveMachines(String workshop) {
        return fake.instances().stream().filter(i -> LIVE.contains(i.state()))
                .filter(i -> workshop.equals(i.tags().get(Tags.WORKSHOP))).map(Ec2Fake.InstanceView::id)
                .collect(Collectors.toSet());
    }

    private static final Set<String> LIVE = Set.of("pending", "running", "stopping", "stopped");

    @Override
    protected Set<String> sharedResources(String workshop) {
        Set<String> out = new TreeSet<>();
        fake.securityGroupNames().stream().filter(n -> n.contains(workshop)).forEach(n -> out.add("group " + n));
        fake.keyPairNames().stream().filter(n -> n.contains(workshop)).forEach(n -> out.add("key " + n));
        return out;
    }

    /** Every live machine admits what its security group (the workshop's) holds: "tcp 22-22 cidr" per rule. */
    @Override
    protected Set<String> admitted(String workshop) {
        Set<String> out = new TreeSet<>();
        for (String machine : liveMachines(workshop)) {
            for (String rule : fake.ingress(Tags.MANAGED_BY_VALUE + "-" + workshop)) {
                String[] f = rule.split(" ");
                String[] ports = f[1].split("-");
                out.add(machine + " " + f[0] + " " + (ports[0].equals(ports[1]) ? ports[0] : f[1]) + " " + f[2]);
            }
        }
        return out;
    }

    @Override
    protected Map<String, String> tagsOf(String machineId) {
        return fake.instances().stream().filter(i -> i.id().equals(machineId)).findFirst().orElseThrow().tags();
    }

    @Test
    void upAndTeardownCompleteWithThrottlingOnThirtyPercentOfCalls() {
        fake.faults().throttle(0.3, 7);
        RecordedResources recorder = new RecordedResources();
        Ec2Cloud cloud = fx.cloud(recorder);

        List<Machine> machines = fx.up(cloud, fx.requests(1, 12));

        assertEquals(12, machines.size());
        assertTrue(machines.stream().allMatch(Machine::isRunningWithAddress), machines.toString());
        assertEquals(Set.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12),
                machines.stream().map(Machine::attendee).collect(Collectors.toSet()));
        assertEquals(12, fake.liveInstanceCount());
        long throttled = fake.calls().stream().filter(c -> "RequestLimitExceeded".equals(c.errorCode())).count();
        assertTrue(throttled > 5, "throttling was injected " + throttled + " times");

        cloud.teardown(recorder.live());

        assertEquals(0, fake.liveInstanceCount());
        assertEquals(Set.of(), fake.securityGroupNames());
        assertEquals(Set.of(), fake.keyPairNames());
        assertEquals(List.of(), recorder.live(), "every created resource is recorded as deleted");
    }

    @Test
    void partialCapacityInEachZoneStillCompletesTheFleet() {
        fake.capacity("ap-northeast-1a", "t3.medium", 5).capacity("ap-northeast-1c", "t3.medium", 4)
                .capacity("ap-northeast-1d", "t3.medium", 3);
        RecordedResources recorder = new RecordedResources();

        List<Machine> machines = fx.up(fx.cloud(recorder), fx.requests(1, 10));

        assertTrue(machines.stream().allMatch(Machine::isRunningWithAddress), machines.toString());
        assertEquals(10, fake.liveInstanceCount());
        Map<String, Long> perZone = fake.instances().stream()
                .collect(Collectors.groupingBy(Ec2Fake.InstanceView::zone, TreeMap::new, Collectors.counting()));
        assertTrue(perZone.getOrDefault("ap-northeast-1a", 0L) <= 5 && perZone.getOrDefault("ap-northeast-1c", 0L) <= 4
                && perZone.getOrDefault("ap-northeast-1d", 0L) <= 3, perZone.toString());
        assertTrue(perZone.size() >= 2, "no zone alone had room for the fleet: " + perZone);
        assertEquals(Set.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10),
                machines.stream().map(Machine::attendee).collect(Collectors.toSet()));
        assertEquals(10, recorder.liveIds(ResourceKind.INSTANCE).size());
        List<RecordedCall> runs = fake.calls("RunInstances").stream().filter(c -> !c.failed()).toList();
        assertEquals(10, runs.size(), "one RunInstances per machine");
    }

    @Test
    void aMachineEc2WillNotPlaceWhereItChoosesIsTriedZoneByZone() {
        // More refusals than the SDK's attempts, so the launch itself sees the unplaced request fail.
        fake.faults().failNext("RunInstances", "InsufficientInstanceCapacity", 8);
        RecordedResources recorder = new RecordedResources();

        List<Machine> machines = fx.up(fx.cloud(recorder), fx.requests(1, 1));

        assertTrue(machines.get(0).isRunningWithAddress(), machines.toString());
        List<RecordedCall> runs = fake.calls("RunInstances").stream().filter(c -> !c.failed()).toList();
        assertEquals(1, runs.size());
        assertEquals("ap-northeast-1a", runs.get(0).param("Placement.AvailabilityZone"), "the first zone, sorted");
        assertEquals("ap-northeast-1a", fake.instances().get(0).zone());
        assertEquals(1, fake.calls("DescribeAvailabilityZones").size());
    }

    @Test
    void whenNoZoneHasCapacityTheNextInstanceTypeIsUsed() {
        for (String zone : fake.zones()) {
            fake.capacity(zone, "t3.medium", 1);
        }
        RecordedResources recorder = new RecordedResources();

        List<Machine> machines = fx.up(fx.cloud(recorder), fx.requests(1, 5));

        assertTrue(machines.stream().allMatch(Machine::isRunningWithAddress));
        Map<String, Long> perType = fake.instances().stream()
                .collect(Collectors.groupingBy(Ec2Fake.InstanceView::type, Collectors.counting()));
        assertEquals(Map.of("t3.medium", 3L, "t3a.medium", 2L), perType);
    }

    @Test
    void quotaTooSmallLaunchesNothingAndNamesTheLimit() {
        fake.vcpuLimit(1);
        Ec2Cloud cloud = fx.cloud(new RecordedResources());
        cloud.prepare(fx.context);

        FleetException e = assertThrows(FleetException.class,
                () -> cloud.createNodes(fx.context, fx.requests(1, 10)));

        assertEquals(0, fake.launchedInstanceCount());
        assertTrue(e instanceof org.workshopfleet.error.BadInput, "nothing launched: a refusal, exit 2: " + e);
        assertTrue(e.getMessage().contains("VcpuLimitExceeded"), e.getMessage());
        assertTrue(e.getMessage().contains("limit 1 vCPUs"), e.getMessage());
        assertTrue(e.getMessage().contains("needs 20 vCPUs"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void quotaReachedMidwayStopsLaunching() {
        fake.vcpuLimit(8);
        Ec2Cloud cloud = fx.cloud(new RecordedResources());
        cloud.prepare(fx.context);

        FleetException e = assertThrows(FleetException.class,
                () -> cloud.createNodes(fx.context, fx.requests(1, 40)));

        assertEquals(4, fake.launchedInstanceCount(), "per-machine launches fill the quota, then stop");
        long failed = fake.calls("RunInstances").stream().filter(RecordedCall::failed).count();
        assertTrue(failed >= 1 && failed <= Ec2Launcher.PARALLELISM,
                "only calls already in flight may still fail: " + failed);
        int attempts = fake.calls("RunInstances").size();
        assertTrue(attempts <= 4 + 2 * Ec2Launcher.PARALLELISM, "launching stopped; attempts: " + attempts);
        assertTrue(e.getMessage().contains("VcpuLimitExceeded") && e.getMessage().contains("limit 8 vCPUs"),
                e.getMessage());
    }

    @Test
    void instanceLimitIsReportedWithItsValue() {
        fake.instanceLimit(3);
        Ec2Cloud cloud = fx.cloud(new RecordedResources());
        cloud.prepare(fx.context);

        FleetException e = assertThrows(FleetException.class,
                () -> cloud.createNodes(fx.context, fx.requests(1, 5)));

        assertTrue(e.getMessage().contains("InstanceLimitExceeded") && e.getMessage().contains("0 more instances"),
                e.getMessage());
        assertTrue(e.getMessage().contains("3 launched and recorded"), e.getMessage());
        assertEquals(3, fake.launchedInstanceCount());
    }

    @Test
    void crashAfterRunInstancesBeforeTheLedgerIsAdoptedOnRerun() {
        List<NodeRequest> requests = fx.requests(1, 6);
        Ec2Cloud crashing = fx.cloud(RecordedResources.crashingOnFirstInstance());
        crashing.prepare(fx.context);
        assertThrows(IllegalStateException.class, () -> crashing.createNodes(fx.context, requests));
        int beforeCrash = fake.launchedInstanceCount();
        assertTrue(beforeCrash >= 1, "at least the crashed launch happened: " + beforeCrash);
        String orphan = fake.instances().stream().filter(i -> i.tags().get(Tags.ATTENDEE).equals("01")).findFirst()
                .map(Ec2Fake.InstanceView::id).orElse(fake.instances().get(0).id());

        RecordedResources recorder = new RecordedResources();
        Ec2Cloud rerun = fx.cloud(recorder);
        List<Machine> machines = fx.up(rerun, requests);

        assertEquals(6, fake.launchedInstanceCount(), "no duplicate instances");
        assertTrue(machines.stream().anyMatch(m -> m.id().equals(orphan)));
        assertTrue(recorder.liveIds(ResourceKind.INSTANCE).contains(orphan), "the adopted instance reaches the ledger");
        assertEquals(6, machines.stream().map(Machine::attendee).distinct().count());
    }

    @Test
    void theAttendeeTagHasTwoDigitsAsOnLightsailAndAnInstanceTaggedByAnEarlierVersionIsStillAdopted() {
        List<NodeRequest> requests = fx.requests(1, 2);
        fx.up(fx.cloud(new RecordedResources()), requests);
        assertEquals(Set.of("01", "02"), fake.instances().stream().map(i -> i.tags().get(Tags.ATTENDEE))
                .collect(Collectors.toSet()));
        // Earlier versions tagged attendee 1 as "1": a re-run must adopt it, not launch a second machine for it.
        String old = fake.instances().stream().filter(i -> i.tags().get(Tags.ATTENDEE).equals("01")).findFirst()
                .orElseThrow().id();
        try (var client = fake.client()) {
            client.createTags(b -> b.resources(old).tags(software.amazon.awssdk.services.ec2.model.Tag.builder()
                    .key(Tags.ATTENDEE).value("1").build()));
        }
        assertEquals("1", fake.instances().stream().filter(i -> i.id().equals(old)).findFirst().orElseThrow().tags()
                .get(Tags.ATTENDEE));

        List<Machine> again = fx.up(fx.cloud(new RecordedResources()), requests);
        assertEquals(2, fake.launchedInstanceCount(), "no second machine for attendee 1");
        assertTrue(again.stream().anyMatch(m -> m.id().equals(old) && m.attendee() == 1), again.toString());
    }

    @Test
    void crashWhileTheNewInstanceIsNotYetVisibleIsCaughtByTheClientToken() {
        fake.notFoundDescribesAfterLaunch(3);
        List<NodeRequest> requests = fx.requests(1, 1);
        Ec2Cloud crashing = fx.cloud(RecordedResources.crashingOnFirstInstance());
        crashing.prepare(fx.context);
        assertThrows(IllegalStateException.class, () -> crashing.createNodes(fx.context, requests));
        assertEquals(1, fake.launchedInstanceCount());

        RecordedResources recorder = new RecordedResources();
        Ec2Cloud rerun = fx.cloud(recorder);
        rerun.prepare(fx.context);
        List<Machine> machines = rerun.createNodes(fx.context, requests);

        assertEquals(1, fake.launchedInstanceCount(), "the repeated token returned the original reservation");
        List<RecordedCall> runs = fake.calls("RunInstances");
        assertEquals(2, runs.size());
        assertEquals(runs.get(0).param("ClientToken"), runs.get(1).param("ClientToken"));
        assertEquals(1, recorder.liveIds(ResourceKind.INSTANCE).size());
        assertEquals(List.of(1), machines.stream().map(Machine::attendee).toList());
    }

    @Test
    void dependencyViolationForSeveralPollsDoesNotStopTeardown() {
        fake.groupBusyDeletesAfterTerminate(4);
        RecordedResources recorder = new RecordedResources();
        Ec2Cloud cloud = fx.cloud(recorder);
        fx.up(cloud, fx.requests(1, 3));

        cloud.teardown(recorder.live());

        List<RecordedCall> deletes = fake.calls("DeleteSecurityGroup");
        assertEquals(5, deletes.size());
        assertEquals(4, deletes.stream().filter(c -> "DependencyViolation".equals(c.errorCode())).count());
        assertEquals(Set.of(), fake.securityGroupNames());
        assertEquals(Set.of(), fake.keyPairNames());
        assertEquals(List.of(), recorder.live());
    }

    @Test
    void teardownWithTheLedgerLostFindsEverythingByTag() {
        fx.up(fx.cloud(new RecordedResources()), fx.requests(1, 7));
        RecordedResources fresh = new RecordedResources();

        fx.cloud(fresh).teardown(List.of());

        assertEquals(0, fake.liveInstanceCount());
        assertEquals(Set.of(), fake.securityGroupNames());
        assertEquals(Set.of(), fake.keyPairNames());
        assertEquals(1, fake.calls("TerminateInstances").size(), "one TerminateInstances for the whole fleet");
        assertEquals(7, fake.calls("TerminateInstances").get(0).list("InstanceId").size());
        assertEquals(9, fresh.deleted().size(), "7 instances, the group and the key reported deleted");
    }

    @Test
    void teardownRightAfterACrashedLaunchCatchesInstancesThatWereNotYetVisible() {
        fake.notFoundDescribesAfterLaunch(3);
        RecordedResources crashing = RecordedResources.crashingOnFirstInstance();
        Ec2Cloud cloud = fx.cloud(crashing);
        cloud.prepare(fx.context);
        assertThrows(IllegalStateException.class, () -> cloud.createNodes(fx.context, fx.requests(1, 1)));
        assertEquals(1, fake.liveInstanceCount());

        fx.cloud(new RecordedResources()).teardown(crashing.live());

        assertEquals(0, fake.liveInstanceCount());
        assertEquals(Set.of(), fake.securityGroupNames());
        assertEquals(Set.of(), fake.keyPairNames());
    }

    @Test
    void secondTeardownFindsNothingAndSucceeds() {
        RecordedResources recorder = new RecordedResources();
        Ec2Cloud cloud = fx.cloud(recorder);
        fx.up(cloud, fx.requests(1, 4));
        List<CloudResource> everything = recorder.created();
        cloud.teardown(recorder.live());
        fake.clearCalls();

        fx.cloud(new RecordedResources()).teardown(List.of());
        Set<String> ops = fake.calls().stream().map(RecordedCall::operation).collect(Collectors.toSet());
        assertEquals(Set.of("DescribeInstances", "DescribeSecurityGroups", "DescribeKeyPairs"), ops);

        // A stale ledger naming resources that are already gone is fine too.
        fx.cloud(new RecordedResources()).teardown(everything);
        assertEquals(0, fake.liveInstanceCount());
    }

    @Test
    void ingressIsExactlyTheDeclaredPortsForExactlyTheCidr() {
        Ec2Cloud cloud = fx.cloud(new RecordedResources());
        cloud.prepare(fx.context);

        List<RecordedCall> authorize = fake.calls("AuthorizeSecurityGroupIngress");
        assertEquals(1, authorize.size());
        Map<String, String> p = authorize.get(0).params();
        Set<Integer> ports = new TreeSet<>();
        for (int i = 1; p.containsKey("IpPermissions." + i + ".IpProtocol"); i++) {
            String base = "IpPermissions." + i + ".";
            assertEquals("tcp", p.get(base + "IpProtocol"));
            assertEquals(p.get(base + "FromPort"), p.get(base + "ToPort"));
            assertEquals(FleetFixture.CIDR, p.get(base + "IpRanges.1.CidrIp"));
            assertFalse(p.containsKey(base + "IpRanges.2.CidrIp"));
            assertFalse(p.keySet().stream().anyMatch(k -> k.startsWith(base + "Ipv6Ranges")));
            ports.add(Integer.parseInt(p.get(base + "FromPort")));
        }
        assertEquals(Set.of(22, 80, 443, 3000), ports);
        assertEquals(List.of("tcp 22-22 " + FleetFixture.CIDR, "tcp 80-80 " + FleetFixture.CIDR,
                "tcp 3000-3000 " + FleetFixture.CIDR, "tcp 443-443 " + FleetFixture.CIDR),
                fake.ingress(cloud.securityGroupName()));

        // A rule someone added by hand is removed on the next prepare; nothing is authorized twice.
        String groupId = fx.client().describeSecurityGroups(r -> r.groupNames(cloud.securityGroupName()))
                .securityGroups().get(0).groupId();
        fx.client().authorizeSecurityGroupIngress(r -> r.groupId(groupId).ipProtocol("tcp").fromPort(8080)
                .toPort(8080).cidrIp("0.0.0.0/0"));
        fx.cloud(new RecordedResources()).prepare(fx.context);
        assertEquals(4, fake.ingress(cloud.securityGroupName()).size());
        assertFalse(fake.ingress(cloud.securityGroupName()).toString().contains("0.0.0.0/0"));
    }

    @Test
    void everyRunInstancesRequiresImdsV2AndTerminatesOnShutdownWithTagsOnInstanceAndVolume() {
        fake.capacity("ap-northeast-1a", "t3.medium", 2).capacity("ap-northeast-1c", "t3.medium", 2)
                .capacity("ap-northeast-1d", "t3.medium", 2);
        fx.up(fx.cloud(new RecordedResources()), fx.requests(1, 8));

        List<RecordedCall> runs = fake.calls("RunInstances");
        assertTrue(runs.size() >= 4, "several launches: " + runs.size());
        for (RecordedCall run : runs) {
            assertEquals("required", run.param("MetadataOptions.HttpTokens"));
            assertEquals("terminate", run.param("InstanceInitiatedShutdownBehavior"));
            assertTrue(run.param("ClientToken").startsWith("wf-"));
        }
        for (Ec2Fake.InstanceView i : fake.instances()) {
            assertEquals("required", i.httpTokens());
            assertEquals("terminate", i.shutdownBehavior());
            for (Map<String, String> tags : List.of(i.tags(), i.volumeTags())) {
                assertEquals(fx.spec.name(), tags.get(Tags.WORKSHOP));
                assertEquals(Tags.MANAGED_BY_VALUE, tags.get(Tags.MANAGED_BY));
                assertEquals(FleetFixture.EXPIRES.toString(), tags.get(Tags.EXPIRES_AT));
                assertTrue(tags.containsKey(Tags.ATTENDEE) && tags.containsKey(Tags.NAME));
            }
            assertEquals("#cloud-config\nhostname: " + i.tags().get(Tags.NAME) + "\n", i.userData(),
                    "each machine's own user data arrives base64-decoded intact");
        }
    }

    @Test
    void clientTokenIsStableAcrossSdkRetriesAndAcrossRuns() {
        fake.faults().failAfterNext("RunInstances", "InternalError", 1); // launched, but the response is lost
        Ec2Cloud cloud = fx.cloud(new RecordedResources());
        cloud.prepare(fx.context);
        cloud.createNodes(fx.context, fx.requests(1, 5));

        List<RecordedCall> runs = fake.calls("RunInstances");
        assertEquals(6, runs.size(), "the SDK retried one launch once");
        Set<String> tokens = runs.stream().map(c -> c.param("ClientToken")).collect(Collectors.toSet());
        assertEquals(5, tokens.size(), "the retry repeated its token");
        assertEquals(5, fake.launchedInstanceCount(), "the retry returned the first reservation");

        try (FleetFixture other = new FleetFixture()) {
            Ec2Cloud again = other.cloud(new RecordedResources());
            again.prepare(other.context);
            again.createNodes(other.context, other.requests(1, 5));
            assertEquals(tokens, other.fake.calls("RunInstances").stream().map(c -> c.param("ClientToken"))
                    .collect(Collectors.toSet()));
        }
    }

    @Test
    void theSameNameUpAgainAfterTeardownLaunchesNewMachinesNotTheRehearsalsReservation() {
        // A rehearsal, torn down, then the real morning under the same workshop name: EC2 answers a repeated token
        // with the original (now terminated) reservation, so the new fleet's tokens must differ.
        RecordedResources rehearsal = new RecordedResources();
        Ec2Cloud cloud = fx.cloud(rehearsal);
        fx.up(cloud, fx.requests(1, 3));
        Set<String> first = new HashSet<>();
        fake.calls("RunInstances").forEach(c -> first.add(c.param("ClientToken")));
        cloud.teardown(rehearsal.live());
        assertEquals(0, fake.liveInstanceCount());
        fake.clearCalls();

        RecordedResources morning = new RecordedResources();
        List<Machine> machines = fx.up(fx.cloud(morning), fx.requests(1, 3));

        fake.calls("RunInstances").forEach(c -> assertFalse(first.contains(c.param("ClientToken")),
                "a token of the torn-down fleet was sent again"));
        assertEquals(3, fake.liveInstanceCount(), "three new machines run");
        assertTrue(machines.stream().allMatch(m -> m.state() == MachineState.RUNNING), machines.toString());
    }

    @Test
    void distinctMachinesGetDistinctTokens() {
        Ec2Cloud cloud = fx.cloud(new RecordedResources());
        cloud.prepare(fx.context);
        cloud.createNodes(fx.context, fx.requests(1, 4));
        Set<String> tokens = new HashSet<>();
        fake.calls("RunInstances").forEach(c -> tokens.add(c.param("ClientToken")));
        assertEquals(4, tokens.size());
        assertTrue(tokens.stream().allMatch(t -> t.length() <= 64));
    }

    @Test
    void userDataOverSixteenKilobytesIsRejectedBeforeAnyCall() {
        Ec2Cloud cloud = fx.cloud(new RecordedResources());
        cloud.prepare(fx.context);
        fake.clearCalls();
        List<NodeRequest> requests = new ArrayList<>(fx.requests(1, 2));
        NodeRequest big = requests.get(1);
        requests.set(1, new NodeRequest(big.attendee(), big.name(), "#cloud-config\n" + "#".repeat(16384), big.tags()));

        FleetException e = assertThrows(FleetException.class, () -> cloud.createNodes(fx.context, requests));

        assertTrue(e.getMessage().contains(big.name()) && e.getMessage().contains("16384"), e.getMessage());
        assertEquals(List.of(), fake.calls());
    }

    @Test
    void userDataOfExactlySixteenKilobytesIsAccepted() {
        Ec2Cloud cloud = fx.cloud(new RecordedResources());
        cloud.prepare(fx.context);
        NodeRequest r = fx.requests(1, 1).get(0);
        String raw = "#cloud-config\n" + "#".repeat(16384 - 14);
        cloud.createNodes(fx.context, List.of(new NodeRequest(1, r.name(), raw, r.tags())));
        assertEquals(raw, fake.instances().get(0).userData());
    }

    @Test
    void awaitRunningPollsTheWholeFleetInOneCallAndToleratesNotFound() {
        fake.notFoundDescribesAfterLaunch(2).pendingPolls(3);
        Ec2Cloud cloud = fx.cloud(new RecordedResources());
        cloud.prepare(fx.context);
        List<Machine> created = cloud.createNodes(fx.context, fx.requests(1, 20));
        fake.clearCalls();

        List<Machine> reported = new ArrayList<>();
        List<Machine> running = cloud.awaitRunning(created.stream().map(Machine::id).toList(), Duration.ofSeconds(20),
                reported::add);

        assertTrue(running.stream().allMatch(Machine::isRunningWithAddress), running.toString());
        assertEquals(created.stream().map(Machine::id).toList(), running.stream().map(Machine::id).toList());
        // Each machine was handed over once, running with its address, from the poll that saw it so.
        assertEquals(java.util.Set.copyOf(running), java.util.Set.copyOf(reported));
        assertEquals(20, reported.size(), reported.toString());
        List<RecordedCall> polls = fake.calls("DescribeInstances");
        assertTrue(polls.size() <= 4, "polls: " + polls.size());
        assertTrue(polls.stream().anyMatch(c -> "InvalidInstanceID.NotFound".equals(c.errorCode())));
        assertEquals(20, polls.get(polls.size() - 1).list("InstanceId").size());
    }

    @Test
    void awaitRunningCopesWhenOnlySomeIdsAreUnknown() {
        Ec2Cloud cloud = fx.cloud(new RecordedResources());
        cloud.prepare(fx.context);
        List<Machine> first = cloud.createNodes(fx.context, fx.requests(1, 2));
        cloud.awaitRunning(first.stream().map(Machine::id).toList(), Duration.ofSeconds(5));
        fake.notFoundDescribesAfterLaunch(2);
        List<Machine> second = cloud.createNodes(fx.context, fx.requests(3, 4));
        List<String> ids = new ArrayList<>(first.stream().map(Machine::id).toList());
        second.stream().filter(m -> m.attendee() > 2).forEach(m -> ids.add(m.id()));
        fake.clearCalls();

        List<Machine> all = cloud.awaitRunning(ids, Duration.ofSeconds(20));

        assertEquals(4, all.size());
        assertTrue(all.stream().allMatch(Machine::isRunningWithAddress), all.toString());
        assertTrue(fake.calls("DescribeInstances").stream().anyMatch(RecordedCall::failed));
    }

    @Test
    void awaitRunningGivesUpAtTheTimeoutAndReturnsLastStates() {
        fake.pendingPolls(1_000_000);
        Ec2Cloud cloud = fx.cloud(new RecordedResources());
        cloud.prepare(fx.context);
        List<Machine> created = cloud.createNodes(fx.context, fx.requests(1, 2));
        List<Machine> after = cloud.awaitRunning(created.stream().map(Machine::id).toList(), Duration.ofMillis(50));
        assertTrue(after.stream().allMatch(m -> m.state() == MachineState.PENDING && m.publicIp() == null));
    }

    @Test
    void replaceIngressAuthorizesTheNewCidrBeforeRevokingTheOld() {
        Ec2Cloud cloud = fx.cloud(new RecordedResources());
        fx.up(cloud, fx.requests(1, 2));
        fake.clearCalls();

        cloud.ingress().orElseThrow().replaceIngress(fx.context("198.51.100.0/24"));

        assertEquals(List.of("tcp 22-22 198.51.100.0/24", "tcp 80-80 198.51.100.0/24", "tcp 3000-3000 198.51.100.0/24",
                "tcp 443-443 198.51.100.0/24"), fake.ingress(cloud.securityGroupName()));
        List<String> ops = fake.calls().stream().map(RecordedCall::operation).toList();
        assertTrue(ops.indexOf("AuthorizeSecurityGroupIngress") < ops.indexOf("RevokeSecurityGroupIngress"), ops.toString());
        assertFalse(ops.contains("RunInstances") || ops.contains("TerminateInstances"));
        assertEquals(2, fake.liveInstanceCount());
    }

    @Test
    void replaceIngressLeavesOnlyTheNewCidrWhateverElseTheGroupHeld() {
        Ec2Cloud cloud = fx.cloud(new RecordedResources());
        fx.up(cloud, fx.requests(1, 1));
        // What an older or concurrent run, or a hand in the console, may have left: another IPv4 range, all of IPv6,
        // a prefix list, and a reference to another group, on the managed ports.
        String other = fx.client().createSecurityGroup(r -> r.groupName("someone-else").description("x")
                .vpcId(Ec2Fake.DEFAULT_VPC)).groupId();
        fx.client().authorizeSecurityGroupIngress(r -> r.groupId(groupId(cloud)).ipPermissions(
                IpPermission.builder().ipProtocol("tcp").fromPort(22).toPort(22)
                        .ipRanges(IpRange.builder().cidrIp("192.0.2.0/24").build()).build(),
                IpPermission.builder().ipProtocol("tcp").fromPort(80).toPort(80)
                        .ipv6Ranges(Ipv6Range.builder().cidrIpv6("::/0").build()).build(),
                IpPermission.builder().ipProtocol("tcp").fromPort(3000).toPort(3000)
                        .prefixListIds(PrefixListId.builder().prefixListId("pl-0123456789abcdef0").build()).build(),
                IpPermission.builder().ipProtocol("tcp").fromPort(22).toPort(22)
                        .userIdGroupPairs(UserIdGroupPair.builder().groupId(other).build()).build()));
        assertEquals(8, fake.ingress(cloud.securityGroupName()).size(), fake.ingress(cloud.securityGroupName()).toString());
        fake.clearCalls();

        cloud.ingress().orElseThrow().replaceIngress(fx.context("198.51.100.0/24"));

        assertEquals(Set.of("tcp 22-22 198.51.100.0/24", "tcp 80-80 198.51.100.0/24", "tcp 443-443 198.51.100.0/24",
                "tcp 3000-3000 198.51.100.0/24"), Set.copyOf(fake.ingress(cloud.securityGroupName())));
        List<String> ops = fake.calls().stream().map(RecordedCall::operation).toList();
        assertEquals(List.of("DescribeSecurityGroups", "AuthorizeSecurityGroupIngress", "RevokeSecurityGroupIngress"),
                ops.subList(ops.indexOf("DescribeSecurityGroups"), ops.size()), "authorize first, one revoke: " + ops);
    }

    /** A context opening the declared ports as -Daccess=anywhere does, for this CIDR. */
    private org.workshopfleet.cloud.LaunchContext anywhere(String cidr) {
        return new org.workshopfleet.cloud.LaunchContext(fx.context.loginPublicKey(), org.workshopfleet.spec.Cidr.parse(cidr),
                org.workshopfleet.cloud.IngressRules.load(org.workshopfleet.cloud.CloudScenario.INGRESS,
                        org.workshopfleet.spec.WebEntry.Access.ANYWHERE), fx.context.expiresAt());
    }

    /**
     * With -Daccess=anywhere, AuthorizeSecurityGroupIngress opens 443 to {@code IpRanges CidrIp 0.0.0.0/0} and
     * {@code Ipv6Ranges CidrIpv6 ::/0}, with its description, and 22/80/3000 to the CIDR only; a new CIDR (allow-ip)
     * leaves the 443 rules alone; a run without it (up again) takes 443 back to the CIDR; teardown removes them all.
     */
    @Test
    void accessAnywhereOpens443AloneToEveryAddressAndAReplacedCidrKeepsIt() {
        RecordedResources recorded = new RecordedResources();
        Ec2Cloud cloud = fx.cloud(recorded);
        cloud.prepare(anywhere(FleetFixture.CIDR));

        List<RecordedCall> authorize = fake.calls("AuthorizeSecurityGroupIngress");
        assertEquals(1, authorize.size());
        Map<String, String> p = authorize.get(0).params();
        Map<Integer, List<String>> sources = new TreeMap<>();
        for (int i = 1; p.containsKey("IpPermissions." + i + ".IpProtocol"); i++) {
            String base = "IpPermissions." + i + ".";
            assertEquals("tcp", p.get(base + "IpProtocol"));
            int port = Integer.parseInt(p.get(base + "FromPort"));
            assertEquals(String.valueOf(port), p.get(base + "ToPort"));
            List<String> from = sources.computeIfAbsent(port, k -> new ArrayList<>());
            if (p.containsKey(base + "IpRanges.1.CidrIp")) {
                from.add(p.get(base + "IpRanges.1.CidrIp"));
            }
            if (p.containsKey(base + "Ipv6Ranges.1.CidrIpv6")) {
                from.add(p.get(base + "Ipv6Ranges.1.CidrIpv6"));
                assertEquals("HTTPS: browser terminal and Grafana", p.get(base + "Ipv6Ranges.1.Description"));
            }
            if (port == 443 && p.containsKey(base + "IpRanges.1.CidrIp")) {
                assertEquals("HTTPS: browser terminal and Grafana", p.get(base + "IpRanges.1.Description"));
            }
        }
        assertEquals(Map.of(22, List.of(FleetFixture.CIDR), 80, List.of(FleetFixture.CIDR),
                3000, List.of(FleetFixture.CIDR), 443, List.of("0.0.0.0/0", "::/0")), sources);
        Set<String> world = Set.of("tcp 443-443 0.0.0.0/0", "tcp 443-443 ::/0");
        assertEquals(Set.of("tcp 22-22 " + FleetFixture.CIDR, "tcp 80-80 " + FleetFixture.CIDR,
                "tcp 3000-3000 " + FleetFixture.CIDR, "tcp 443-443 0.0.0.0/0", "tcp 443-443 ::/0"),
                Set.copyOf(fake.ingress(cloud.securityGroupName())));

        // allow-ip: the CIDR rules move, the world rules are neither revoked nor authorized again.
        fake.clearCalls();
        cloud.ingress().orElseThrow().replaceIngress(anywhere("198.51.100.0/24"));
        assertEquals(Set.of("tcp 22-22 198.51.100.0/24", "tcp 80-80 198.51.100.0/24", "tcp 3000-3000 198.51.100.0/24",
                "tcp 443-443 0.0.0.0/0", "tcp 443-443 ::/0"), Set.copyOf(fake.ingress(cloud.securityGroupName())));
        for (RecordedCall c : fake.calls()) {
            if (c.operation().endsWith("SecurityGroupIngress")) {
                assertFalse(c.params().values().stream().anyMatch(v -> v.equals("443")), c.operation() + " " + c.params());
            }
        }

        // Without -Daccess=anywhere, 443 follows the CIDR: the world rules are revoked.
        cloud.ingress().orElseThrow().replaceIngress(fx.context("198.51.100.0/24"));
        assertEquals(Set.of("tcp 22-22 198.51.100.0/24", "tcp 80-80 198.51.100.0/24", "tcp 3000-3000 198.51.100.0/24",
                "tcp 443-443 198.51.100.0/24"), Set.copyOf(fake.ingress(cloud.securityGroupName())));
        assertTrue(fake.ingress(cloud.securityGroupName()).stream().noneMatch(world::contains));

        cloud.ingress().orElseThrow().replaceIngress(anywhere("198.51.100.0/24"));
        assertTrue(fake.ingress(cloud.securityGroupName()).containsAll(world));
        cloud.teardown(recorded.live());
        assertEquals(Set.of(), fake.securityGroupNames(), "teardown deletes the group, and its world rules with it");
    }

    @Test
    void replaceIngressWithTheSameCidrStillRemovesRulesTheLedgerDoesNotKnow() {
        Ec2Cloud cloud = fx.cloud(new RecordedResources());
        fx.up(cloud, fx.requests(1, 1));
        fx.client().authorizeSecurityGroupIngress(r -> r.groupId(groupId(cloud)).ipPermissions(
                IpPermission.builder().ipProtocol("tcp").fromPort(22).toPort(22)
                        .ipv6Ranges(Ipv6Range.builder().cidrIpv6("2001:db8::/32").build()).build()));

        cloud.ingress().orElseThrow().replaceIngress(fx.context);

        assertEquals(Set.of("tcp 22-22 " + FleetFixture.CIDR, "tcp 80-80 " + FleetFixture.CIDR,
                "tcp 443-443 " + FleetFixture.CIDR, "tcp 3000-3000 " + FleetFixture.CIDR),
                Set.copyOf(fake.ingress(cloud.securityGroupName())));
    }

    private String groupId(Ec2Cloud cloud) {
        return fx.client().describeSecurityGroups(r -> r.filters(f -> f.name("group-name")
                .values(cloud.securityGroupName()))).securityGroups().get(0).groupId();
    }

    @Test
    void aPinnedStockImageOfAnotherOwnerIsRefusedBeforeAnythingIsCreated() {
        fake.addImage(Ec2Fake.STOCK_AMI, "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20250112",
                "2025-01-12T00:00:00.000Z", "111122223333", "available");
        Ec2Cloud cloud = fx.cloud(new RecordedResources());

        FleetException e = assertThrows(FleetException.class, () -> cloud.prepare(fx.context));

        assertTrue(e.getMessage().contains(Ec2Fake.STOCK_AMI) && e.getMessage().contains("111122223333")
                && e.getMessage().contains("ami.properties") && !e.getMessage().contains("\n"), e.getMessage());
        assertEquals(List.of("DescribeImages"), fake.calls().stream().map(RecordedCall::operation).toList());
        assertEquals(Set.of(), fake.securityGroupNames());
        assertEquals(Set.of(), fake.keyPairNames());
    }

    @Test
    void thePinnedStockImageIsCheckedToBeCanonicalsWithOneDescribe() {
        Ec2Cloud cloud = fx.cloud(new RecordedResources());
        cloud.prepare(fx.context);
        List<RecordedCall> described = fake.calls("DescribeImages");
        assertEquals(1, described.size());
        assertEquals(List.of(Ec2Fake.STOCK_AMI), described.get(0).list("ImageId"));
    }

    @Test
    void noDefaultVpcIsAOneLineErrorBeforeAnythingIsCreated() {
        fake.withoutDefaultVpc();
        Ec2Cloud cloud = fx.cloud(new RecordedResources());
        FleetException e = assertThrows(FleetException.class, () -> cloud.prepare(fx.context));
        assertTrue(e.getMessage().contains("no default VPC") && e.getMessage().contains("create-default-vpc"));
        assertFalse(e.getMessage().contains("\n"));
        assertEquals(Set.of(), fake.keyPairNames());
        assertEquals(Set.of(), fake.securityGroupNames());
    }

    @Test
    void aKeyPairOfAnotherOwnerIsNotAdopted() {
        fx.client().importKeyPair(r -> r.keyName("workshop-fleet-" + fx.spec.name())
                .publicKeyMaterial(software.amazon.awssdk.core.SdkBytes.fromUtf8String(fx.context.loginPublicKey())));
        FleetException e = assertThrows(FleetException.class, () -> fx.cloud(new RecordedResources()).prepare(fx.context));
        assertTrue(e.getMessage().contains("does not belong"), e.getMessage());
    }

    @Test
    void prepareTwiceAdoptsTheKeyAndGroup() {
        RecordedResources recorder = new RecordedResources();
        fx.cloud(recorder).prepare(fx.context);
        fx.cloud(recorder).prepare(fx.context);
        assertEquals(1, fake.keyPairNames().size());
        assertEquals(1, fake.securityGroupNames().size());
        assertEquals(1, fake.calls("CreateSecurityGroup").size());
        assertEquals(1, fake.calls("AuthorizeSecurityGroupIngress").size());
    }

    @Test
    void aJustCreatedGroupThatHasNotPropagatedIsRetried() {
        fake.faults().failNext("AuthorizeSecurityGroupIngress", "InvalidGroup.NotFound", 2);
        Ec2Cloud cloud = fx.cloud(new RecordedResources());
        cloud.prepare(fx.context);
        assertEquals(3, fake.calls("AuthorizeSecurityGroupIngress").size());
        assertEquals(4, fake.ingress(cloud.securityGroupName()).size(), "22, 80, 3000 and 443");
    }

    @Test
    void anUnreachableEndpointIsAOneLineFleetException() {
        java.net.URI dead = java.net.URI.create("http://127.0.0.1:9");
        try (software.amazon.awssdk.services.ec2.Ec2Client c = software.amazon.awssdk.services.ec2.Ec2Client.builder()
                .endpointOverride(dead).region(software.amazon.awssdk.regions.Region.AP_NORTHEAST_1)
                .credentialsProvider(software.amazon.awssdk.auth.credentials.AnonymousCredentialsProvider.create())
                .overrideConfiguration(o -> o.retryStrategy(software.amazon.awssdk.awscore.retry.AwsRetryStrategy
                        .doNotRetry())).build()) {
            Ec2Cloud cloud = new Ec2Cloud(c, Ec2Cloud.config(fx.spec), new RecordedResources(), new AmiCatalog(Map.of()), Waiter.fast());
            FleetException e = assertThrows(FleetException.class, cloud::listNodes);
            assertTrue(e.getMessage().contains("cannot reach EC2") && !e.getMessage().contains("\n"), e.getMessage());
        }
    }

    @Test
    void theContextsExpiryTagsMachinesWhoseRequestLacksIt() {
        Ec2Cloud cloud = fx.cloud(new RecordedResources());
        cloud.prepare(fx.context);
        NodeRequest r = fx.requests(1, 1).get(0);
        Map<String, String> tags = new java.util.HashMap<>(r.tags());
        tags.remove(Tags.EXPIRES_AT);
        cloud.createNodes(fx.context, List.of(new NodeRequest(1, r.name(), r.userData(), tags)));
        assertEquals(FleetFixture.EXPIRES.toString(), fake.instances().get(0).tags().get(Tags.EXPIRES_AT));
    }

    @Test
    void authFailureBecomesAOneLineFleetException() {
        fake.faults().failNext("*", "AuthFailure", 1);
        FleetException e = assertThrows(FleetException.class, () -> fx.cloud(new RecordedResources()).listNodes());
        assertTrue(e.getMessage().contains("AuthFailure") && e.getMessage().contains("credentials"), e.getMessage());
        assertNotEquals(null, e.getCause());
    }
}
