package org.workshopfleet.cloud.lightsail;

import org.workshopfleet.spec.Cidr;
import org.workshopfleet.error.FleetException;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.workshopfleet.cloud.lightsail.LightsailScenario.CIDR;
import static org.workshopfleet.cloud.lightsail.LightsailScenario.WORKSHOP;
import static org.workshopfleet.cloud.lightsail.LightsailScenario.cloud;
import static org.workshopfleet.cloud.lightsail.LightsailScenario.context;
import static org.workshopfleet.cloud.lightsail.LightsailScenario.requests;
import static org.workshopfleet.cloud.lightsail.LightsailScenario.spec;
import static org.workshopfleet.cloud.lightsail.LightsailScenario.up;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.workshopfleet.cloud.CloudResource;
import org.workshopfleet.cloud.LaunchContext;
import org.workshopfleet.cloud.Machine;
import org.workshopfleet.cloud.MachineState;
import org.workshopfleet.cloud.NodeRequest;
import org.workshopfleet.cloud.RecordedResources;
import org.workshopfleet.cloud.ResourceKind;
import org.workshopfleet.cloud.UserDataFormat;
import org.workshopfleet.cloud.lightsail.fake.Fault;
import org.workshopfleet.cloud.lightsail.fake.LightsailFake;
import org.workshopfleet.cloud.lightsail.fake.LightsailFake.PortRule;
import org.workshopfleet.spec.Provider;
import org.workshopfleet.spec.SourceLocations;
import org.workshopfleet.spec.Tags;
import org.workshopfleet.spec.WorkshopSpec;
import org.workshopfleet.ssh.SshKeyPair;
import software.amazon.awssdk.services.lightsail.LightsailClient;

/**
 * What only Lightsail does, with the real SDK {@link LightsailClient} driven by {@link LightsailCloud} against
 * {@link LightsailFake}: firewalls per instance, NameExists adoption, paging, bundles, faults. The behaviour every cloud
 * shares is {@link LightsailCloudContractTest}.
 */
class LightsailCloudTest {

    private static final Map<String, String> OTHER_WORKSHOP = Map.of("Workshop", "someone-else", "ManagedBy", "workshop-fleet");

    private LightsailFake fake;
    private RecordedResources recorder;
    private SshKeyPair loginKey;
    private LaunchContext context;

    @BeforeEach
    void start() {
        fake = LightsailFake.start("ap-northeast-1").pageSize(4).pendingPolls(2);
        recorder = new RecordedResources();
        loginKey = SshKeyPair.generate("workshop-fleet@" + WORKSHOP);
        context = context(loginKey);
    }

    @AfterEach
    void stop() {
        fake.close();
    }

    private Set<String> ourInstances() {
        return fake.instances().stream().filter(i -> WORKSHOP.equals(i.tags().get("Workshop")))
                .map(LightsailFake.InstanceView::name).collect(Collectors.toSet());
    }

    private static Set<String> names(int from, int to) {
        Set<String> out = new HashSet<>();
        for (int n = from; n <= to; n++) {
            out.add(String.format("%s-%02d", WORKSHOP, n));
        }
        return out;
    }

    private static PortRule open(int port) {
        return new PortRule(port, port, "tcp", List.of(CIDR), List.of());
    }

    @Test
    void upAndTeardownCompleteWithThirtyPercentThrottling() {
        fake.faultRate(0.3, 7, Fault.THROTTLING);
        WorkshopSpec spec = spec(6);
        try (LightsailCloud cloud = cloud(fake, spec, recorder)) {
            List<Machine> machines = up(cloud, context, requests(spec, 1, 6));
            assertEquals(6, machines.size());
            machines.forEach(m -> assertTrue(m.isRunningWithAddress(), m.toString()));
            assertEquals(names(1, 6), ourInstances());

            cloud.teardown(recorder.live());
        }
        assertEquals(Set.of(), ourInstances());
        assertTrue(fake.keyPair(WORKSHOP + "-key").isEmpty());
        assertEquals(List.of(), recorder.live());
        long throttled = fake.requests().stream().filter(r -> "ThrottlingException".equals(r.errorType())).count();
        assertTrue(throttled >= 5, "the fake must really have throttled, got " + throttled);
    }

