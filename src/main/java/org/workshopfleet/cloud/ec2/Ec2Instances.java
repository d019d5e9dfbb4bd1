package org.workshopfleet.cloud.ec2;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.workshopfleet.cloud.Machine;
import org.workshopfleet.cloud.MachineState;
import org.workshopfleet.cloud.ResourceKind;
import org.workshopfleet.cloud.ResourceRecorder;
import org.workshopfleet.cloud.TaggingExtension;
import org.workshopfleet.concurrent.Waiter;
import org.workshopfleet.error.CloudFailure;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.DescribeInstancesRequest;
import software.amazon.awssdk.services.ec2.model.Ec2Exception;
import software.amazon.awssdk.services.ec2.model.Instance;
import software.amazon.awssdk.services.ec2.model.InstanceStateName;
import software.amazon.awssdk.services.ec2.model.Reservation;
import software.amazon.awssdk.services.ec2.model.Tag;

/**
 * The workshop's instances once launched: found by ids or by tag, waited for until they run, retagged, terminated and
 * waited for until gone. Call counts stay flat in the fleet size: one {@code DescribeInstances} per poll covers the
 * whole fleet and {@code TerminateInstances} takes every id at once (up to {@value #MAX_IDS_PER_CALL} per call).
 */
final class Ec2Instances implements TaggingExtension {

    /** EC2 takes at most this many ids in one {@code DescribeInstances}/{@code TerminateInstances}. */
    static final int MAX_IDS_PER_CALL = 1000;
    static final List<String> LIVE_STATES = List.of("pending", "running", "stopping", "stopped");
    private static final List<String> NOT_TERMINATED_STATES =
            List.of("pending", "running", "stopping", "stopped", "shutting-down");
    private static final Pattern INSTANCE_ID = Pattern.compile("i-[0-9a-zA-Z]+");
    /** A bound on the polls while launches still run, which end on their own well before it. */
    private static final Duration LAUNCHING_AT_MOST = Duration.ofHours(6);

    private final Ec2Client ec2;
    private final Ec2Workshop workshop;
    private final ResourceRecorder recorder;
    private final Waiter waiting;

    Ec2Instances(Ec2Client ec2, Ec2Workshop workshop, ResourceRecorder recorder, Waiter waiting) {
        this.ec2 = ec2;
        this.workshop = workshop;
        this.recorder = recorder;
        this.waiting = waiting;
    }

    /** The workshop's live machines (pending to stopped), found by tag. */
    List<Machine> live() {
        return describeByTags(LIVE_STATES).stream().map(workshop::machine).toList();
    }

    /** Ids of the workshop's instances that are not terminated yet (shutting-down included), found by tag. */
    List<String> notTerminatedIds() {
        return describeByTags(NOT_TERMINATED_STATES).stream().map(Instance::instanceId).toList();
    }

    /**
     * The live machines by attendee, each recorded as created: a re-run after a crash adopts them, and the ledger may
     * not know them yet.
     */
    Map<Integer, Machine> adoptLive() {
        Map<Integer, Machine> byAttendee = new HashMap<>();
        for (Machine m : live()) {
            if (m.attendee() > 0 && byAttendee.putIfAbsent(m.attendee(), m) == null) {
                recorder.created(Ec2Workshop.resource(m));
            }
        }
        return byAttendee;
    }

    private List<Instance> describeByTags(List<String> states) {
        DescribeInstancesRequest request = DescribeInstancesRequest.builder()
                .filters(workshop.tagFilters(Ec2Calls.filter("instance-state-name", states)))
                .maxResults(1000)
                .build();
        return ec2.describeInstancesPaginator(request).reservations().stream()
                .flatMap(r -> r.instances().stream()).toList();
    }

