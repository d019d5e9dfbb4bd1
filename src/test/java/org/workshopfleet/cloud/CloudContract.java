package org.workshopfleet.cloud;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.workshopfleet.spec.Tags;
import org.workshopfleet.ssh.SshKeyPair;

/**
 * The behaviour every {@link Cloud} must have, expressed only through the interface and its capabilities, and checked
 * from outside through what the provider's stand-in (or the lab host) shows. A provider's suite extends this class
 * and implements the hooks: how to make a cloud for a workshop, what user data and launch context it takes, how long a
 * boot may take, and what exists in the provider for a workshop.
 *
 * <p>Each test uses one workshop ({@link #workshopName()}) that starts with nothing in the provider.
 */
public abstract class CloudContract {

    /** What a cloud may offer besides the contract, each answered by one of {@link Cloud}'s capability methods. */
    protected enum Capability { IMAGES, INGRESS, TAGGING, CAPACITY }

    /** The facilitator's CIDR the fleet is launched with. */
    protected static final String CIDR = "203.0.113.7/32";
    /** The venue's CIDR the ingress is moved to. */
    protected static final String VENUE = "198.51.100.0/24";

    private final List<Cloud> opened = new ArrayList<>();
    /** This test's workshop and its configuration. */
    protected String workshop;
    protected LaunchConfig config;
    private SshKeyPair login;
    private LaunchContext context;

    // ------------------------------------------------------------------ hooks

    /** The provider's configuration ({@code XCloud.config(spec)}) of a workshop of this name and fleet size. */
    protected abstract LaunchConfig config(String workshop, int fleetSize);

    /** A new cloud object for this workshop reporting to this recorder, as a fresh process would make it. */
    protected abstract Cloud cloud(LaunchConfig config, ResourceRecorder recorder);

    /** User data in the cloud's format for attendee n's machine. */
    protected abstract String userData(LaunchConfig config, int attendee);

    /** The longest a launch may take until every machine runs. */
    protected abstract Duration bootTimeout();

    /** The kind the cloud records its machines as. */
    protected abstract ResourceKind machineKind();

    /** The capabilities this cloud has; the others must answer empty. */
    protected abstract Set<Capability> capabilities();

    /** Seen from outside (the stand-in, the host): the ids of this workshop's machines that are not terminated. */
    protected abstract Set<String> liveMachines(String workshop);

    /** Seen from outside: the names of this workshop's other resources that exist (key pairs, groups, lab network). */
    protected abstract Set<String> sharedResources(String workshop);

    /**
     * Seen from outside, for a cloud with {@link Capability#INGRESS}: what each live machine of the workshop admits,
     * one {@code "<machine id> <protocol> <port> <source>"} entry per port and source.
     */
    protected Set<String> admitted(String workshop) {
        throw new AssertionError(getClass().getSimpleName() + " declares INGRESS but does not say what is admitted");
    }

    /** Seen from outside, for a cloud with {@link Capability#TAGGING}: the tags the machine carries. */
    protected Map<String, String> tagsOf(String machineId) {
        throw new AssertionError(getClass().getSimpleName() + " declares TAGGING but does not show tags");
    }

    /** Whether the image round trip is cheap enough here; otherwise the provider's image suite covers it. */
    protected boolean imageRoundTripIsCheap() {
        return false;
    }

    /** This test's workshop name; a shared host needs one of its own per test. */
    protected String workshopName() {
        return "contract-ws";
    }

    /** How many machines the launching tests make. */
    protected int fleetSize() {
        return 3;
    }

    /** The launch context this cloud is given: the workshop's login key, this CIDR, the declared ports. */
    protected LaunchContext context(String loginPublicKey, String cidr) {
        return CloudScenario.context(loginPublicKey, cidr, Instant.now().plus(Duration.ofHours(12))
                .truncatedTo(ChronoUnit.SECONDS));
    }

    // ------------------------------------------------------------------ plumbing

    @BeforeEach
    void newWorkshop() {
        workshop = workshopName();
        config = config(workshop, fleetSize());
        login = SshKeyPair.generate("workshop-fleet@" + workshop);
        context = context(login.publicKeyLine(), CIDR);
    }

    @AfterEach
    void closeClouds() {
        opened.forEach(Cloud::close);
    }