    @Test
    void lostCreateInstancesResponseIsAdoptedWithoutDuplicate() {
        fake.failNext("CreateInstances", Fault.LOST_RESPONSE);
        WorkshopSpec spec = spec(3);
        try (LightsailCloud cloud = cloud(fake, spec, recorder).withLaunchConcurrency(1)) {
            List<Machine> machines = up(cloud, context, requests(spec, 1, 3));
            machines.forEach(m -> assertTrue(m.isRunningWithAddress(), m.toString()));
        }
        assertEquals(names(1, 3), ourInstances());
        List<LightsailFake.Request> creates = fake.requests().stream()
                .filter(r -> r.operation().equals("CreateInstances")).toList();
        // first attempt performed but answered 500, the SDK's retry met NameExists, then two plain creates
        assertEquals(List.of(500, 400, 200, 200), creates.stream().map(LightsailFake.Request::status).toList());
        assertEquals(1, fake.count("GetInstance"));
        assertEquals(names(1, 3), recorder.created().stream().filter(r -> r.kind() == ResourceKind.INSTANCE)
                .map(CloudResource::id).collect(Collectors.toSet()));
        // the adopted machine still had its firewall put
        assertEquals(List.of(open(22), open(80), open(3000), open(443)), fake.instance(WORKSHOP + "-01").orElseThrow().ports());
    }

    @Test
    void lostImportKeyPairResponseIsAdoptedAndTagged() {
        fake.failNext("ImportKeyPair", Fault.LOST_RESPONSE);
        try (LightsailCloud cloud = cloud(fake, spec(1), recorder)) {
            cloud.prepare(context);
        }
        LightsailFake.KeyPairView key = fake.keyPair(WORKSHOP + "-key").orElseThrow();
        assertEquals(WORKSHOP, key.tags().get("Workshop"));
        assertEquals(loginKey.publicKeyLine(), key.publicKey());
        assertEquals(List.of(new CloudResource(ResourceKind.KEY_PAIR, WORKSHOP + "-key", WORKSHOP + "-key", 0)),
                recorder.created());
    }

    @Test
    void keyPairOfAnotherOwnerStopsPrepare() {
        fake.addKeyPair(WORKSHOP + "-key", SshKeyPair.generate("someone").publicKeyLine(), Map.of());
        try (LightsailCloud cloud = cloud(fake, spec(1), recorder)) {
            FleetException e = assertThrows(FleetException.class, () -> cloud.prepare(context));
            assertTrue(e.getMessage().contains("not this workshop's"), e.getMessage());
            assertFalse(e.getMessage().contains("\n"));
        }
        assertEquals(List.of(), recorder.created());
        assertEquals(0, fake.count("TagResource"));
    }

    @Test
    void theWorkshopsKeyPairFromAnotherStateFolderStopsPrepare() {
        // Same name and this workshop's tags, but another folder's key (another computer ran up for this workshop).
        fake.addKeyPair(WORKSHOP + "-key", SshKeyPair.generate("elsewhere").publicKeyLine(),
                Map.of("Workshop", WORKSHOP, "ManagedBy", "workshop-fleet"));
        try (LightsailCloud cloud = cloud(fake, spec(1), recorder)) {
            FleetException e = assertThrows(FleetException.class, () -> cloud.prepare(context));
            assertTrue(e.getMessage().contains("holds another login key") && e.getMessage().contains("-Daction=teardown"),
                    e.getMessage());
            assertFalse(e.getMessage().contains("\n"));
        }
        assertEquals(List.of(), recorder.created());
        assertEquals(0, fake.count("CreateInstances"));
    }

    @Test
    void theWorkshopsOwnTaggedKeyPairIsAdopted() {
        fake.addKeyPair(WORKSHOP + "-key", loginKey.publicKeyLine(), Map.of("Workshop", WORKSHOP, "ManagedBy", "workshop-fleet"));
        try (LightsailCloud cloud = cloud(fake, spec(1), recorder)) {
            cloud.prepare(context);
        }
        assertEquals(List.of(new CloudResource(ResourceKind.KEY_PAIR, WORKSHOP + "-key", WORKSHOP + "-key", 0)),
                recorder.created());
    }

    @Test
    void instanceOfAnotherWorkshopStopsTheLaunchBeforeAnythingIsCreated() {
        fake.addInstance(WORKSHOP + "-02", OTHER_WORKSHOP);
        WorkshopSpec spec = spec(3);
        try (LightsailCloud cloud = cloud(fake, spec, recorder)) {
            cloud.prepare(context);
            FleetException e = assertThrows(FleetException.class, () -> cloud.createNodes(context, requests(spec, 1, 3)));
            assertTrue(e.getMessage().contains(WORKSHOP + "-02") && e.getMessage().contains("Workshop=someone-else"),
                    e.getMessage());
            assertFalse(e.getMessage().contains("\n"));
        }
        assertEquals(0, fake.count("CreateInstances"));
        assertEquals(0, fake.count("PutInstancePublicPorts"));
        assertEquals(Set.of(WORKSHOP + "-02"), fake.instances().stream().map(LightsailFake.InstanceView::name)
                .collect(Collectors.toSet()));
        assertEquals(List.of(ResourceKind.KEY_PAIR), recorder.created().stream().map(CloudResource::kind).toList());
        assertEquals(OTHER_WORKSHOP.get("Workshop"), fake.instance(WORKSHOP + "-02").orElseThrow().tags().get("Workshop"));
    }

