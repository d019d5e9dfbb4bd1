package org.workshopfleet.cloud.lab;

import org.workshopfleet.error.BadInput;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** What the host needs before it can run lab machines: root, the tools, and overlayfs. */
public final class LabHost {

    /** Program → Debian package that provides it. */
    static final Map<String, String> TOOLS = tools();

    private LabHost() {
    }

    private static Map<String, String> tools() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("debootstrap", "debootstrap");
        m.put("systemd-nspawn", "systemd-container");
        m.put("ip", "iproute2");
        m.put("iptables", "iptables");
        m.put("mount", "mount");
        m.put("setsid", "util-linux");
        return m;
    }

    /**
     * Fails with one line saying what to do when lab machines cannot run here: not root, a program missing (naming
     * the Debian packages to install), or no overlayfs in the kernel.
     */
    public static void check() {
        Optional<String> problem = problem();
        if (problem.isPresent()) {
            throw new BadInput(problem.get());
        }
    }

    /** The first reason lab machines cannot run here, if any (tests turn it into a skip). */
    public static Optional<String> problem() {
        if (!isRoot()) {
            return Optional.of("the lab needs root (it creates network namespaces, mounts and containers):"
                    + " run as root, e.g. sudo -E mvn exec:java -Dprovider=lab");
        }
        List<String> missing = new ArrayList<>();
        TOOLS.forEach((tool, pkg) -> {
            if (which(tool).isEmpty() && !missing.contains(pkg)) {
                missing.add(pkg);
            }
        });
        if (!missing.isEmpty()) {
            return Optional.of("the lab needs programs that are not installed: run apt-get install -y "
                    + String.join(" ", missing));
        }
        try {
            if (!Files.readString(Path.of("/proc/filesystems")).contains("\toverlay")) {
                return Optional.of("the lab needs overlayfs: run modprobe overlay");
            }
        } catch (IOException e) {
            return Optional.of("the lab needs /proc: run it on a Linux host");
        }
        return Optional.empty();
    }

    /** The per-user limit on inotify instances; every lab machine's root processes count against the host's root. */
    static final Path INOTIFY_KNOB = Path.of("/proc/sys/fs/inotify/max_user_instances");

    /**
     * inotify instances one running lab machine holds: its systemd (PID 1 and the user manager), journald, udevd,
     * logind, dbus and cloud-init's units, all as the host's root (nspawn without a user namespace). Measured on Debian
     * 12 machines by FleetBenchmark ({@code inotify instances in use}); rounded up for headroom.
     */
    public static final int INOTIFY_PER_MACHINE = 8;

    /** Left for the host's own root processes besides the lab: Debian's whole default. */
    static final int INOTIFY_HOST_RESERVE = 128;

    /**
     * Makes room for {@code machines} running lab machines in {@code fs.inotify.max_user_instances}: Debian's default
     * of 128 runs out at about 19 of them (PID 1 of the next container dies with "Too many open files"). Raises it when
     * it is lower (until the next reboot; a higher value is never lowered) and returns the one-line notice to show;
     * empty when nothing changed. Fails with one line saying how to raise it when this process cannot.
     */
    public static Optional<String> ensureInotifyFor(int machines) {
        int wanted = inotifyNeeded(machines);
        int current;
        try {
            current = readSysctl(INOTIFY_KNOB);
        } catch (IOException | NumberFormatException e) {
            return Optional.empty(); // no such knob (not Linux, or an old kernel): nothing to raise
        }
        if (current >= wanted) {
            return Optional.empty();
        }
        String how = "sysctl -w fs.inotify.max_user_instances=" + wanted;
        if (!isRoot()) {
            throw new BadInput("the lab needs fs.inotify.max_user_instances >= " + wanted + " for " + machines
                    + " machine(s) (it is " + current + "): run " + how + " as root");
        }
        try {
            Files.writeString(INOTIFY_KNOB, wanted + "\n");
        } catch (IOException e) {
            throw new BadInput("the lab needs fs.inotify.max_user_instances >= " + wanted + " for " + machines
                    + " machine(s) (it is " + current + ") and it cannot be raised from here (" + e.getMessage()
                    + "): run " + how + " on the host");
        }
        return Optional.of("lab: raised fs.inotify.max_user_instances from " + current + " to " + wanted + " for "
                + machines + " machine(s) (about " + INOTIFY_PER_MACHINE + " each; back to the default at reboot)");
    }

    /** The limit {@code machines} lab machines need. */
    static int inotifyNeeded(int machines) {
        return INOTIFY_HOST_RESERVE + INOTIFY_PER_MACHINE * Math.max(0, machines);
    }

    /**
     * One read() call: a sysctl file answers only a read at offset 0 (a second read returns end of file), so a reader
     * that takes the first byte alone would see "1" for "128".
     */
    static int readSysctl(Path knob) throws IOException {
        try (java.io.InputStream in = Files.newInputStream(knob)) {
            byte[] buf = new byte[64];
            int n = in.read(buf);
            return Integer.parseInt(new String(buf, 0, Math.max(0, n), java.nio.charset.StandardCharsets.US_ASCII).trim());
        }
    }

    static boolean isRoot() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    return line.split("\\s+")[2].equals("0"); // effective uid
                }
            }
        } catch (IOException e) {
            return false;
        }
        return false;
    }

    static Optional<Path> which(String program) {
        String path = System.getenv().getOrDefault("PATH", "") + ":/usr/sbin:/sbin:/usr/bin:/bin";
        for (String dir : path.split(":")) {
            if (!dir.isEmpty()) {
                Path p = Path.of(dir, program);
                if (Files.isExecutable(p)) {
                    return Optional.of(p);
                }
            }
        }
        return Optional.empty();
    }
}