    /** A new cloud object, closed after the test. */
    protected final Cloud newCloud(ResourceRecorder recorder) {
        Cloud c = cloud(config, recorder);
        opened.add(c);
        return c;
    }

    protected final LaunchContext context() {
        return context;
    }

    protected final List<NodeRequest> requests(int from, int to) {
        return CloudScenario.requests(config, from, to, n -> userData(config, n),
                n -> CloudScenario.fleetTags(config, n, context.expiresAt()));
    }

    protected final List<Machine> up(Cloud cloud, List<NodeRequest> requests) {
        return CloudScenario.up(cloud, context, requests, bootTimeout());
    }

    private static Set<String> ids(List<Machine> machines) {
        return machines.stream().map(Machine::id).collect(Collectors.toSet());
    }

    private Set<Integer> attendees(int from, int to) {
        return IntStream.rangeClosed(from, to).boxed().collect(Collectors.toSet());
    }

    /** Everything of the workshop that exists, seen from outside. */
    private Set<String> everything() {
        Set<String> all = new TreeSet<>(liveMachines(workshop));
        all.addAll(sharedResources(workshop));
        return all;
    }

    // ------------------------------------------------------------------ the contract

    @Test
    void launchingFromNothingMakesExactlyTheRequestedMachinesAndListsThemWithAddresses() {
        int n = fleetSize();
        RecordedResources recorder = new RecordedResources();
        Cloud cloud = newCloud(recorder);
        assertEquals(Set.of(), everything(), "the workshop starts with nothing");

        List<Machine> machines = up(cloud, requests(1, n));

        assertEquals(n, machines.size());
        assertTrue(machines.stream().allMatch(Machine::isRunningWithAddress), machines.toString());
        assertEquals(attendees(1, n), machines.stream().map(Machine::attendee).collect(Collectors.toSet()));
        assertEquals(ids(machines), liveMachines(workshop), "exactly these machines exist");
        List<Machine> listed = cloud.listNodes();
        assertEquals(n, listed.size(), listed.toString());
        assertEquals(ids(machines), ids(listed));
        assertTrue(listed.stream().allMatch(Machine::isRunningWithAddress), listed.toString());
        assertEquals(machines.stream().map(Machine::publicIp).collect(Collectors.toSet()),
                listed.stream().map(Machine::publicIp).collect(Collectors.toSet()));
        assertEquals(ids(machines), Set.copyOf(recorder.liveIds(machineKind())), "every machine is recorded");
    }

    @Test
    void createNodesAgainAdoptsTheMachinesAndAMoreAttendeesRunAddsOnlyTheNewOnes() {
        int n = fleetSize();
        RecordedResources recorder = new RecordedResources();
        Cloud cloud = newCloud(recorder);
        List<Machine> first = up(cloud, requests(1, n - 1));

        List<Machine> again = cloud.createNodes(context, requests(1, n - 1));

        assertEquals(first.stream().map(Machine::id).toList(), again.stream().map(Machine::id).toList(),
                "the same machines, in request order");
        assertEquals(ids(first), liveMachines(workshop), "no second machine");
        assertEquals(ids(first), Set.copyOf(recorder.liveIds(machineKind())), "one record per machine");

        // A new cloud object (a re-run) with one more attendee: the others are adopted, one machine is new.
        List<Machine> all = up(newCloud(recorder), requests(1, n));

        assertEquals(IntStream.rangeClosed(1, n).boxed().toList(), all.stream().map(Machine::attendee).toList());
        assertTrue(all.stream().allMatch(Machine::isRunningWithAddress), all.toString());
        assertTrue(ids(all).containsAll(ids(first)), "the first machines were kept: " + all);
        assertEquals(ids(all), liveMachines(workshop));
        assertEquals(ids(all), Set.copyOf(recorder.liveIds(machineKind())));
    }