    @Test
    void nameHeldByAnotherResourceTypeIsAClearError() {
        fake.addOtherResource(WORKSHOP + "-01", "StaticIp");
        WorkshopSpec spec = spec(1);
        try (LightsailCloud cloud = cloud(fake, spec, recorder)) {
            cloud.prepare(context);
            FleetException e = assertThrows(FleetException.class, () -> cloud.createNodes(context, requests(spec, 1, 1)));
            assertTrue(e.getMessage().contains("taken by another Lightsail resource"), e.getMessage());
        }
        // the create met NameExists, the follow-up GetInstance found no instance of that name
        assertEquals(List.of("InvalidInputException"), fake.requests().stream()
                .filter(r -> r.operation().equals("CreateInstances")).map(LightsailFake.Request::errorType).toList());
        assertEquals(1, fake.count("GetInstance"));
        assertTrue(fake.instances().isEmpty());
    }

    @Test
    void firewallIsExactlyTheIngressForTheCidrAfterUp() {
        WorkshopSpec spec = spec(3);
        try (LightsailCloud cloud = cloud(fake, spec, recorder)) {
            up(cloud, context, requests(spec, 1, 3));
        }
        for (LightsailFake.InstanceView i : fake.instances()) {
            assertEquals(List.of(open(22), open(80), open(3000), open(443)), i.ports(), i.name());
            assertTrue(i.ports().stream().noneMatch(p -> p.cidrs().contains("0.0.0.0/0") || !p.ipv6Cidrs().isEmpty()));
            assertEquals("ipv4", i.ipAddressType());
        }
        List<JsonNode> puts = fake.requests().stream().filter(r -> r.operation().equals("PutInstancePublicPorts"))
                .map(LightsailFake.Request::body).toList();
        assertEquals(names(1, 3), puts.stream().map(b -> b.path("instanceName").asText()).collect(Collectors.toSet()));
        assertEquals(3, puts.size());
        for (JsonNode body : puts) {
            assertEquals(4, body.path("portInfos").size(), "22, 80, 3000 and 443");
            for (JsonNode p : body.path("portInfos")) {
                assertEquals("tcp", p.path("protocol").asText());
                assertEquals(p.path("fromPort").asInt(), p.path("toPort").asInt());
                assertEquals(List.of(CIDR), List.of(p.path("cidrs").get(0).asText()));
                assertEquals(1, p.path("cidrs").size());
                assertFalse(p.has("ipv6Cidrs"), "IPv4-only instances get no IPv6 rules: " + p);
            }
        }
        JsonNode create = fake.requests().stream().filter(r -> r.operation().equals("CreateInstances")).findFirst()
                .orElseThrow().body();
        assertEquals("ubuntu_22_04", create.path("blueprintId").asText());
        assertEquals("medium_3_0", create.path("bundleId").asText());
        assertEquals("ap-northeast-1a", create.path("availabilityZone").asText());
        assertEquals("ipv4", create.path("ipAddressType").asText());
        assertEquals(WORKSHOP + "-key", create.path("keyPairName").asText());
    }

    @Test
    void fakeOpensSshAndHttpToTheWorldUntilPut() {
        // Guards the firewall test above: without the Put, the fake's OS-blueprint defaults would fail it.
        try (LightsailClient client = fake.newClient()) {
            client.createInstances(b -> b.instanceNames("plain-1").availabilityZone("ap-northeast-1a")
                    .blueprintId("ubuntu_22_04").bundleId("small_3_0").ipAddressType("ipv4"));
            var ports = client.getInstance(b -> b.instanceName("plain-1")).instance().networking().ports();
            assertEquals(Set.of(22, 80), ports.stream().map(p -> p.fromPort()).collect(Collectors.toSet()));
            ports.forEach(p -> assertEquals(List.of("0.0.0.0/0"), p.cidrs()));
        }
    }

