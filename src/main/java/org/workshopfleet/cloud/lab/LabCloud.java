package org.workshopfleet.cloud.lab;

import org.workshopfleet.error.BadInput;
import org.workshopfleet.error.Interrupted;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.HashMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.workshopfleet.cloud.LaunchConfig;
import org.workshopfleet.cloud.IngressExtension;
import org.workshopfleet.cloud.ImageExtension;
import org.workshopfleet.cloud.Cloud;
import org.workshopfleet.cloud.ProviderProfile;
import org.workshopfleet.cloud.CloudResource;
import org.workshopfleet.cloud.LaunchContext;
import org.workshopfleet.cloud.Machine;
import org.workshopfleet.cloud.MachineState;
import org.workshopfleet.cloud.NodeRequest;
import org.workshopfleet.cloud.ResourceKind;
import org.workshopfleet.cloud.ResourceRecorder;
import org.workshopfleet.concurrent.FanOut;
import org.workshopfleet.spec.WorkshopSpec;

/**
 * The {@code lab} cloud: attendee machines are local Debian 12 containers ({@link LabMachines}, scope = workshop name)
 * configured by cloud-init from the same {@code #cloud-config} user-data EC2 gets. A machine's id and name are both
 * {@code <workshop>-NN}; its public IP is its 10.231.x.y lab address.
 *
 * <p>Ingress: lab machines are reachable only from the host itself and from each other (the bridge is host-only, the
 * host forwards nothing from outside towards it, see {@link LabNetwork}), which is narrower than any CIDR a facilitator
 * gives, so the CIDR is accepted and not applied, and the lab has no {@link IngressExtension} to change it.
 */
public final class LabCloud implements Cloud {

    private static final ProviderProfile PROFILE = new LabProfile();

    private final LaunchConfig config;
    private final ResourceRecorder recorder;
    private final LabMachines machines;
    private final LabImageCapture images;
    /** Boots this instance started, by machine name. */
    private final Map<String, CompletableFuture<Machine>> booting = new ConcurrentHashMap<>();
    private ExecutorService bootPool;

    public LabCloud(LaunchConfig config, ResourceRecorder recorder) {
        this(config, recorder, new LabMachines(config.workshop()));
    }

    LabCloud(LaunchConfig config, ResourceRecorder recorder, LabMachines machines) {
        this.config = config;
        this.recorder = recorder;
        this.machines = machines;
        this.images = new LabImageCapture(machines);
    }

    /** The workshop as the lab sees it: one kind of machine, so no sizes. */
    public static LaunchConfig config(WorkshopSpec spec) {
        return LaunchConfig.of(spec, List.of());
    }

    /** Baked images: a sealed machine's upper layer, kept on this host ({@link LabImageCapture}). */
    @Override
    public Optional<ImageExtension> images() {
        return Optional.of(images);
    }

    @Override
    public ProviderProfile profile() {
        return PROFILE;
    }

    /**
     * Checks the host (root, tools, overlayfs), makes room for the fleet (and the lab machines of other scopes) in
     * {@code fs.inotify.max_user_instances}, and builds the base image if it is not cached.
     */
    @Override
    public void prepare(LaunchContext context) {
        LabHost.check();
        LabHost.ensureInotifyFor(config.fleetSize() + machines.othersOnHost()).ifPresent(System.err::println);
        machines.baseImage().ensure();
    }

    /**
     * Starts booting every requested machine in the background (at most {@code parallelism} at once) and returns at
     * once: machines being booted come back {@link MachineState#PENDING} without an address, running ones already of
     * this workshop are adopted as they are. {@link #awaitRunning(Collection, Duration, Consumer)} reports each as it
     * comes up.
     */
    @Override
    public List<Machine> createNodes(LaunchContext context, List<NodeRequest> requests) {
        for (NodeRequest r : requests) {
            if (!r.userData().startsWith("#cloud-config")) {
                throw new BadInput("lab: user data for " + r.name() + " is not a #cloud-config document;"
                        + " the lab applies user data with cloud-init's NoCloud datasource");
            }
        }
        LabHost.check();
        // From a baked image: its layer (checked here, before any machine is booted) goes under each machine's own.
        java.nio.file.Path layer = context.imageId() == null ? null : machines.images().layer(context.imageId());
        Map<String, LabMachine> existing = machines.list().stream()
                .collect(Collectors.toMap(LabMachine::name, Function.identity()));
        List<Machine> out = new ArrayList<>();
        for (NodeRequest r : requests) {
            CompletableFuture<Machine> inFlight = booting.get(r.name());
            if (inFlight != null && !inFlight.isDone()) {
                out.add(pending(r));
                continue;
            }
            LabMachine adopted = existing.get(r.name());
            if (adopted != null && machines.isRunning(r.name())) {
                out.add(machine(r.name(), adopted.ip()));
                continue;
            }
            if (adopted != null) {
                machines.destroy(r.name()); // its record outlived its container: boot it afresh
            }
            // Recorded before it exists: a crash during boot still leaves the ledger pointing at it.
            recorder.created(new CloudResource(ResourceKind.LAB_MACHINE, r.name(), r.name(), r.attendee()));
            booting.put(r.name(), CompletableFuture.supplyAsync(() -> boot(r, context.imageId(), layer), bootPool()));
            out.add(pending(r));
        }
        return out;
    }

