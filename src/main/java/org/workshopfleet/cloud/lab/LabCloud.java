package org.workshopfleet.cloud.lab;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.workshopfleet.FleetException;
import org.workshopfleet.cloud.Cloud;
import org.workshopfleet.cloud.CloudResource;
import org.workshopfleet.cloud.LaunchContext;
import org.workshopfleet.cloud.Machine;
import org.workshopfleet.cloud.MachineImage;
import org.workshopfleet.cloud.MachineState;
import org.workshopfleet.cloud.NodeRequest;
import org.workshopfleet.cloud.ResourceKind;
import org.workshopfleet.cloud.ResourceRecorder;
import org.workshopfleet.cloud.UserDataFormat;
import org.workshopfleet.spec.WorkshopSpec;

/**
 * The {@code lab} cloud: attendee machines are local Debian 12 containers ({@link LabMachines}, scope = workshop name)
 * configured by cloud-init from the same {@code #cloud-config} user-data EC2 gets. A machine's id and name are both
 * {@code <workshop>-NN}; its public IP is its 10.231.x.y lab address.
 *
 * <p>Ingress: lab machines are reachable only from the host itself and from each other (the bridge is host-only, the
 * host forwards nothing from outside towards it, see {@link LabNetwork}), which is narrower than any CIDR a facilitator
 * gives, so the CIDR is accepted and not applied; {@link #replaceIngress} has nothing to change.
 */
public final class LabCloud implements Cloud {

    private final WorkshopSpec spec;
    private final ResourceRecorder recorder;
    private final LabMachines machines;

    public LabCloud(WorkshopSpec spec, ResourceRecorder recorder) {
        this(spec, recorder, new LabMachines(spec.name()));
    }

    LabCloud(WorkshopSpec spec, ResourceRecorder recorder, LabMachines machines) {
        this.spec = spec;
        this.recorder = recorder;
        this.machines = machines;
    }

    @Override
    public String providerName() {
        return "lab";
    }

    @Override
    public UserDataFormat userDataFormat() {
        return UserDataFormat.CLOUD_CONFIG;
    }

    /** Checks the host (root, tools, overlayfs) and builds the base image if it is not cached. */
    @Override
    public void prepare(LaunchContext context) {
        LabHost.check();
        machines.baseImage().ensure();
    }