    @Test
    void tagsAreSetAtCreation() {
        WorkshopSpec spec = spec(2);
        try (LightsailCloud cloud = cloud(fake, spec, recorder)) {
            up(cloud, context, requests(spec, 1, 2));
        }
        Map<String, String> tags = fake.instance(WORKSHOP + "-02").orElseThrow().tags();
        assertEquals(WORKSHOP, tags.get("Workshop"));
        assertEquals("workshop-fleet", tags.get("ManagedBy"));
        assertEquals("02", tags.get("Attendee"));
        assertEquals(WORKSHOP + "-02", tags.get("Name"));
        assertEquals(context.expiresAt().getEpochSecond(), java.time.Instant.parse(tags.get("ExpiresAt")).getEpochSecond());
        assertEquals("contract-test", tags.get("Purpose"));
        assertEquals(0, fake.requests().stream().filter(r -> r.operation().equals("TagResource")
                && r.body().path("resourceName").asText().startsWith(WORKSHOP + "-0")).count(), "instances need no TagResource");
    }

    @Test
    void pagingCoversMoreThanOnePage() {
        fake.pageSize(3);
        fake.addInstance("aaa-foreign", OTHER_WORKSHOP);
        fake.addInstance("zzz-foreign", Map.of());
        WorkshopSpec spec = spec(8);
        try (LightsailCloud cloud = cloud(fake, spec, recorder)) {
            List<Machine> machines = up(cloud, context, requests(spec, 1, 8));
            assertEquals(8, machines.size());
            machines.forEach(m -> assertTrue(m.isRunningWithAddress(), m.toString()));
            assertEquals(names(1, 8), cloud.listNodes().stream().map(Machine::id).collect(Collectors.toSet()));
        }
        List<JsonNode> scans = fake.requests().stream().filter(r -> r.operation().equals("GetInstances"))
                .map(LightsailFake.Request::body).toList();
        assertTrue(scans.stream().anyMatch(b -> b.has("pageToken")), "later pages must be requested");
        // The scan before launching sees the 2 foreign instances (one page); every later scan sees 10 at 3 a page:
        // 4 calls, 1 without a token and 3 with one.
        long firstPages = scans.stream().filter(b -> !b.has("pageToken")).count();
        assertEquals((firstPages - 1) * 3, scans.size() - firstPages);
        assertEquals(0, fake.count("GetInstance"), "no per-machine polling");
    }

    @Test
    void teardownWithAnEmptyLedgerFindsEverythingByTag() {
        fake.addInstance("other-01", OTHER_WORKSHOP);
        WorkshopSpec spec = spec(4);
        try (LightsailCloud cloud = cloud(fake, spec, recorder)) {
            up(cloud, context, requests(spec, 1, 4));
        }
        RecordedResources second = new RecordedResources();
        try (LightsailCloud cloud = cloud(fake, spec, second)) {
            cloud.teardown(List.of());
        }
        assertEquals(Set.of(), ourInstances());
        assertTrue(fake.keyPair(WORKSHOP + "-key").isEmpty());
        assertTrue(fake.instance("other-01").isPresent(), "another workshop's machine is left alone");
        assertTrue(fake.keyPairNames().contains(LightsailFake.DEFAULT_KEY_PAIR));
        Set<String> expected = new HashSet<>();
        names(1, 4).forEach(n -> expected.add("INSTANCE:" + n));
        expected.add("KEY_PAIR:" + WORKSHOP + "-key");
        assertEquals(expected, new HashSet<>(second.deleted()));
        fake.requests().stream().filter(r -> r.operation().equals("DeleteInstance"))
                .forEach(r -> assertTrue(r.body().path("forceDeleteAddOns").asBoolean(), r.body().toString()));
    }

    @Test
    void secondTeardownSucceedsDoingNothing() {
        WorkshopSpec spec = spec(2);
        List<CloudResource> ledger;
        try (LightsailCloud cloud = cloud(fake, spec, recorder)) {
            up(cloud, context, requests(spec, 1, 2));
            ledger = recorder.live();
            cloud.teardown(ledger);
        }
        assertEquals(List.of(), recorder.live());
        fake.clearRequests();
        try (LightsailCloud cloud = cloud(fake, spec, recorder)) {
            cloud.teardown(recorder.live());
        }
        assertEquals(Map.of("GetInstances", 1, "GetKeyPairs", 1), fake.countsByOperation());

        // Even handed the stale ledger again, it only meets NotFound and succeeds.
        fake.clearRequests();
        try (LightsailCloud cloud = cloud(fake, spec, recorder)) {
            cloud.teardown(ledger);
        }
        assertTrue(fake.requests().stream().filter(r -> r.operation().startsWith("Delete"))
                .allMatch(r -> "NotFoundException".equals(r.errorType())));
        assertEquals(Set.of(), ourInstances());
    }