    @Test
    void awaitRunningHandsEachMachineToTheCallbackOnceAndReturnsThemInTheOrderGiven() {
        Cloud cloud = newCloud(new RecordedResources());
        cloud.prepare(context);
        List<Machine> created = cloud.createNodes(context, requests(1, fleetSize()));
        List<String> order = new ArrayList<>(created.stream().map(Machine::id).toList());
        Collections.reverse(order);
        List<Machine> reported = new ArrayList<>();

        List<Machine> running = cloud.awaitRunning(order, bootTimeout(), reported::add);

        assertEquals(order, running.stream().map(Machine::id).toList());
        assertTrue(running.stream().allMatch(Machine::isRunningWithAddress), running.toString());
        assertEquals(fleetSize(), reported.size(), "once per machine: " + reported);
        assertTrue(reported.stream().allMatch(Machine::isRunningWithAddress), reported.toString());
        assertEquals(Set.copyOf(running), Set.copyOf(reported));
    }

    @Test
    void destroyNodesRemovesExactlyTheNamedMachinesAndThenTheRestLeavesNothingListed() {
        RecordedResources recorder = new RecordedResources();
        Cloud cloud = newCloud(recorder);
        List<Machine> machines = up(cloud, requests(1, fleetSize()));
        List<String> gone = machines.stream().filter(m -> m.attendee() > 1).map(Machine::id).toList();
        String kept = machines.stream().filter(m -> m.attendee() == 1).findFirst().orElseThrow().id();

        cloud.destroyNodes(gone);

        assertEquals(Set.of(kept), ids(cloud.listNodes()));
        assertEquals(Set.of(kept), liveMachines(workshop));
        assertEquals(List.of(kept), recorder.liveIds(machineKind()));
        gone.forEach(id -> assertTrue(recorder.deleted().contains(machineKind() + ":" + id), recorder.deleted().toString()));

        cloud.destroyNodes(List.of(kept));

        assertEquals(List.of(), cloud.listNodes());
        assertEquals(Set.of(), liveMachines(workshop));
        assertEquals(List.of(), recorder.liveIds(machineKind()));
    }

    @Test
    void teardownRemovesEverythingRecordedAndIsSafeToRepeat() {
        RecordedResources recorder = new RecordedResources();
        Cloud cloud = newCloud(recorder);
        up(cloud, requests(1, fleetSize()));
        List<CloudResource> ledger = recorder.live();
        assertTrue(ledger.size() >= fleetSize(), ledger.toString());

        cloud.teardown(ledger);

        assertEquals(List.of(), recorder.live(), "every recorded resource is recorded as deleted");
        assertEquals(Set.of(), everything());
        assertEquals(List.of(), cloud.listNodes());

        // Again from a new process that finds nothing, and again handed the stale ledger: both succeed.
        RecordedResources second = new RecordedResources();
        assertDoesNotThrow(() -> newCloud(second).teardown(List.of()));
        assertEquals(List.of(), second.deleted(), "nothing was left to delete");
        assertDoesNotThrow(() -> newCloud(new RecordedResources()).teardown(ledger));
        assertEquals(Set.of(), everything());
    }

    @Test
    void teardownFindsByTagWhatTheLedgerNeverHeardOf() {
        // The first process launched and then lost its ledger.
        List<Machine> machines = up(newCloud(ResourceRecorder.NONE), requests(1, fleetSize()));
        assertEquals(ids(machines), liveMachines(workshop));
        RecordedResources fresh = new RecordedResources();

        newCloud(fresh).teardown(List.of());

        assertEquals(Set.of(), everything());
        Set<String> deleted = new HashSet<>(fresh.deleted());
        machines.forEach(m -> assertTrue(deleted.contains(machineKind() + ":" + m.id()), fresh.deleted().toString()));
    }

    @Test
    void aRerunAfterACrashAtTheFirstMachineRecordEndsWithOneRecordedMachinePerAttendee() {
        int n = fleetSize();
        RecordedResources crashing = RecordedResources.crashingOnFirst(machineKind());
        Cloud crashed = newCloud(crashing);
        crashed.prepare(context);
        RuntimeException crash = assertThrows(RuntimeException.class, () -> crashed.createNodes(context, requests(1, n)));
        assertTrue(String.valueOf(crash.getMessage()).contains("simulated crash")
                || crash.getCause() != null && String.valueOf(crash.getCause().getMessage()).contains("simulated crash"),
                crash.toString());

        RecordedResources recorder = new RecordedResources();
        List<Machine> machines = up(newCloud(recorder), requests(1, n));

        assertEquals(attendees(1, n), machines.stream().map(Machine::attendee).collect(Collectors.toSet()));
        assertTrue(machines.stream().allMatch(Machine::isRunningWithAddress), machines.toString());
        assertEquals(ids(machines), liveMachines(workshop), "one machine per attendee, none twice");
        assertEquals(ids(machines), Set.copyOf(recorder.liveIds(machineKind())),
                "what the crashed run made reaches the ledger on the re-run");

        newCloud(new RecordedResources()).teardown(recorder.live());
        assertEquals(Set.of(), everything());
    }

