package org.workshopfleet.cloud.lab;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.stream.Stream;

/**
 * What the host holds for one lab machine, written to {@code /run/workshop-fleet/lab/machines/<labName>.properties}
 * before anything is created, so a teardown after a crash knows exactly what to remove.
 *
 * @param labName    {@code wf-<name>}: the netns and machine folder name
 * @param name       the name the caller gave
 * @param scope      who owns it (a workshop name, {@code ec2-fake}, a test run); teardown of a scope removes only its own
 * @param slot       index of its address and host veth
 * @param ip         machine address
 * @param hostVeth   the host end of its veth pair, enslaved to the lab bridge
 * @param machineDir folder with upper/, work/, merged/ and console.log
 * @param nspawnPid  PID of its systemd-nspawn process, 0 before it starts
 * @param nspawnStartTicks that process's start time (field 22 of /proc/PID/stat), to never signal a reused PID
 * @param createdAt  when the record was written
 * @param image      id of the baked {@link LabImages image} whose layer it mounts, or "" for the plain base image
 */
record LabMachineRecord(String labName, String name, String scope, int slot, String ip, String hostVeth,
                        Path machineDir, long nspawnPid, long nspawnStartTicks, Instant createdAt, String image) {

    /** Prefix of every host object name the lab creates (netns, links, machine folders, nspawn machine names). */
    static final String PREFIX = "wf-";

    LabMachineRecord {
        image = image == null ? "" : image;
    }

    String netns() {
        return labName;
    }

    Path merged() {
        return machineDir.resolve("merged");
    }

    LabMachineRecord withProcess(long pid, long startTicks) {
        return new LabMachineRecord(labName, name, scope, slot, ip, hostVeth, machineDir, pid, startTicks, createdAt, image);
    }

    /** The nspawn process is alive and is the one we started (same start time: the PID was not reused). */
    boolean processAlive() {
        if (nspawnPid <= 0) {
            return false;
        }
        Optional<Long> ticks = startTicks(nspawnPid);
        return ticks.isPresent() && ticks.get() == nspawnStartTicks;
    }

    /** A process's start time in clock ticks (field 22 of /proc/PID/stat), empty once it exited. */
    static Optional<Long> startTicks(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            if (f[0].equals("Z")) {
                return Optional.empty(); // exited, not yet reaped by its parent
            }
            return Optional.of(Long.parseLong(f[19])); // field 22 overall; fields after the comm start at 3
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    void write(Path dir) {
        Properties p = new Properties();
        p.setProperty("labName", labName);
        p.setProperty("name", name);
        p.setProperty("scope", scope);
        p.setProperty("slot", Integer.toString(slot));
        p.setProperty("ip", ip);
        p.setProperty("hostVeth", hostVeth);
        p.setProperty("machineDir", machineDir.toString());
        p.setProperty("nspawnPid", Long.toString(nspawnPid));
        p.setProperty("nspawnStartTicks", Long.toString(nspawnStartTicks));
        p.setProperty("createdAt", createdAt.toString());
        p.setProperty("image", image);
        try {
            Files.createDirectories(dir);
            Path tmp = dir.resolve("." + labName + ".tmp");
            try (var out = Files.newOutputStream(tmp)) {
                p.store(out, "workshop-fleet lab machine");
            }
            Files.move(tmp, dir.resolve(labName + ".properties"), StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void delete(Path dir, String labName) {
        try {
            Files.deleteIfExists(dir.resolve(labName + ".properties"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static List<LabMachineRecord> readAll(Path dir) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        List<LabMachineRecord> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path f : s.filter(f -> f.getFileName().toString().endsWith(".properties")).sorted().toList()) {
                Properties p = new Properties();
                try (var in = Files.newInputStream(f)) {
                    p.load(in);
                } catch (java.nio.file.NoSuchFileException gone) {
                    continue; // removed by a concurrent teardown
                }
                out.add(new LabMachineRecord(p.getProperty("labName"), p.getProperty("name"), p.getProperty("scope"),
                        Integer.parseInt(p.getProperty("slot")), p.getProperty("ip"), p.getProperty("hostVeth"),
                        Path.of(p.getProperty("machineDir")), Long.parseLong(p.getProperty("nspawnPid")),
                        Long.parseLong(p.getProperty("nspawnStartTicks")), Instant.parse(p.getProperty("createdAt")),
                        p.getProperty("image", "")));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }
}
