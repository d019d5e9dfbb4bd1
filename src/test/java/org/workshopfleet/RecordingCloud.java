package org.workshopfleet;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.workshopfleet.cloud.Cloud;
import org.workshopfleet.cloud.CloudResource;
import org.workshopfleet.cloud.LaunchContext;
import org.workshopfleet.cloud.Machine;
import org.workshopfleet.cloud.MachineState;
import org.workshopfleet.cloud.NodeRequest;
import org.workshopfleet.cloud.ResourceKind;
import org.workshopfleet.cloud.ResourceRecorder;

/**
 * STAND-IN {@link Cloud} for Fleet's tests: keeps machines in memory (shared across instances through {@link State}
 * so successive commands see the same "cloud"), reports every create/delete to the recorder as real clouds must, and
 * logs each call. Machines run at {@code address} (a loopback address where nothing answers SSH unless a test says so).
 */
final class RecordingCloud implements Cloud, org.workshopfleet.cloud.ImageExtension,
        org.workshopfleet.cloud.IngressExtension {

    /** The "cloud side": survives between Fleet commands of one test. */
    static final class State {
        final Map<String, Machine> machines = new TreeMap<>();
        final List<String> calls = new ArrayList<>();
        final List<NodeRequest> requests = new ArrayList<>();
        /** Baked images (bake mode): shared by every workshop, like a cloud's AMIs. */
        final List<org.workshopfleet.cloud.MachineImage> images = new ArrayList<>();
        /** The image id each createNodes call launched from (null: stock). */
        final List<String> launchedFrom = new ArrayList<>();
        /** The context of every prepare and replaceIngress, in order: the ingress each one asked for. */
        final List<LaunchContext> ingressContexts = new ArrayList<>();
        java.util.function.IntFunction<String> address = n -> "127.0.0.1";
        int next = 1;
    }

    private final State state;
    private final ResourceRecorder recorder;

    RecordingCloud(State state, ResourceRecorder recorder) {
        this.state = state;
        this.recorder = recorder;
    }

    @Override
    public org.workshopfleet.cloud.ProviderProfile profile() {
        return org.workshopfleet.command.Providers.profile(org.workshopfleet.spec.Provider.LAB);
    }

    @Override
    public void prepare(LaunchContext context) {
        state.calls.add("prepare " + context.cidr());
        state.ingressContexts.add(context);
        recorder.created(new CloudResource(ResourceKind.KEY_PAIR, "key-1", "workshop key", 0));
    }

    @Override
    public List<Machine> createNodes(LaunchContext context, List<NodeRequest> requests) {
        state.calls.add("createNodes " + requests.stream().map(NodeRequest::name).toList());
        state.launchedFrom.add(context.imageId());
        List<Machine> out = new ArrayList<>();
        for (NodeRequest r : requests) {
            state.requests.add(r);
            String id = "m-" + state.next++;
            Machine m = new Machine(id, r.name(), r.attendee(), MachineState.PENDING, null, "test", Instant.now());
            recorder.created(new CloudResource(ResourceKind.LAB_MACHINE, id, r.name(), r.attendee()));
            state.machines.put(id, m);
            out.add(m);
        }
        return out;
    }

    @Override
    public List<Machine> awaitRunning(Collection<String> ids, Duration timeout,
                                      java.util.function.Consumer<Machine> onRunning) {
        state.calls.add("awaitRunning " + ids.size());
        List<Machine> out = new ArrayList<>();
        for (String id : ids) {
            Machine m = state.machines.get(id);
            m = m.withState(MachineState.RUNNING, state.address.apply(m.attendee()));
            state.machines.put(id, m);
            out.add(m);
        }
        out.stream().filter(Machine::isRunningWithAddress).forEach(onRunning);
        return out;
    }

    @Override
    public List<Machine> listNodes() {
        state.calls.add("listNodes");
        return state.machines.values().stream().filter(m -> !m.state().isGone()).toList();
    }

    @Override
    public void destroyNodes(Collection<String> ids) {
        state.calls.add("destroyNodes " + new java.util.TreeSet<>(ids));
        for (String id : ids) {
            state.machines.remove(id);
            recorder.deleted(ResourceKind.LAB_MACHINE, id);
        }
    }

    @Override
    public void teardown(Collection<CloudResource> known) {
        state.calls.add("teardown " + known.size());
        for (String id : List.copyOf(state.machines.keySet())) {
            state.machines.remove(id);
            recorder.deleted(ResourceKind.LAB_MACHINE, id);
        }
        recorder.deleted(ResourceKind.KEY_PAIR, "key-1");
    }

    @Override
    public java.util.Optional<org.workshopfleet.cloud.MachineImage> findImage(String recipeHash) {
        state.calls.add("findImage");
        return state.images.stream().filter(i -> i.recipeHash().equals(recipeHash)).findFirst();
    }

    @Override
    public org.workshopfleet.cloud.MachineImage captureImage(String machineId, String recipeHash, Duration timeout) {
        state.calls.add("captureImage " + machineId);
        var image = new org.workshopfleet.cloud.MachineImage("img-" + state.next++, "workshop-fleet-"
                + recipeHash.substring(0, 12), recipeHash, Instant.now());
        state.images.add(image);
        return image;
    }

    @Override
    public List<org.workshopfleet.cloud.MachineImage> listImages() {
        state.calls.add("listImages");
        return List.copyOf(state.images);
    }

    @Override
    public void removeImage(org.workshopfleet.cloud.MachineImage image) {
        state.calls.add("removeImage " + image.id());
        state.images.remove(image);
    }

    @Override
    public void replaceIngress(LaunchContext context) {
        state.calls.add("replaceIngress -> " + context.cidr());
        state.ingressContexts.add(context);
    }

    @Override
    public java.util.Optional<org.workshopfleet.cloud.ImageExtension> images() {
        return java.util.Optional.of(this);
    }

    @Override
    public java.util.Optional<org.workshopfleet.cloud.IngressExtension> ingress() {
        return java.util.Optional.of(this);
    }
}
