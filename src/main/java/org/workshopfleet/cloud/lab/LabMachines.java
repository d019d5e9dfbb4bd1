package org.workshopfleet.cloud.lab;

import org.workshopfleet.error.BadInput;
import org.workshopfleet.error.CloudFailure;
import org.workshopfleet.error.FleetException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import org.workshopfleet.concurrent.Waiter;

/**
 * Local Debian 12 machines: each a systemd-nspawn container booting systemd over a copy-on-write overlay of the
 * {@link BaseImage}, in its own network namespace with its own address on the {@link LabNetwork} bridge, configured at
 * first boot by cloud-init's NoCloud datasource from the user-data it was given.
 *
 * <p>One instance manages the machines of one <em>scope</em> (a workshop, the EC2 fake, a test run); machines of other
 * scopes are never touched, except for objects carrying our {@code wf-} prefix that no record owns (leftovers of a
 * crash between removing things and deleting the record). Every host object a machine needs is described by a record
 * under {@code /run/workshop-fleet/lab/machines/} written before the object is created, so a new instance after a
 * crash finds and removes everything. This class boots, stops and takes layers; removing what a record names, and
 * sweeping a scope or the host, is the {@link LabSweeper}'s. Needs root.
 */
public final class LabMachines {

    /** Prefix of every host object name the lab creates (netns, links, machine folders, nspawn machine names). */
    public static final String PREFIX = LabMachineRecord.PREFIX;
    private static final Pattern NAME = Pattern.compile("[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?");
    private static final Duration SSH_TIMEOUT = Duration.ofSeconds(240);
    /** An sshd banner check is a TCP connect: every 300 ms, for as long as a first boot may take. */
    private static final Waiter SSH_POLL = new Waiter(Duration.ofMillis(300), Duration.ofMillis(300), 1, 0,
            SSH_TIMEOUT);
    private static final String WAITING_FOR = "waiting for a lab machine";

    /**
     * The smallest addition to nspawn's defaults that lets bpftrace (as root in the machine) load BPF programs and
     * attach uprobes/USDT probes: allow the {@code bpf} and {@code perf_event_open} system calls, which nspawn's
     * seccomp filter refuses with EPERM. nspawn's default capability set already holds CAP_SYS_ADMIN, which the
     * kernel accepts for both; no tracefs, debugfs or /sys/fs/bpf mount is needed (uprobes attach through the perf
     * uprobe PMU). A lab machine is not a security boundary: its root can load kernel BPF programs.
     */
    public static final List<String> EBPF_OPTIONS = List.of("--system-call-filter=bpf perf_event_open");

    private final String scope;
    private final LabPaths paths;
    private final BaseImage base;
    private final LabNetwork network;
    private final LabSweeper sweeper;

    /** Machines of {@code scope} in the standard locations ({@link LabPaths#standard()}). */
    public LabMachines(String scope) {
        this(scope, LabPaths.standard());
    }

    public LabMachines(String scope, LabPaths paths) {
        if (scope == null || !NAME.matcher(scope).matches()) {
            throw new BadInput("lab scope '" + scope + "' is not allowed: use lower-case letters, digits and hyphens");
        }
        this.scope = scope;
        this.paths = paths;
        this.base = new BaseImage(paths);
        this.network = new LabNetwork(paths);
        this.sweeper = new LabSweeper(paths, network);
    }

    /** The baked images on this host (shared by every scope). */
    public LabImages images() {
        return new LabImages(paths);
    }

    /** The base image these machines boot from. */
    public BaseImage baseImage() {
        return base;
    }

    /**
     * Boots a machine able to run eBPF tools ({@link #EBPF_OPTIONS}) and returns once its sshd accepts connections
     * (cloud-init may still be running: wait for {@code /run/cloud-init/result.json} over SSH). Builds the base image
     * first if needed. Safe to call from several threads and processes at once.
     *
     * @param name        host name, lower-case letters, digits and hyphens; unique on this host
     * @param rawUserData the cloud-init user-data, as the machine should read it ({@code #cloud-config ...})
     */
    public LabMachine boot(String name, String rawUserData) {
        return boot(name, rawUserData, EBPF_OPTIONS);
    }