    @Test
    void launchAndAwaitHandsEachMachineOverRecordedAndLaunchedBeforeItRunsAndWaitsForTheLiveOnesToo() {
        RecordedResources recorder = new RecordedResources();
        Cloud cloud = newCloud(recorder);
        cloud.prepare(context);
        List<String> live = cloud.createNodes(context, requests(1, 1)).stream().map(Machine::id).toList();
        Set<String> launched = Collections.synchronizedSet(new HashSet<>());
        List<String> wrong = Collections.synchronizedList(new ArrayList<>());
        List<Machine> reported = new ArrayList<>();

        List<Machine> all = cloud.launchAndAwait(context, requests(2, fleetSize()), live, bootTimeout(), m -> {
            if (!recorder.liveIds(machineKind()).contains(m.id()) || !launched.add(m.id())) {
                wrong.add("launched unrecorded or twice: " + m);
            }
        }, m -> {
            if (!live.contains(m.id()) && !launched.contains(m.id())) {
                wrong.add("running before its launch was handed over: " + m);
            }
            reported.add(m);
        });

        assertEquals(List.of(), wrong);
        assertEquals(attendees(2, fleetSize()), launched.stream().map(id -> all.stream()
                .filter(m -> m.id().equals(id)).findFirst().orElseThrow().attendee()).collect(Collectors.toSet()));
        assertEquals(live.get(0), all.get(0).id(), "the live machines first");
        assertEquals(fleetSize(), all.size(), all.toString());
        assertTrue(all.stream().allMatch(Machine::isRunningWithAddress), all.toString());
        assertEquals(ids(all), ids(reported), "each running machine handed over once");
        assertEquals(fleetSize(), reported.size(), reported.toString());
        assertEquals(ids(all), liveMachines(workshop), "exactly these machines exist");
    }

    @Test
    void everyMachineIsRecordedBeforeCreateNodesReturns() {
        RecordedResources recorder = new RecordedResources();
        Cloud cloud = newCloud(recorder);
        cloud.prepare(context);

        List<Machine> created = cloud.createNodes(context, requests(1, fleetSize()));

        Set<String> recorded = Set.copyOf(recorder.liveIds(machineKind()));
        assertEquals(ids(created), recorded, "recorded as the call returns, before any wait");
        assertTrue(recorded.containsAll(liveMachines(workshop)), "nothing exists unrecorded");
        Map<String, Integer> attendeeOf = recorder.created().stream().filter(r -> r.kind() == machineKind())
                .collect(Collectors.toMap(CloudResource::id, CloudResource::attendee, (a, b) -> a));
        created.forEach(m -> assertEquals(m.attendee(), attendeeOf.get(m.id()), m.toString()));
        cloud.awaitRunning(created.stream().map(Machine::id).toList(), bootTimeout());
        assertTrue(recorded.containsAll(liveMachines(workshop)));
    }

    @Test
    void eachCapabilityIsPresentExactlyWhenTheCloudHasIt() {
        Cloud cloud = newCloud(ResourceRecorder.NONE);
        Set<Capability> present = EnumSet.noneOf(Capability.class);
        add(present, Capability.IMAGES, cloud.images());
        add(present, Capability.INGRESS, cloud.ingress());
        add(present, Capability.TAGGING, cloud.tagging());
        add(present, Capability.CAPACITY, cloud.capacity());
        assertEquals(capabilities(), present);
    }

    /** Whether the cloud has {@code c}, asserting that it answers as its provider declares. */
    private boolean has(Capability c, Optional<?> answer) {
        assertEquals(capabilities().contains(c), answer.isPresent(), c + " answered as declared");
        return answer.isPresent();
    }