    @Test
    void userDataIsPassedVerbatim() {
        String script = "#!/bin/bash\nset -euo pipefail\nprintf '%s\\n' \"quotes ' \\\" $HOME\" > /tmp/x\r\n"
                + "echo 'ünïcødé ✓' && cat <<'EOF' >/etc/motd\n  indented\tline\nEOF\n";
        WorkshopSpec spec = spec(1);
        try (LightsailCloud cloud = cloud(fake, spec, recorder)) {
            assertEquals(UserDataFormat.SHELL_SCRIPT, cloud.profile().userDataFormat());
            cloud.prepare(context);
            cloud.createNodes(context, List.of(new NodeRequest(1, spec.machineName(1), script, Map.of())));
        }
        assertEquals(script, fake.instance(WORKSHOP + "-01").orElseThrow().userData());
        JsonNode body = fake.requests().stream().filter(r -> r.operation().equals("CreateInstances")).findFirst()
                .orElseThrow().body();
        assertEquals(script, body.path("userData").asText());
    }

    @Test
    void emptyUserDataIsRefusedBeforeAnythingIsCreated() {
        WorkshopSpec spec = spec(2);
        try (LightsailCloud cloud = cloud(fake, spec, recorder)) {
            List<NodeRequest> requests = List.of(requests(spec, 1, 1).get(0),
                    new NodeRequest(2, spec.machineName(2), "  \n", Map.of()));
            FleetException e = assertThrows(FleetException.class, () -> cloud.createNodes(context, requests));
            assertTrue(e.getMessage().contains(WORKSHOP + "-02") && e.getMessage().contains("empty"), e.getMessage());
        }
        assertEquals(List.of(), fake.requests());
    }

    @Test
    void quotaErrorIsOneLineAndWhatWasCreatedIsRecorded() {
        fake.instanceQuota(2);
        WorkshopSpec spec = spec(4);
        try (LightsailCloud cloud = cloud(fake, spec, recorder).withLaunchConcurrency(1)) {
            cloud.prepare(context);
            FleetException e = assertThrows(FleetException.class, () -> cloud.createNodes(context, requests(spec, 1, 4)));
            assertTrue(e.getMessage().contains("OperationFailureException") && e.getMessage().contains("limits"),
                    e.getMessage());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
            // launching stopped at the first refusal
            assertEquals(3, fake.count("CreateInstances"));
            assertEquals(names(1, 2), recorder.live().stream().filter(r -> r.kind() == ResourceKind.INSTANCE)
                    .map(CloudResource::id).collect(Collectors.toSet()));
            cloud.teardown(recorder.live());
        }
        assertEquals(Set.of(), ourInstances());
    }

    @Test
    void eachMachineReportsTheBundleItWasCreatedWith() {
        // The ledger records Machine.instanceType as the machine's price class: a new machine's is the bundle asked
        // for, an existing one's is the bundle Lightsail reports for it, even when -Dbundle changed in between.
        WorkshopSpec small = new WorkshopSpec(WORKSHOP, 2, Provider.LIGHTSAIL, "ap-northeast-1", null, "small_3_0", Cidr.parse(CIDR),
                false, null, 8, Path.of("target/workshops"), SourceLocations.defaults());
        try (LightsailCloud cloud = cloud(fake, small, recorder)) {
            up(cloud, context, requests(small, 1, 2));
        }
        WorkshopSpec bigger = spec(3);
        try (LightsailCloud cloud = cloud(fake, bigger, recorder)) {
            cloud.prepare(context);
            List<Machine> created = cloud.createNodes(context, requests(bigger, 3, 3));
            assertEquals(List.of("medium_3_0"), created.stream().map(Machine::instanceType).toList());
            Map<Integer, String> bundles = cloud.listNodes().stream()
                    .collect(Collectors.toMap(Machine::attendee, Machine::instanceType));
            assertEquals(Map.of(1, "small_3_0", 2, "small_3_0", 3, "medium_3_0"), bundles);
        }
    }

    @Test
    void rerunAdoptsTheFleetAndAddsOnlyNewMachines() {
        WorkshopSpec spec = spec(3);
        try (LightsailCloud cloud = cloud(fake, spec, recorder)) {
            up(cloud, context, requests(spec, 1, 3));
        }
        fake.clearRequests();
        WorkshopSpec bigger = spec(5);
        try (LightsailCloud cloud = cloud(fake, bigger, recorder)) {
            List<Machine> machines = up(cloud, context, requests(bigger, 1, 5));
            machines.forEach(m -> assertTrue(m.isRunningWithAddress(), m.toString()));
            assertEquals(List.of(1, 2, 3, 4, 5), machines.stream().map(Machine::attendee).toList());
        }
        assertEquals(names(1, 5), ourInstances());
        assertEquals(names(4, 5), fake.requests().stream().filter(r -> r.operation().equals("CreateInstances"))
                .map(r -> r.body().path("instanceNames").get(0).asText()).collect(Collectors.toSet()));
        assertEquals(2, fake.count("PutInstancePublicPorts"), "firewalls already right are not put again");
        assertEquals(0, fake.count("ImportKeyPair") - 1, "one import attempt, answered NameExists and adopted");
    }