    @Override
    public List<Machine> createNodes(LaunchContext context, List<NodeRequest> requests) {
        for (NodeRequest r : requests) {
            if (!r.userData().startsWith("#cloud-config")) {
                throw new FleetException("lab: user data for " + r.name() + " is not a #cloud-config document;"
                        + " the lab applies user data with cloud-init's NoCloud datasource");
            }
        }
        LabHost.check();
        // From a baked image: its layer (checked here, before any machine is booted) goes under each machine's own.
        java.nio.file.Path layer = context.imageId() == null ? null : machines.images().layer(context.imageId());
        Map<String, LabMachine> existing = machines.list().stream()
                .collect(Collectors.toMap(LabMachine::name, Function.identity()));
        List<Machine> out = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, Math.min(spec.parallelism(), requests.size())));
        try {
            List<Future<Machine>> pending = new ArrayList<>();
            for (NodeRequest r : requests) {
                LabMachine adopted = existing.get(r.name());
                if (adopted != null && machines.isRunning(r.name())) {
                    pending.add(java.util.concurrent.CompletableFuture.completedFuture(machine(r.name(), adopted.ip())));
                    continue;
                }
                if (adopted != null) {
                    machines.destroy(r.name()); // its record outlived its container: boot it afresh
                }
                // Recorded before it exists: a crash during boot still leaves the ledger pointing at it.
                recorder.created(new CloudResource(ResourceKind.LAB_MACHINE, r.name(), r.name(), r.attendee()));
                pending.add(pool.submit(() -> {
                    try {
                        LabMachine m = layer == null ? machines.boot(r.name(), r.userData())
                                : machines.bootFromImage(r.name(), r.userData(), context.imageId(), layer);
                        return machine(m.name(), m.ip());
                    } catch (FleetException e) {
                        System.err.println(e.getMessage());
                        return new Machine(r.name(), r.name(), r.attendee(), MachineState.TERMINATED, null, "lab",
                                Instant.now());
                    }
                }));
            }
            for (Future<Machine> f : pending) {
                out.add(f.get());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FleetException("lab: interrupted while booting machines; run teardown or up again");
        } catch (java.util.concurrent.ExecutionException e) {
            throw new FleetException("lab: booting failed: " + e.getCause().getMessage(), e.getCause());
        } finally {
            pool.shutdown();
        }
        return out;
    }

    /** Lab machines are running once {@link #createNodes} returns; this reports their current state. */
    @Override
    public List<Machine> awaitRunning(Collection<String> machineIds, Duration timeout) {
        Map<String, Machine> live = listNodes().stream().collect(Collectors.toMap(Machine::id, Function.identity()));
        return machineIds.stream().map(id -> live.getOrDefault(id,
                new Machine(id, id, attendeeOf(id), MachineState.TERMINATED, null, "lab", null))).toList();
    }

    @Override
    public List<Machine> listNodes() {
        return machines.list().stream().map(m -> machines.isRunning(m.name()) ? machine(m.name(), m.ip())
                : machine(m.name(), m.ip()).withState(MachineState.STOPPED, m.ip())).toList();
    }

    @Override
    public void destroyNodes(Collection<String> machineIds) {
        machineIds.parallelStream().forEach(id -> {
            machines.destroy(id);
            recorder.deleted(ResourceKind.LAB_MACHINE, id);
        });
    }

    /** Destroys the known machines and every machine of this workshop the lab has a record of. */
    @Override
    public void teardown(Collection<CloudResource> known) {
        Set<String> ids = new LinkedHashSet<>();
        known.stream().filter(r -> r.kind() == ResourceKind.LAB_MACHINE).forEach(r -> ids.add(r.id()));
        machines.list().forEach(m -> ids.add(m.name()));
        if (!LabHost.isRoot()) {
            LabHost.check();
        }
        destroyNodes(ids);
        machines.destroyAll();
    }

    @Override
    public Optional<MachineImage> findImage(String recipeHash) {
        return machines.images().find(recipeHash);
    }

    /**
     * Powers the (sealed) machine off and keeps its upper layer as the image of this recipe; the machine itself stays
     * recorded, without a running container, until {@link #destroyNodes}. An image already baked for the recipe is
     * adopted and the machine left running.
     */
    @Override
    public MachineImage captureImage(String machineId, String recipeHash, Duration timeout) {
        Optional<MachineImage> done = machines.images().find(recipeHash);
        if (done.isPresent()) {
            return done.get();
        }
        LabImages images = machines.images();
        java.nio.file.Path staging = images.staging(recipeHash);
        java.nio.file.Path layer = staging.resolve("layer");
        try {
            machines.takeLayer(machineId, layer);
            return images.adopt(recipeHash, layer, "lab:" + BaseImage.hash());
        } finally {
            HostCommand.quietly("rm", "-rf", "--one-file-system", staging.toString());
        }
    }

    @Override
    public List<MachineImage> listImages() {
        return machines.images().list();
    }

    /** Deletes the image's layer; refused while a lab machine launched from it exists. */
    @Override
    public void removeImage(MachineImage image) {
        machines.images().remove(image);
    }

    /** Nothing to change: see the class comment on ingress. */
    @Override
    public void replaceIngress(LaunchContext context, String oldCidr, String newCidr) {
    }

    private Machine machine(String name, String ip) {
        return new Machine(name, name, attendeeOf(name), MachineState.RUNNING, ip, "lab",
                machines.createdAt(name).orElse(null));
    }

    /** {@code <workshop>-NN} → NN; 0 for a name of another form. */
    static int attendeeOf(String name) {
        int dash = name.lastIndexOf('-');
        try {
            return Integer.parseInt(name.substring(dash + 1));
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