    private static void add(Set<Capability> present, Capability c, Optional<?> answer) {
        if (answer.isPresent()) {
            present.add(c);
        }
    }

    @Test
    void replaceIngressLeavesEveryMachineAdmittingOnlyTheNewCidr() {
        Cloud cloud = newCloud(new RecordedResources());
        if (!has(Capability.INGRESS, cloud.ingress())) {
            return; // no ingress rules (the lab): the empty answer is what is asserted
        }
        List<Machine> machines = up(cloud, requests(1, fleetSize()));
        assertEquals(expectedAdmission(machines, CIDR), admitted(workshop));

        cloud.ingress().orElseThrow().replaceIngress(context(login.publicKeyLine(), VENUE));

        assertEquals(expectedAdmission(machines, VENUE), admitted(workshop));
        assertEquals(ids(machines), liveMachines(workshop), "the machines stay");
    }

    private Set<String> expectedAdmission(List<Machine> machines, String cidr) {
        Set<String> out = new TreeSet<>();
        for (Machine m : machines) {
            context.ingress().forEach(r -> out.add(m.id() + " " + r.protocol() + " " + r.port() + " " + cidr));
        }
        return out;
    }

    @Test
    void retagChangesTheTagOnEveryMachineAndKeepsTheWorkshops() {
        Cloud cloud = newCloud(new RecordedResources());
        if (!has(Capability.TAGGING, cloud.tagging())) {
            return; // no tags (the lab): the empty answer is what is asserted
        }
        List<Machine> machines = up(cloud, requests(1, fleetSize()));
        String later = "2030-01-01T00:00:00Z";

        cloud.tagging().orElseThrow().retag(machines.stream().map(Machine::id).toList(), Map.of(Tags.EXPIRES_AT, later));

        for (Machine m : machines) {
            assertEquals(later, tagsOf(m.id()).get(Tags.EXPIRES_AT), m.id());
            assertEquals(workshop, tagsOf(m.id()).get(Tags.WORKSHOP), m.id());
        }
    }

    @Test
    void theCapacityCheckPassesAFleetThatFitsAndCreatesNothing() {
        Cloud cloud = newCloud(new RecordedResources());
        if (!has(Capability.CAPACITY, cloud.capacity())) {
            return; // no readable limits (Lightsail, the lab): the empty answer is what is asserted
        }

        assertDoesNotThrow(() -> cloud.capacity().orElseThrow().checkCapacity(fleetSize()));

        assertEquals(Set.of(), everything(), "the check is read-only");
    }

    @Test
    void anImageIsCapturedFoundListedLaunchedFromAndRemovedTwice() {
        if (!has(Capability.IMAGES, newCloud(ResourceRecorder.NONE).images()) || !imageRoundTripIsCheap()) {
            return; // this cloud's own image suite (or bake IT) makes the round trip
        }
        String recipe = "0".repeat(56) + "c0ffee42";
        RecordedResources recorder = new RecordedResources();
        Cloud cloud = newCloud(recorder);
        ImageExtension images = cloud.images().orElseThrow();
        Machine builder = up(cloud, requests(1, 1)).get(0);
        assertEquals(Optional.empty(), images.findImage(recipe));

        MachineImage image = images.captureImage(builder.id(), recipe, bootTimeout());

        assertEquals(recipe, image.recipeHash());
        assertEquals(Optional.of(image), images.findImage(recipe));
        assertTrue(images.listImages().contains(image), images.listImages().toString());
        LaunchContext fromImage = context.withImage(image.id());
        List<Machine> created = cloud.createNodes(fromImage, requests(2, 2));
        List<Machine> running = cloud.awaitRunning(created.stream().map(Machine::id).toList(), bootTimeout());
        assertTrue(running.get(0).isRunningWithAddress(), running.toString());

        cloud.teardown(recorder.live());

        assertEquals(Set.of(), everything());
        assertTrue(images.listImages().contains(image), "the workshop's teardown leaves the image");
        images.removeImage(image);
        assertEquals(Optional.empty(), images.findImage(recipe));
        assertFalse(images.listImages().contains(image), images.listImages().toString());
        assertDoesNotThrow(() -> images.removeImage(image), "removing what is gone succeeds");
    }
}
