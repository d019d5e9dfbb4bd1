package org.workshopfleet.cloud.lab;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.workshopfleet.FleetException;

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
            throw new FleetException(problem.get());
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