    /** One DescribeInstances per poll for the whole fleet; each machine is reported from the poll that saw it run. */
    List<Machine> awaitRunning(Collection<String> machineIds, Duration timeout, Consumer<Machine> onRunning) {
        return awaitRunning(ArrivingIds.of(new LinkedHashSet<>(machineIds)), timeout, onRunning);
    }

    /**
     * As {@link #awaitRunning(Collection, Duration, Consumer)} over ids that keep arriving while launches return: each
     * poll covers every id arrived so far. The timeout counts from the last arrival; a failed launching is thrown here
     * once it closed the ids.
     */
    List<Machine> awaitRunning(ArrivingIds arriving, Duration timeout, Consumer<Machine> onRunning) {
        Set<String> reported = new HashSet<>();
        Map<String, Machine> last = new HashMap<>();
        workshop.call("wait", () -> {
            if (!arriving.closed()) {
                // While launches go on: no timeout of its own (each launch has its own limits), and no poll once they
                // ended, so the wait below starts with a poll of the complete fleet.
                waiting.withTimeout(LAUNCHING_AT_MOST).until(() -> {
                    if (arriving.closed()) {
                        return true;
                    }
                    pollOpen(arriving.ids(), last, reported, onRunning);
                    return false;
                }, Boolean::booleanValue, poll -> { }, Ec2Calls.WAITING_FOR);
            }
            arriving.rethrow();
            List<String> ids = arriving.ids();
            // Until every machine runs with an address, is gone or stopped; at the timeout the caller sees what is left.
            return waiting.withTimeout(timeout).until(() -> pollOpen(ids, last, reported, onRunning),
                    Boolean::booleanValue, poll -> { }, Ec2Calls.WAITING_FOR);
        });
        List<Machine> out = new ArrayList<>();
        for (String id : arriving.ids()) {
            out.add(last.getOrDefault(id, new Machine(id, null, 0, MachineState.UNKNOWN, null, null, null)));
        }
        return out;
    }

    /**
     * Polls the machines of {@code ids} that are not settled yet (running with an address, gone or stopped) in one
     * call and reports the newly running ones; true when none was left to poll.
     */
    private boolean pollOpen(List<String> ids, Map<String, Machine> last, Set<String> reported,
                             Consumer<Machine> onRunning) {
        List<String> open = ids.stream().filter(id -> {
            Machine m = last.get(id);
            return m == null || !(m.isRunningWithAddress() || m.state().isGone() || m.state() == MachineState.STOPPED);
        }).toList();
        if (open.isEmpty()) {
            return true;
        }
        java.util.Optional<Described> polled = poll(open);
        if (polled.isEmpty()) {
            return false;
        }
        Set<String> wanted = new HashSet<>(ids);
        for (Instance i : polled.get().instances()) {
            Machine m = workshop.machine(i);
            last.put(i.instanceId(), m);
            if (wanted.contains(i.instanceId()) && m.isRunningWithAddress() && reported.add(i.instanceId())) {
                onRunning.accept(m);
            }
        }
        return false;
    }

    /** Terminates these instances in one call per 1000 and waits until every one is terminated or gone. */
    void terminate(List<String> ids) {
        forKnownIds(ids, batch -> ec2.terminateInstances(r -> r.instanceIds(batch)));
        List<String> open = new ArrayList<>(ids);
        boolean done = waiting.until(() -> {
            java.util.Optional<Described> polled = poll(open);
            if (polled.isEmpty()) {
                return false;
            }
            Described d = polled.get();
            Set<String> gone = new HashSet<>(d.unknown());
            for (Instance i : d.instances()) {
                if (i.state().name() == InstanceStateName.TERMINATED) {
                    gone.add(i.instanceId());
                }
            }
            Set<String> listed = new HashSet<>();
            d.instances().forEach(i -> listed.add(i.instanceId()));
            for (String id : open) {
                if (!listed.contains(id)) {
                    gone.add(id);
                }
            }
            for (String id : gone) {
                if (open.remove(id)) {
                    recorder.deleted(ResourceKind.INSTANCE, id);
                }
            }
            return open.isEmpty();
        }, Boolean::booleanValue, poll -> { }, Ec2Calls.WAITING_FOR).isPresent();
        if (!done) {
            throw new CloudFailure(open.size() + " instance(s) still not terminated after "
                    + waiting.timeout().toMinutes() + " min (" + String.join(", ", open.subList(0,
                    Math.min(5, open.size()))) + "): re-run -Daction=teardown");
        }
    }