    @Test
    void replaceIngressClosesEveryRuleSomeoneAddedIpv6AndAliasesIncluded() {
        WorkshopSpec spec = spec(3);
        String venue = "198.51.100.0/24";
        try (LightsailCloud cloud = cloud(fake, spec, recorder)) {
            up(cloud, context, requests(spec, 1, 3));
            String one = spec.machineName(1);
            String two = spec.machineName(2);
            String three = spec.machineName(3);
            // Another tool or a person: an extra port to the world and another CIDR on SSH; a switch to dual-stack
            // with SSH open to all of IPv6; the console's browser SSH alias.
            try (LightsailClient other = fake.newClient()) {
                other.openInstancePublicPorts(b -> b.instanceName(one).portInfo(p -> p.fromPort(8080).toPort(8080)
                        .protocol("tcp").cidrs("0.0.0.0/0")));
                other.openInstancePublicPorts(b -> b.instanceName(one).portInfo(p -> p.fromPort(22).toPort(22)
                        .protocol("tcp").cidrs("192.0.2.0/24")));
                fake.ipAddressType(two, "dualstack");
                other.openInstancePublicPorts(b -> b.instanceName(two).portInfo(p -> p.fromPort(22).toPort(22)
                        .protocol("tcp").ipv6Cidrs("::/0")));
                other.openInstancePublicPorts(b -> b.instanceName(three).portInfo(p -> p.fromPort(22).toPort(22)
                        .protocol("tcp").cidrListAliases("lightsail-connect")));
            }

            cloud.ingress().orElseThrow().replaceIngress(new LaunchContext(context.loginPublicKey(), Cidr.parse(venue), context.ingress(),
                    context.expiresAt()));
        }
        for (LightsailFake.InstanceView i : fake.instances()) {
            assertEquals(Set.of(new PortRule(22, 22, "tcp", List.of(venue), List.of()),
                    new PortRule(80, 80, "tcp", List.of(venue), List.of()),
                    new PortRule(3000, 3000, "tcp", List.of(venue), List.of()),
                    new PortRule(443, 443, "tcp", List.of(venue), List.of())), Set.copyOf(i.ports()), i.name());
        }
    }

    /**
     * With -Daccess=anywhere every PutInstancePublicPorts opens 443 to {@code cidrs: ["0.0.0.0/0"]} (no
     * {@code ipv6Cidrs}: the instances are IPv4-only) and 22/80/3000 to the CIDR; a firewall that already matches is
     * not put again; replacing the CIDR keeps 443 open to every address.
     */
    @Test
    void accessAnywhereOpens443AloneToEveryIpv4AddressAndAllowIpKeepsIt() {
        LaunchContext anywhere = new LaunchContext(context.loginPublicKey(), Cidr.parse(CIDR), org.workshopfleet.cloud
                .IngressRules.load(org.workshopfleet.cloud.CloudScenario.INGRESS,
                        org.workshopfleet.spec.WebEntry.Access.ANYWHERE), context.expiresAt());
        PortRule world = new PortRule(443, 443, "tcp", List.of("0.0.0.0/0"), List.of());
        WorkshopSpec spec = spec(2);
        String venue = "198.51.100.0/24";
        try (LightsailCloud cloud = cloud(fake, spec, recorder)) {
            up(cloud, anywhere, requests(spec, 1, 2));
            for (LightsailFake.InstanceView i : fake.instances()) {
                assertEquals(List.of(open(22), open(80), open(3000), world), i.ports(), i.name());
            }
            List<LightsailFake.Request> puts = fake.requests().stream()
                    .filter(r -> r.operation().equals("PutInstancePublicPorts") && r.succeeded()).toList();
            assertEquals(2, puts.size(), "one Put per instance: the running ones matched it");
            for (LightsailFake.Request put : puts) {
                Map<Integer, JsonNode> byPort = new java.util.TreeMap<>();
                put.body().path("portInfos").forEach(p -> byPort.put(p.path("fromPort").asInt(), p));
                assertEquals(Set.of(22, 80, 443, 3000), byPort.keySet());
                byPort.forEach((port, p) -> {
                    assertEquals(port == 443 ? "[\"0.0.0.0/0\"]" : "[\"" + CIDR + "\"]", p.path("cidrs").toString());
                    assertTrue(p.path("ipv6Cidrs").isMissingNode() || p.path("ipv6Cidrs").isEmpty(), p.toString());
                });
            }

            cloud.ingress().orElseThrow().replaceIngress(new LaunchContext(anywhere.loginPublicKey(), Cidr.parse(venue),
                    anywhere.ingress(), anywhere.expiresAt()));
        }
        for (LightsailFake.InstanceView i : fake.instances()) {
            assertEquals(Set.of(new PortRule(22, 22, "tcp", List.of(venue), List.of()),
                    new PortRule(80, 80, "tcp", List.of(venue), List.of()),
                    new PortRule(3000, 3000, "tcp", List.of(venue), List.of()), world), Set.copyOf(i.ports()), i.name());
        }
    }

