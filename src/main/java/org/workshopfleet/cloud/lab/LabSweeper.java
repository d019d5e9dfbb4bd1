package org.workshopfleet.cloud.lab;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.workshopfleet.concurrent.FanOut;
import org.workshopfleet.concurrent.Waiter;
import org.workshopfleet.error.CloudFailure;

/**
 * Removes what lab machines hold on the host: everything one machine's record names (container, network namespace,
 * veth, cgroups, overlay mount, folder, record), every machine of a scope including those a crashed process left, and
 * objects carrying the {@code wf-} prefix that no record owns. When no machine and no network holder is left, the
 * shared {@link LabNetwork} (bridge, NAT rules, ip_forward) goes back too.
 */
final class LabSweeper {

    /** Machines stopped at once by {@link #sweepScope}: each waits for its container to power off, mostly idle. */
    static final int DESTROY_PARALLELISM = 4;
    /** How long a container's systemd gets to power off after SIGTERM before it is killed. */
    static final Duration STOP_GRACE = Duration.ofSeconds(30);
    /** Process and power-off checks are cheap /proc reads: every 100 ms. */
    private static final Waiter PROCESS_POLL = new Waiter(Duration.ofMillis(100), Duration.ofMillis(100), 1, 0,
            STOP_GRACE);
    private static final String WAITING_FOR = "waiting for a lab machine";
    /** Where machines' cgroups live in every mounted hierarchy (name=systemd, unified, or the whole v2 tree). */
    static final String CGROUP_PARENT = "workshop-fleet";
    private static final List<Path> CGROUP_ROOTS = List.of(Path.of("/sys/fs/cgroup/systemd"),
            Path.of("/sys/fs/cgroup/unified"), Path.of("/sys/fs/cgroup"));

    private final LabPaths paths;
    private final LabNetwork network;

    LabSweeper(LabPaths paths, LabNetwork network) {
        this.paths = paths;
        this.network = network;
    }

