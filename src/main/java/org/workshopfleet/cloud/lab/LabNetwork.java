package org.workshopfleet.cloud.lab;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;

/**
 * The lab's network on the host: a bridge {@value #BRIDGE} holding {@value #HOST_ADDRESS}/16, one veth per machine
 * enslaved to it, and outbound NAT so machines reach Debian's mirror.
 *
 * <p>The iptables rules it adds carry the comment {@value #RULE_COMMENT} and are the only ones it ever removes:
 * MASQUERADE for {@value #SUBNET} leaving the subnet, FORWARD accepts for the machines' outbound traffic and its
 * replies, and a FORWARD drop for anything else routed towards the bridge, so turning on {@code ip_forward} never makes
 * the machines reachable from outside the host. {@code ip_forward} is restored when the last machine goes, if we set it.
 *
 * <p>{@code ip netns add} creates {@code /run/netns} and bind-mounts it onto itself (a shared mount, so namespaces
 * pinned there stay visible in other mount namespaces) the first time it is used on a host; that mount outlives every
 * namespace in it. So the first lab use records whether the folder existed and was a mount point, and when the last
 * machine goes the mount (and the folder) go too if they were not there before and nothing else lives in them.
 */
public final class LabNetwork {

    /** The host's address on the lab bridge, reachable from every lab machine: test stand-ins listen here. */
    public static final String HOST_ADDRESS = "10.231.0.1";
    /** The lab subnet. */
    public static final String SUBNET = "10.231.0.0/16";
    static final String BRIDGE = "wf-br0";
    static final String RULE_COMMENT = "workshop-fleet-lab";
    /** Highest machine slot: addresses 10.231.1.0 upwards, below 10.231.255.255. */
    static final int MAX_SLOT = 65_000;
    private static final Path IP_FORWARD = Path.of("/proc/sys/net/ipv4/ip_forward");
    /** Where {@code ip netns} pins named namespaces. */
    static final Path NETNS_DIR = Path.of("/run/netns");
    /** Values of the record's {@code netnsBefore}: what {@link #NETNS_DIR} was at the first lab use. */
    static final String NETNS_ABSENT = "absent";
    static final String NETNS_FOLDER = "folder";
    static final String NETNS_MOUNT = "mount";

    private final Path record;

    LabNetwork(LabPaths paths) {
        this.record = paths.networkRecord();
    }

    /** Address of machine slot {@code n} (1-based): 10.231.1.1, 10.231.1.2 ... */
    static String addressOf(int slot) {
        if (slot < 1 || slot > MAX_SLOT) {
            throw new IllegalArgumentException("slot " + slot);
        }
        int host = 256 + slot;
        return "10.231." + (host >> 8) + "." + (host & 0xff);
    }

    /** Brings up the bridge, NAT and forwarding if they are not there. The caller holds the host lock. */
    void ensureUp() {
        Properties state = load();
        if (!HostCommand.quietly("ip", "link", "show", "dev", BRIDGE).ok()) {
            HostCommand.check("ip", "link", "add", BRIDGE, "type", "bridge");
            HostCommand.check("ip", "addr", "add", HOST_ADDRESS + "/16", "dev", BRIDGE);
        }
        HostCommand.check("ip", "link", "set", BRIDGE, "up");
        for (List<String> rule : rules()) {
            List<String> probe = new ArrayList<>(rule);
            probe.set(3, "-C");
            if (!HostCommand.run(probe).ok()) {
                HostCommand.check(rule.toArray(String[]::new));
            }
        }
        if (!state.containsKey("netnsBefore")) {
            // Before the first `ip netns add` of this lab use (plumb runs after ensureUp).
            state.setProperty("netnsBefore", netnsNow(NETNS_DIR));
            save(state);
        }
        if (!state.containsKey("ipForwardBefore")) {
            String before = readIpForward();
            state.setProperty("ipForwardBefore", before);
            save(state);
            if (!before.equals("1")) {
                writeIpForward("1");
            }
        }
    }