    @Override
    public void retag(Collection<String> machineIds, Map<String, String> tags) {
        List<String> ids = List.copyOf(machineIds);
        List<Tag> sdkTags = tags.entrySet().stream().map(e -> Tag.builder().key(e.getKey()).value(e.getValue()).build()).toList();
        workshop.call("retagging", () -> {
            for (int from = 0; from < ids.size(); from += MAX_IDS_PER_CALL) {
                List<String> chunk = ids.subList(from, Math.min(ids.size(), from + MAX_IDS_PER_CALL));
                ec2.createTags(b -> b.resources(chunk).tags(sdkTags));
            }
            return null;
        });
    }

    /** What one poll saw: instances EC2 described, and ids it says do not exist (not yet, or no longer). */
    private record Described(List<Instance> instances, Set<String> unknown) {
    }

    /**
     * One poll of a wait: empty when EC2 still throttled it after the SDK's retries. Such a poll saw nothing new, and the
     * wait goes on at its own pace (the waiter's pauses grow); a throttled poll must not end {@code up} or teardown
     * (docs/aws-facts.md, "Request throttling").
     */
    private java.util.Optional<Described> poll(List<String> ids) {
        try {
            return java.util.Optional.of(describeByIds(ids));
        } catch (Ec2Exception e) {
            if (e.isThrottlingException()) {
                return java.util.Optional.empty();
            }
            throw e;
        }
    }

    /** One DescribeInstances per 1000 ids; the ids EC2 says do not exist are reported apart. */
    private Described describeByIds(List<String> ids) {
        List<Instance> found = new ArrayList<>();
        Set<String> unknown = forKnownIds(ids, batch -> {
            for (Reservation r : ec2.describeInstances(q -> q.instanceIds(batch)).reservations()) {
                found.addAll(r.instances());
            }
        });
        return new Described(found, unknown);
    }

    /**
     * Calls {@code call} for these ids, 1000 at a time. One unknown id fails a whole call and changes nothing
     * ({@code InvalidInstanceID.NotFound}, docs/aws-facts.md), so the ids the error names (the whole batch when it names
     * none) are set aside and the rest asked for again. Returns the ids set aside.
     */
    private static Set<String> forKnownIds(List<String> ids, Consumer<List<String>> call) {
        Set<String> unknown = new LinkedHashSet<>();
        for (int from = 0; from < ids.size(); from += MAX_IDS_PER_CALL) {
            List<String> ask = new ArrayList<>(ids.subList(from, Math.min(ids.size(), from + MAX_IDS_PER_CALL)));
            while (!ask.isEmpty()) {
                List<String> batch = List.copyOf(ask);
                try {
                    call.accept(batch);
                    break;
                } catch (Ec2Exception e) {
                    if (!"InvalidInstanceID.NotFound".equals(Ec2Calls.code(e))) {
                        throw e;
                    }
                    Set<String> named = idsIn(e.awsErrorDetails().errorMessage());
                    named.retainAll(batch);
                    if (named.isEmpty()) {
                        named.addAll(batch);
                    }
                    unknown.addAll(named);
                    ask.removeAll(named);
                }
            }
        }
        return unknown;
    }

    private static Set<String> idsIn(String message) {
        Set<String> ids = new LinkedHashSet<>();
        Matcher m = INSTANCE_ID.matcher(Objects.toString(message, ""));
        while (m.find()) {
            ids.add(m.group());
        }
        return ids;
    }
}