    /**
     * Removes every machine of this scope (including those a crashed process left behind), its network holder, and any
     * {@code wf-} object no record owns; every machine is tried even when one fails, then the first failure is thrown.
     *
     * @return how many machines of this scope were removed
     */
    int sweepScope(String scope) {
        try (HostLock ignored = HostLock.acquire(paths.lockFile())) {
            Files.deleteIfExists(paths.holdersDir().resolve(scope));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<LabMachineRecord> mine = LabMachineRecord.readAll(paths.recordsDir()).stream()
                .filter(r -> r.scope().equals(scope)).toList();
        FanOut.values(new FanOut("lab-destroy", DESTROY_PARALLELISM).each(mine.stream().<Callable<Void>>map(r -> () -> {
            remove(r);
            return null;
        }).toList()));
        sweepUnrecorded();
        return mine.size();
    }

    /**
     * Stops the container (SIGTERM makes nspawn power the container's systemd off; SIGKILL after a grace period and
     * for anything left in its network namespace), then removes mount, links, namespace, folder and record.
     */
    void remove(LabMachineRecord r) {
        if (!powerOff(r, STOP_GRACE)) {
            ProcessHandle.of(r.nspawnPid()).ifPresent(ProcessHandle::destroyForcibly);
        }
        killNamespace(r.netns());
        removeCgroups(r.labName());
        HostMounts.unmount(r.merged());
        HostCommand.quietly("ip", "link", "del", "dev", r.hostVeth());
        HostCommand.quietly("ip", "netns", "del", r.netns());
        if (Files.exists(r.machineDir())) {
            if (HostMounts.isMountPoint(r.merged())) {
                throw new CloudFailure("lab: " + r.merged() + " is still mounted; not removing " + r.machineDir());
            }
            HostCommand.check("rm", "-rf", "--one-file-system", r.machineDir().toString());
        }
        try (HostLock ignored = HostLock.acquire(paths.lockFile())) {
            LabMachineRecord.delete(paths.recordsDir(), r.labName());
            releaseNetworkIfUnused();
        }
    }

    /**
     * SIGTERM to the machine's nspawn process, if it is still the one we started, and waits up to {@code grace} for it
     * to exit. Returns whether it is gone.
     */
    static boolean powerOff(LabMachineRecord r, Duration grace) {
        if (r.processAlive()) {
            ProcessHandle.of(r.nspawnPid()).ifPresent(ProcessHandle::destroy);
            PROCESS_POLL.withTimeout(grace).until(() -> !r.processAlive(), Boolean::booleanValue, p -> { },
                    WAITING_FOR);
            return !r.processAlive();
        }
        return true;
    }

    /** Releases the lab network when no machine and no holder needs it any more. The caller holds the host lock. */
    void releaseNetworkIfUnused() {
        if (!LabMachineRecord.readAll(paths.recordsDir()).isEmpty()) {
            return;
        }
        try (Stream<Path> holders = Files.isDirectory(paths.holdersDir()) ? Files.list(paths.holdersDir()) : Stream.empty()) {
            if (holders.findAny().isPresent()) {
                return;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        network.release();
    }

    /** Removes netns, veths, mounts and machine folders carrying our prefix that no record owns. */
    private void sweepUnrecorded() {
        String prefix = LabMachineRecord.PREFIX;
        try (HostLock ignored = HostLock.acquire(paths.lockFile())) {
            List<LabMachineRecord> all = LabMachineRecord.readAll(paths.recordsDir());
            Set<String> owned = new HashSet<>();
            for (LabMachineRecord r : all) {
                owned.add(r.labName());
                owned.add(r.hostVeth());
            }
            for (String line : HostCommand.quietly("ip", "netns", "list").output().split("\n")) {
                String ns = line.split("\\s+")[0];
                if (ns.startsWith(prefix) && !owned.contains(ns)) {
                    killNamespace(ns);
                    HostCommand.quietly("ip", "netns", "del", ns);
                }
            }
            for (String line : HostCommand.quietly("ip", "-o", "link", "show", "type", "veth").output().split("\n")) {
                String[] f = line.split(":\\s+");
                if (f.length > 1) {
                    String link = f[1].split("@")[0];
                    if (link.startsWith(prefix + "v") && !owned.contains(link)) {
                        HostCommand.quietly("ip", "link", "del", "dev", link);
                    }
                }
            }
            if (Files.isDirectory(paths.machinesDir())) {
                try (Stream<Path> dirs = Files.list(paths.machinesDir())) {
                    for (Path d : dirs.filter(d -> d.getFileName().toString().startsWith(prefix)).toList()) {
                        if (!owned.contains(d.getFileName().toString())) {
                            HostMounts.unmount(d.resolve("merged"));
                            if (!HostMounts.isMountPoint(d.resolve("merged"))) {
                                HostCommand.quietly("rm", "-rf", "--one-file-system", d.toString());
                            }
                        }
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
            releaseNetworkIfUnused();
        }
    }

    /** SIGKILLs every process in the named network namespace (after nspawn itself died, its container may not have). */
    static void killNamespace(String netns) {
        Path nsFile = Path.of("/run/netns", netns);
        if (!Files.exists(nsFile)) {
            return;
        }
        for (int round = 0; round < 50; round++) {
            Object key = inodeKey(nsFile);
            if (key == null) {
                return;
            }
            List<Long> inside = new ArrayList<>();
            try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
                for (Path p : procs.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
                    if (key.equals(inodeKey(p.resolve("ns/net")))) {
                        inside.add(Long.parseLong(p.getFileName().toString()));
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            if (inside.isEmpty()) {
                return;
            }
            inside.forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
            Waiter.sleep(Duration.ofMillis(100), WAITING_FOR);
        }
    }

    private static Object inodeKey(Path p) {
        try {
            return Files.readAttributes(p, BasicFileAttributes.class).fileKey();
        } catch (IOException e) {
            return null;
        }
    }

    /** Removes a destroyed machine's cgroups (empty once its processes are gone), deepest first. */
    private static void removeCgroups(String labName) {
        for (Path root : CGROUP_ROOTS) {
            Path dir = root.resolve(CGROUP_PARENT).resolve(labName);
            if (!Files.isDirectory(dir)) {
                continue;
            }
            try (Stream<Path> walk = Files.walk(dir)) {
                for (Path d : walk.filter(Files::isDirectory).sorted(Comparator.reverseOrder()).toList()) {
                    try {
                        Files.delete(d); // rmdir on cgroupfs; fails (and stays) only if a process is still inside
                    } catch (IOException stillBusy) {
                        // left for the next teardown's sweep
                    }
                }
            } catch (IOException | UncheckedIOException e) {
                // a hierarchy we cannot read: nothing of ours to remove there
            }
            try {
                Files.deleteIfExists(root.resolve(CGROUP_PARENT)); // only succeeds once no machine is left
            } catch (IOException othersRemain) {
                // other machines still use it
            }
        }
    }
}