    @Test
    void awaitRunningReturnsPendingMachinesAtTheTimeoutWithOneScanPerPoll() {
        fake.pendingPolls(1_000).pageSize(10);
        WorkshopSpec spec = spec(5);
        try (LightsailCloud cloud = cloud(fake, spec, recorder)) {
            cloud.prepare(context);
            List<Machine> created = cloud.createNodes(context, requests(spec, 1, 5));
            fake.clearRequests();
            List<Machine> machines = cloud.awaitRunning(created.stream().map(Machine::id).toList(), Duration.ofMillis(200));
            machines.forEach(m -> assertEquals(MachineState.PENDING, m.state()));
            machines.forEach(m -> assertEquals(null, m.publicIp()));
        }
        // 5 machines on one page: each poll is exactly one GetInstances, and nothing else is called
        assertEquals(Set.of("GetInstances"), fake.countsByOperation().keySet());
        assertTrue(fake.count("GetInstances") >= 2);
    }

    @Test
    void availabilityZoneIsConfigurableWithinTheRegion() {
        WorkshopSpec spec = spec(1);
        try (LightsailCloud cloud = cloud(fake, spec, recorder).withAvailabilityZone("ap-northeast-1c")) {
            up(cloud, context, requests(spec, 1, 1));
            assertThrows(FleetException.class, () -> cloud.withAvailabilityZone("us-east-1a"));
        }
        assertEquals("ap-northeast-1c", fake.instance(WORKSHOP + "-01").orElseThrow().availabilityZone());
    }

    @Test
    void factoryClientHonoursTheServiceEndpointSetting() {
        // aws.endpointUrlLightsail is the system-property twin of AWS_ENDPOINT_URL_LIGHTSAIL.
        String[] keys = {"aws.endpointUrlLightsail", "aws.accessKeyId", "aws.secretAccessKey"};
        System.setProperty(keys[0], fake.endpoint().toString());
        System.setProperty(keys[1], "AKIDFACTORYTEST");
        System.setProperty(keys[2], "factory-test");
        // 4 server errors in a row: more than the SDK's default 4 attempts survive, the factory allows 8.
        for (int i = 0; i < 4; i++) {
            fake.failNext("GetInstances", Fault.SERVICE_ERROR);
        }
        try (LightsailCloud cloud = LightsailCloud.connect(spec(1), recorder)) {
            assertEquals(List.of(), cloud.listNodes());
        } finally {
            for (String k : keys) {
                System.clearProperty(k);
            }
        }
        assertEquals(Map.of("GetInstances", 5), fake.countsByOperation());
    }

    @Test
    void firewallLostAtBootIsPutAgainOnceRunning() {
        fake.resetPortsAtBoot(true);
        WorkshopSpec spec = spec(3);
        try (LightsailCloud cloud = cloud(fake, spec, recorder)) {
            up(cloud, context, requests(spec, 1, 3));
        }
        for (LightsailFake.InstanceView i : fake.instances()) {
            assertEquals(List.of(open(22), open(80), open(3000), open(443)), i.ports(), i.name());
        }
        assertEquals(6, fake.count("PutInstancePublicPorts"), "once at launch, once more when found open at boot");
    }

    @Test
    void notFoundRightAfterCreateIsWaitedOut() {
        fake.failNext("PutInstancePublicPorts", Fault.NOT_FOUND).failNext("PutInstancePublicPorts", Fault.NOT_FOUND)
                .failNext("TagResource", Fault.NOT_FOUND);
        WorkshopSpec spec = spec(2);
        try (LightsailCloud cloud = cloud(fake, spec, recorder)) {
            up(cloud, context, requests(spec, 1, 2)).forEach(m -> assertTrue(m.isRunningWithAddress(), m.toString()));
        }
        fake.instances().forEach(i -> assertEquals(List.of(open(22), open(80), open(3000), open(443)), i.ports(), i.name()));
        assertEquals(WORKSHOP, fake.keyPair(WORKSHOP + "-key").orElseThrow().tags().get("Workshop"));
    }