    /**
     * As {@link #boot(String, String)}, with exactly these extra {@code systemd-nspawn} options ({@code List.of()}
     * gives nspawn's default sandbox, in which bpf(2) is refused).
     */
    public LabMachine boot(String name, String rawUserData, List<String> extraNspawnOptions) {
        return boot(name, rawUserData, extraNspawnOptions, null, null);
    }

    /**
     * As {@link #boot(String, String)}, from a baked image: {@code imageLayer} is mounted read-only above the base image
     * (the machine's own upper layer above both), and the record names {@code imageId} so the image is not removed while
     * the machine exists.
     */
    public LabMachine bootFromImage(String name, String rawUserData, String imageId, Path imageLayer) {
        return boot(name, rawUserData, EBPF_OPTIONS, imageId, imageLayer);
    }

    private LabMachine boot(String name, String rawUserData, List<String> extraNspawnOptions, String imageId,
                            Path imageLayer) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new BadInput("lab machine name '" + name + "' is not allowed: use 1-48 lower-case letters,"
                    + " digits and inner hyphens");
        }
        Path rootfs = base.ensure();
        String lower = imageLayer == null ? rootfs.toString() : imageLayer + ":" + rootfs;
        LabMachineRecord rec = allocate(name, imageId);
        try {
            plumb(rec);
            Path dir = rec.machineDir();
            // Root-only: the machine's layer will hold the user-data, which may carry a private host key.
            Files.createDirectories(paths.machinesDir());
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            Files.createDirectories(dir.resolve("upper"));
            Files.createDirectories(dir.resolve("work"));
            Files.createDirectories(rec.merged());
            HostCommand.check("mount", "-t", "overlay", "overlay", "-o", "lowerdir=" + lower + ",upperdir="
                    + dir.resolve("upper") + ",workdir=" + dir.resolve("work"), rec.merged().toString());
            Path seed = rec.merged().resolve("var/lib/cloud/seed/nocloud");
            Files.createDirectories(seed);
            Files.writeString(seed.resolve("meta-data"), "instance-id: " + rec.labName() + "\nlocal-hostname: " + name
                    + "\n");
            // The user-data may hold a private host key: root-only from the start, as cloud-init's own copies are.
            Files.createFile(seed.resolve("user-data"),
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(seed.resolve("user-data"), rawUserData);
            // Each machine gets a cgroup of its own before nspawn starts: with --keep-unit nspawn puts its container
            // under the cgroup it was started in, and two containers sharing one would manage each other's units
            // (the second one's systemd then loses track of its services' main processes).
            List<String> cmd = new ArrayList<>(List.of("sh", "-c", CGROUP_THEN_EXEC, "lab-cgroup",
                    LabSweeper.CGROUP_PARENT + "/" + rec.labName(), "setsid", "systemd-nspawn", "--quiet", "--register=no",
                    "--keep-unit", "--machine=" + rec.labName(), "-D", rec.merged().toString(), "-b",
                    "--network-namespace-path=/run/netns/" + rec.netns(), "--console=read-only",
                    "--resolv-conf=copy-host"));
            cmd.addAll(extraNspawnOptions);
            // setsid: the container must outlive this JVM (lab fleets stay up after `up` exits) and not get its ^C.
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("console.log").toFile())).start();
            rec = rec.withProcess(p.pid(), LabMachineRecord.startTicks(p.pid()).orElse(0L));
            rec.write(paths.recordsDir());
            awaitSsh(rec, p);
            return new LabMachine(name, rec.ip());
        } catch (IOException | RuntimeException e) {
            String why = e instanceof FleetException ? e.getMessage() : e.toString();
            why = why.replace(rec.machineDir().resolve("console.log").toString(), keepConsoleLog(rec).toString());
            try {
                sweeper.remove(rec);
            } catch (RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw new CloudFailure("lab: booting " + name + " failed: " + why, e);
        }
    }

    /**
     * Brings the lab bridge, and with it {@link LabNetwork#HOST_ADDRESS}, up before any machine exists, so that servers
     * the machines will reach (test stand-ins, a rehearsal's mirror) can bind to it first. It goes away with the last
     * machine, or with {@link #destroyAll()} when no machine exists.
     */
    public void ensureNetwork() {
        try (HostLock ignored = HostLock.acquire(paths.lockFile())) {
            Files.createDirectories(paths.holdersDir());
            Files.writeString(paths.holdersDir().resolve(scope), "");
            network.ensureUp();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Machines of this scope that have a record (running, or left by a crash). */
    public List<LabMachine> list() {
        return records().stream().map(r -> new LabMachine(r.name(), r.ip())).toList();
    }

    /** Lab machines of other scopes on this host (they share its limits). */
    public int othersOnHost() {
        return (int) LabMachineRecord.readAll(paths.recordsDir()).stream().filter(r -> !r.scope().equals(scope)).count();
    }

    /** When the named machine of this scope was created, if it exists. */
    Optional<Instant> createdAt(String name) {
        return records().stream().filter(r -> r.name().equals(name)).map(LabMachineRecord::createdAt).findFirst();
    }

    /** True if the named machine of this scope has its nspawn process alive. */
    public boolean isRunning(String name) {
        return records().stream().filter(r -> r.name().equals(name)).anyMatch(LabMachineRecord::processAlive);
    }

    /** The machine's console output (boot messages, cloud-init's host key fingerprints). */
    public Path consoleLog(String name) {
        return paths.machinesDir().resolve(PREFIX + name).resolve("console.log");
    }

    /**
     * Powers the named machine off cleanly (SIGTERM to nspawn: the container's systemd shuts down and syncs), unmounts
     * it and moves its upper layer to {@code target} (which must not exist, on the cache's file system). The machine's
     * record, network and folder stay until {@link #destroy(String)}.
     */
    public void takeLayer(String name, Path target) {
        LabMachineRecord r = records().stream().filter(x -> x.name().equals(name)).findFirst().orElseThrow(
                () -> new CloudFailure("lab: no machine " + name + " of " + scope + " to take a layer from"));
        Duration grace = LabSweeper.STOP_GRACE.multipliedBy(2);
        if (!LabSweeper.powerOff(r, grace)) {
            throw new CloudFailure("lab: " + name + " did not power off within " + grace.toSeconds()
                    + " s; its layer is not taken (see " + r.machineDir().resolve("console.log") + ")");
        }
        LabSweeper.killNamespace(r.netns());
        HostMounts.unmount(r.merged());
        if (HostMounts.isMountPoint(r.merged())) {
            throw new CloudFailure("lab: " + r.merged() + " is still mounted; its layer is not taken");
        }
        try {
            Files.move(r.machineDir().resolve("upper"), target);
        } catch (IOException e) {
            throw new UncheckedIOException("lab: cannot move the layer of " + name + " to " + target, e);
        }
    }

    /** Stops and removes the named machine of this scope; does nothing if it does not exist. */
    public void destroy(String name) {
        for (LabMachineRecord r : records()) {
            if (r.name().equals(name)) {
                sweeper.remove(r);
            }
        }
    }

    /**
     * Removes every machine of this scope (including those a crashed process left behind) and any {@code wf-} object
     * no record owns; when no lab machine is left on the host, the bridge, NAT rules and ip_forward go back too.
     *
     * @return how many machines of this scope were removed
     */
    public int destroyAll() {
        return sweeper.sweepScope(scope);
    }

    /** This scope's machine records, read once. */
    List<LabMachineRecord> records() {
        return LabMachineRecord.readAll(paths.recordsDir()).stream().filter(r -> r.scope().equals(scope)).toList();
    }

    /** Reserves a name, slot and address (the record) and brings the shared network up, under the host lock. */
    private LabMachineRecord allocate(String name, String imageId) {
        String labName = PREFIX + name;
        try (HostLock ignored = HostLock.acquire(paths.lockFile())) {
            List<LabMachineRecord> all = LabMachineRecord.readAll(paths.recordsDir());
            Set<Integer> used = new HashSet<>();
            for (LabMachineRecord r : all) {
                if (r.labName().equals(labName)) {
                    throw new BadInput("lab machine " + name + " already exists (scope " + r.scope()
                            + "): destroy it first or pick another name");
                }
                used.add(r.slot());
            }
            int slot = 1;
            while (used.contains(slot)) {
                slot++;
            }
            if (slot > LabNetwork.MAX_SLOT) {
                throw new CloudFailure("lab: no free address left in " + LabNetwork.SUBNET);
            }
            LabMachineRecord rec = new LabMachineRecord(labName, name, scope, slot, LabNetwork.addressOf(slot),
                    PREFIX + "v" + slot, paths.machinesDir().resolve(labName), 0, 0, Instant.now(), imageId);
            rec.write(paths.recordsDir());
            try {
                network.ensureUp();
            } catch (RuntimeException e) {
                LabMachineRecord.delete(paths.recordsDir(), labName);
                sweeper.releaseNetworkIfUnused();
                throw e;
            }
            return rec;
        }
    }

    /**
     * The machine's network namespace and veth pair: the host end on the bridge, the machine end {@code eth0} with its
     * address and a default route via the host. Outside the lock: the names are the record's own.
     */
    private static void plumb(LabMachineRecord rec) {
        // Leftovers of a crash with the same names (no record owned them: this record was just created) go first.
        HostCommand.quietly("ip", "link", "del", "dev", rec.hostVeth());
        HostCommand.quietly("ip", "netns", "del", rec.netns());
        HostCommand.check("ip", "netns", "add", rec.netns());
        HostCommand.check("ip", "link", "add", rec.hostVeth(), "type", "veth", "peer", "name", "eth0", "netns",
                rec.netns());
        HostCommand.check("ip", "link", "set", rec.hostVeth(), "master", LabNetwork.BRIDGE, "up");
        HostCommand.check("ip", "-n", rec.netns(), "addr", "add", rec.ip() + "/16", "dev", "eth0");
        HostCommand.check("ip", "-n", rec.netns(), "link", "set", "lo", "up");
        HostCommand.check("ip", "-n", rec.netns(), "link", "set", "eth0", "up");
        HostCommand.check("ip", "-n", rec.netns(), "route", "add", "default", "via", LabNetwork.HOST_ADDRESS);
    }

    private void awaitSsh(LabMachineRecord rec, Process nspawn) {
        boolean answered = SSH_POLL.until(() -> {
            if (!nspawn.isAlive()) {
                throw new CloudFailure("systemd-nspawn exited with " + nspawn.exitValue() + "; see "
                        + rec.machineDir().resolve("console.log"));
            }
            return sshBanner(rec.ip());
        }, Boolean::booleanValue, p -> { }, WAITING_FOR).isPresent();
        if (answered) {
            return;
        }
        throw new CloudFailure("sshd did not answer on " + rec.ip() + ":22 within " + SSH_TIMEOUT.toSeconds()
                + " s; see " + rec.machineDir().resolve("console.log"));
    }

    private static boolean sshBanner(String ip) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(ip, 22), 1000);
            s.setSoTimeout(3000);
            InputStream in = s.getInputStream();
            byte[] b = in.readNBytes(4);
            return new String(b, StandardCharsets.US_ASCII).equals("SSH-");
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Moves the shell into {@code <root>/$1} of each writable cgroup hierarchy that has a {@code cgroup.procs} file at its
     * root (v1 name=systemd, the hybrid unified tree, or a pure v2 /sys/fs/cgroup), then execs the rest of its arguments.
     */
    private static final String CGROUP_THEN_EXEC = "g=$1; shift; "
            + "for h in /sys/fs/cgroup/systemd /sys/fs/cgroup/unified /sys/fs/cgroup; do "
            + "[ -f \"$h/cgroup.procs\" ] || continue; mkdir -p \"$h/$g\" && echo $$ > \"$h/$g/cgroup.procs\" || exit 1; done; "
            + "exec \"$@\"";

    /** Copies a failed machine's console log out of its folder (which destroy removes) to {@code <cache>/logs/}. */
    private Path keepConsoleLog(LabMachineRecord rec) {
        Path kept = paths.cacheDir().resolve("logs").resolve(rec.labName() + ".console.log");
        try {
            Files.createDirectories(kept.getParent());
            Path log = rec.machineDir().resolve("console.log");
            if (Files.exists(log)) {
                Files.copy(log, kept, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            return rec.machineDir().resolve("console.log");
        }
        return kept;
    }
}