    /** Removes the bridge, our rules and restores ip_forward. The caller holds the host lock and no machine exists. */
    void release() {
        Properties state = load();
        removeOurRules();
        HostCommand.quietly("ip", "link", "del", "dev", BRIDGE);
        String before = state.getProperty("ipForwardBefore");
        if (before != null && !before.equals(readIpForward())) {
            writeIpForward(before);
        }
        restoreNetnsDir(NETNS_DIR, state.getProperty("netnsBefore"));
        try {
            Files.deleteIfExists(record);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** What {@code dir} is now: {@link #NETNS_ABSENT}, {@link #NETNS_FOLDER} or {@link #NETNS_MOUNT}. */
    static String netnsNow(Path dir) {
        if (!Files.isDirectory(dir)) {
            return NETNS_ABSENT;
        }
        return HostMounts.isMountPoint(dir) ? NETNS_MOUNT : NETNS_FOLDER;
    }

    /**
     * Takes {@code dir} back to what it was ({@code before}, from {@link #netnsNow}): unmounts the mount(s) {@code ip netns}
     * stacked on it (two first uses at once can stack two) and removes the folder if we created it. Nothing is done while
     * a namespace of anyone else is pinned in it, or when nothing was recorded (a record of an older version).
     */
    static void restoreNetnsDir(Path dir, String before) {
        if (before == null || before.equals(NETNS_MOUNT) || !Files.isDirectory(dir)) {
            return;
        }
        try (java.util.stream.Stream<Path> entries = Files.list(dir)) {
            if (entries.findAny().isPresent()) {
                return; // someone else's namespace: its mount lives under ours
            }
        } catch (IOException e) {
            return;
        }
        for (int i = 0; i < 8 && HostMounts.isMountPoint(dir); i++) {
            if (!HostCommand.quietly("umount", dir.toString()).ok()) {
                break;
            }
        }
        if (before.equals(NETNS_ABSENT) && !HostMounts.isMountPoint(dir)) {
            try {
                Files.deleteIfExists(dir);
            } catch (IOException notEmptyOrBusy) {
                // something appeared in it meanwhile: it stays
            }
        }
    }

    /** Rules in insertion order; each is inserted at the top of its chain, so the drop ends up last. */
    private static List<List<String>> rules() {
        List<String> tag = List.of("-m", "comment", "--comment", RULE_COMMENT);
        List<List<String>> r = new ArrayList<>();
        r.add(concat(List.of("iptables", "-t", "nat", "-A", "POSTROUTING", "-s", SUBNET, "!", "-d", SUBNET), tag,
                List.of("-j", "MASQUERADE")));
        r.add(concat(List.of("iptables", "-t", "filter", "-I", "FORWARD", "!", "-i", BRIDGE, "-o", BRIDGE), tag,
                List.of("-j", "DROP")));
        r.add(concat(List.of("iptables", "-t", "filter", "-I", "FORWARD", "-o", BRIDGE, "-m", "conntrack",
                "--ctstate", "RELATED,ESTABLISHED"), tag, List.of("-j", "ACCEPT")));
        r.add(concat(List.of("iptables", "-t", "filter", "-I", "FORWARD", "-i", BRIDGE), tag,
                List.of("-j", "ACCEPT")));
        return r;
    }

    /** Deletes every rule carrying our comment, in any chain of the nat and filter tables. */
    static void removeOurRules() {
        for (String table : List.of("nat", "filter")) {
            HostCommand.Result listing = HostCommand.quietly("iptables", "-t", table, "-S");
            if (!listing.ok()) {
                continue;
            }
            for (String line : listing.output().split("\n")) {
                if (line.startsWith("-A ") && line.contains("--comment " + RULE_COMMENT)) {
                    List<String> del = new ArrayList<>(List.of("iptables", "-t", table, "-D"));
                    del.addAll(Arrays.asList(line.substring(3).trim().split("\\s+")));
                    HostCommand.quietly(del.toArray(String[]::new));
                }
            }
        }
    }

    @SafeVarargs
    private static List<String> concat(List<String>... parts) {
        List<String> all = new ArrayList<>();
        for (List<String> p : parts) {
            all.addAll(p);
        }
        return all;
    }

    private Properties load() {
        Properties p = new Properties();
        if (Files.isRegularFile(record)) {
            try (var in = Files.newInputStream(record)) {
                p.load(in);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return p;
    }

    private void save(Properties p) {
        try {
            Files.createDirectories(record.getParent());
            try (var out = Files.newOutputStream(record)) {
                p.store(out, "workshop-fleet lab network: what to restore when the last machine goes");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String readIpForward() {
        try {
            return Files.readString(IP_FORWARD).strip();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void writeIpForward(String value) {
        try {
            Files.writeString(IP_FORWARD, value + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
