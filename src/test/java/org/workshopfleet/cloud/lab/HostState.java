package org.workshopfleet.cloud.lab;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * A snapshot of everything on the host a lab machine touches, to assert that destroying machines puts the host back
 * exactly as it was.
 *
 * <p>The host may be shared with other processes making their own namespaces, links and rules while a test runs
 * (other helpers' containers, parallel CI jobs), so {@link #assertRestored} demands exact equality of everything
 * carrying the lab's names ({@code wf-}, {@code workshop-fleet}) and of ip_forward, and full equality otherwise only
 * reports what others changed.
 */
public record HostState(String netns, String links, String natRules, String filterRules, String mounts, String nspawns,
                 String ipForward, String records) {

    /**
     * Asserts the host is back to {@code before}; see the class comment for what foreign changes are tolerated. When
     * another process had lab machines of its own at either moment (the shared bridge and NAT then rightly stay), only
     * the absence of this test's machines ({@code labNames}, i.e. {@code wf-<name>}) is asserted.
     */
    public static void assertRestored(HostState before, HostState after, String... labNames) {
        boolean labSharedMeanwhile = !before.records().equals(NO_RECORDS) || !after.records().equals(NO_RECORDS);
        if (labSharedMeanwhile) {
            for (String name : labNames) {
                org.junit.jupiter.api.Assertions.assertFalse(after.ours().toString().contains(name),
                        name + " left something behind: " + after.ours());
            }
            System.out.println("lab: other lab machines existed during the test; checked only that "
                    + String.join(", ", labNames) + " left nothing");
            return;
        }
        org.junit.jupiter.api.Assertions.assertEquals(before.ours(), after.ours(),
                "every lab object is gone and ip_forward is restored");
        if (before.equals(after)) {
            System.out.println("lab: host state after teardown is identical to before");
        } else {
            System.out.println("lab: host state identical for the lab's objects; other processes changed the rest"
                    + " meanwhile:\nbefore: " + before + "\nafter:  " + after);
        }
    }

    private static final String NO_RECORDS = "[] []";

    /**
     * Only the lines naming the lab's objects, ip_forward (which is global) and the {@code /run/netns} folder and mount
     * ({@code ip netns add} creates and bind-mounts it the first time; no one else's names are in those two lines).
     */
    HostState ours() {
        return new HostState(mine(netns), mine(links), mine(natRules), mine(filterRules), mineOrNetns(mounts),
                mine(nspawns), ipForward, records);
    }

    private static String mineOrNetns(String lines) {
        return String.join("\n", lines.lines().filter(l -> l.contains("wf-") || l.contains("workshop-fleet")
                || l.equals(NETNS_DIR) || l.equals("folder " + NETNS_DIR)).toList());
    }

    private static final String NETNS_DIR = "/run/netns";

    private static String mine(String lines) {
        return String.join("\n", lines.lines().filter(l -> l.contains("wf-") || l.contains("workshop-fleet")).toList());
    }

    public static HostState capture(LabPaths paths) {
        return new HostState(
                HostCommand.quietly("ip", "netns", "list").output(),
                HostCommand.quietly("ip", "-o", "link", "show").output().replaceAll("\\\\\\s+", " "),
                HostCommand.quietly("iptables", "-t", "nat", "-S").output(),
                HostCommand.quietly("iptables", "-S").output(),
                mountsUnder(paths),
                nspawnProcesses(),
                read(Path.of("/proc/sys/net/ipv4/ip_forward")),
                list(paths.runDir().resolve("lab/machines")) + " " + list(paths.machinesDir()));
    }

    private static String mountsUnder(LabPaths paths) {
        List<String> out = new ArrayList<>();
        for (String line : read(Path.of("/proc/self/mountinfo")).split("\n")) {
            String[] f = line.split(" ");
            if (f.length > 4 && (f[4].startsWith(paths.cacheDir().toString()) || f[4].startsWith("/run/netns")
                    || f[4].startsWith(paths.runDir().toString()))) {
                out.add(f[4]);
            }
        }
        if (Files.isDirectory(Path.of(NETNS_DIR))) {
            out.add("folder " + NETNS_DIR);
        }
        return String.join("\n", out);
    }

    private static String nspawnProcesses() {
        List<String> out = new ArrayList<>();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path p : procs.filter(p -> p.getFileName().toString().matches("\\d+")).sorted().toList()) {
                try {
                    String cmd = new String(Files.readAllBytes(p.resolve("cmdline"))).replace('\0', ' ');
                    if (cmd.startsWith("systemd-nspawn") || cmd.contains("/systemd-nspawn ")) {
                        out.add(p.getFileName() + " " + cmd.strip());
                    }
                } catch (IOException gone) {
                    // exited while listing
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return String.join("\n", out);
    }

    private static String list(Path dir) {
        if (!Files.isDirectory(dir)) {
            return "[]";
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList().toString();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String read(Path p) {
        try {
            return Files.readString(p).strip();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