    @Test
    void lostResponsesOnEveryMutatingCallNeitherDuplicateNorLeak() {
        fake.faultRate(0.25, 11, Fault.LOST_RESPONSE, "ImportKeyPair", "TagResource", "CreateInstances",
                "PutInstancePublicPorts", "DeleteInstance", "DeleteKeyPair");
        WorkshopSpec spec = spec(8);
        try (LightsailCloud cloud = cloud(fake, spec, recorder)) {
            up(cloud, context, requests(spec, 1, 8)).forEach(m -> assertTrue(m.isRunningWithAddress(), m.toString()));
            assertEquals(names(1, 8), ourInstances());
            fake.instances().forEach(i -> assertEquals(List.of(open(22), open(80), open(3000), open(443)), i.ports(), i.name()));
            cloud.teardown(recorder.live());
        }
        assertEquals(Set.of(), ourInstances());
        assertTrue(fake.keyPair(WORKSHOP + "-key").isEmpty());
        assertEquals(List.of(), recorder.live());
        assertTrue(fake.requests().stream().filter(r -> r.status() == 500).count() >= 4, "faults were injected");
    }

    @Test
    void serviceErrorsAreRetriedAndAQuotaRefusalIsNot() {
        fake.faultRate(0.3, 5, Fault.SERVICE_ERROR);
        WorkshopSpec spec = spec(4);
        try (LightsailCloud cloud = cloud(fake, spec, recorder)) {
            up(cloud, context, requests(spec, 1, 4)).forEach(m -> assertTrue(m.isRunningWithAddress(), m.toString()));
        }
        assertEquals(names(1, 4), ourInstances());

        fake.noFaults().failNext("CreateInstances", Fault.QUOTA);
        fake.clearRequests();
        WorkshopSpec bigger = spec(5);
        try (LightsailCloud cloud = cloud(fake, bigger, recorder)) {
            FleetException e = assertThrows(FleetException.class, () -> cloud.createNodes(context, requests(bigger, 1, 5)));
            assertTrue(e.getMessage().startsWith("Lightsail launching " + WORKSHOP + "-05 failed: "), e.getMessage());
            assertFalse(e.getMessage().contains("\n"));
        }
        assertEquals(1, fake.count("CreateInstances"), "a quota refusal is not retried");
    }

    @Test
    void destroyNodesRefusesAnotherWorkshopsMachine() {
        fake.addInstance("someone-01", OTHER_WORKSHOP);
        try (LightsailCloud cloud = cloud(fake, spec(3), recorder)) {
            assertThrows(FleetException.class, () -> cloud.destroyNodes(List.of("someone-01")));
        }
        assertTrue(fake.instance("someone-01").isPresent(), "another workshop's machine is never deleted");
        assertEquals(List.of(), recorder.deleted());
    }

    @Test
    void accessDeniedIsOneLineNamingTheCredentials() {
        fake.failNext("ImportKeyPair", Fault.ACCESS_DENIED);
        try (LightsailCloud cloud = cloud(fake, spec(1), recorder)) {
            FleetException e = assertThrows(FleetException.class, () -> cloud.prepare(context));
            assertTrue(e.getMessage().contains("AccessDeniedException") && e.getMessage().contains("credentials"),
                    e.getMessage());
            assertFalse(e.getMessage().contains("\n"));
            assertFalse(e.getMessage().contains(loginKey.publicKeyLine().split(" ")[1]), "no key material in messages");
        }
        assertEquals(1, fake.count("ImportKeyPair"));
        assertEquals(List.of(), recorder.created());
    }

    @Test
    void firewallRefusedWhilePendingIsPutOnceRunning() {
        fake.failNext("PutInstancePublicPorts", Fault.NOT_READY);
        WorkshopSpec spec = spec(2);
        try (LightsailCloud cloud = cloud(fake, spec, recorder).withLaunchConcurrency(1)) {
            cloud.prepare(context);
            List<Machine> created = cloud.createNodes(context, requests(spec, 1, 2));
            assertEquals(Set.of(22, 80), fake.instance(WORKSHOP + "-01").orElseThrow().ports().stream()
                    .map(PortRule::fromPort).collect(Collectors.toSet()), "still the defaults after the refusal");
            cloud.awaitRunning(created.stream().map(Machine::id).toList(), Duration.ofSeconds(20));
        }
        fake.instances().forEach(i -> assertEquals(List.of(open(22), open(80), open(3000), open(443)), i.ports(), i.name()));
        assertEquals(3, fake.count("PutInstancePublicPorts"));
    }
}