    private Machine boot(NodeRequest r, String imageId, java.nio.file.Path layer) {
        try {
            LabMachine m = layer == null ? machines.boot(r.name(), r.userData())
                    : machines.bootFromImage(r.name(), r.userData(), imageId, layer);
            return machine(m.name(), m.ip());
        } catch (RuntimeException e) {
            // The machine is gone (boot cleans up after itself); its launch fails, the others go on.
            System.err.println(e.getMessage());
            return new Machine(r.name(), r.name(), r.attendee(), MachineState.TERMINATED, null, "lab", Instant.now());
        }
    }

    private static Machine pending(NodeRequest r) {
        return new Machine(r.name(), r.name(), r.attendee(), MachineState.PENDING, null, "lab", Instant.now());
    }

    private synchronized ExecutorService bootPool() {
        if (bootPool == null) {
            // Not a FanOut: boots run on after launchNodes returns (awaitRunning collects them), and a failed boot is
            // a terminated machine, not a reason to stop the others.
            int threads = Math.max(1, config.parallelism());
            ThreadPoolExecutor pool = new ThreadPoolExecutor(threads, threads, 10, TimeUnit.SECONDS,
                    new LinkedBlockingQueue<>(), FanOut.daemons("lab-boot"));
            pool.allowCoreThreadTimeOut(true);
            bootPool = pool;
        }
        return bootPool;
    }

    /**
     * Reports machines already running at once and each machine this instance is booting as soon as its sshd answers;
     * at the timeout, machines still booting come back {@link MachineState#PENDING} (their boot goes on).
     */
    @Override
    public List<Machine> awaitRunning(Collection<String> machineIds, Duration timeout, Consumer<Machine> onRunning) {
        List<String> ids = List.copyOf(new LinkedHashSet<>(machineIds));
        Map<String, Machine> result = new HashMap<>();
        BlockingQueue<Machine> booted = new LinkedBlockingQueue<>();
        int waiting = 0;
        Map<String, Machine> live = null;
        for (String id : ids) {
            CompletableFuture<Machine> f = booting.get(id);
            if (f != null) {
                f.thenAccept(booted::add);
                waiting++;
                continue;
            }
            if (live == null) {
                live = listNodes().stream().collect(Collectors.toMap(Machine::id, Function.identity()));
            }
            Machine m = live.getOrDefault(id, new Machine(id, id, attendeeOf(id), MachineState.TERMINATED, null, "lab", null));
            result.put(id, m);
            if (m.isRunningWithAddress()) {
                onRunning.accept(m);
            }
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            for (; waiting > 0; waiting--) {
                Machine m = booted.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (m == null) {
                    break;
                }
                result.put(m.id(), m);
                if (m.isRunningWithAddress()) {
                    onRunning.accept(m);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Interrupted("booting lab machines", e);
        }
        return ids.stream().map(id -> result.getOrDefault(id,
                new Machine(id, id, attendeeOf(id), MachineState.PENDING, null, "lab", null))).toList();
    }

    /** Lets boots in flight finish in the background (their threads are daemons; the machines are recorded). */
    @Override
    public synchronized void close() {
        if (bootPool != null) {
            bootPool.shutdown();
        }
    }

    @Override
    public List<Machine> listNodes() {
        // One read of the records for the whole list (per-machine look-ups would read them all N times).
        return machines.records().stream().map(r -> new Machine(r.name(), r.name(), attendeeOf(r.name()),
                r.processAlive() ? MachineState.RUNNING : MachineState.STOPPED, r.ip(), "lab", r.createdAt()))
                .toList();
    }

    @Override
    public void destroyNodes(Collection<String> machineIds) {
        // Host commands block: a bounded pool of their own, not the JVM-wide common pool; every machine is tried,
        // then the first failure is thrown.
        FanOut.values(new FanOut("lab-destroy", Math.max(1, config.parallelism())).each(machineIds.stream()
                .<Callable<Void>>map(id -> () -> {
                    machines.destroy(id);
                    recorder.deleted(ResourceKind.LAB_MACHINE, id);
                    return null;
                }).toList()));
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
