package org.workshopfleet.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * How busy the whole host was during a measurement (all processes: the orchestrator, the lab machines, other builds
 * sharing the host), from {@code /proc/stat}'s aggregate CPU line, and the load average at its end.
 */
final class HostLoad {

    private final long busyAtStart;
    private final long totalAtStart;

    private HostLoad(long[] ticks) {
        this.busyAtStart = ticks[0];
        this.totalAtStart = ticks[1];
    }

    static HostLoad start() throws IOException {
        return new HostLoad(ticks());
    }

    /** e.g. {@code host CPU 87% busy (of 2 cores), load 9.1}. */
    String line() throws IOException {
        long[] now = ticks();
        double busy = (double) (now[0] - busyAtStart) / Math.max(1, now[1] - totalAtStart);
        String load = Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        return String.format(Locale.ROOT, "host CPU %3.0f%% busy (of %d cores), 1-min load %s", busy * 100,
                Runtime.getRuntime().availableProcessors(), load);
    }

    /** The share of the host's CPU time that was busy since {@link #start()}, 0 to 1. */
    double busyShare() throws IOException {
        long[] now = ticks();
        return (double) (now[0] - busyAtStart) / Math.max(1, now[1] - totalAtStart);
    }

    /**
     * Waits until the host has been less than {@code share} busy over a whole {@code window}, for at most {@code max};
     * returns a line saying how long that took and how busy the last window was. Machines that have just booted go on
     * starting services for a while; a measurement of provisioning alone should not also measure that.
     */
    static String settle(double share, java.time.Duration window, java.time.Duration max) throws IOException {
        long start = System.nanoTime();
        double busy;
        do {
            HostLoad w = start();
            try {
                Thread.sleep(window.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for the host to settle", e);
            }
            busy = w.busyShare();
        } while (busy >= share && System.nanoTime() - start < max.toNanos());
        return String.format(Locale.ROOT, "waited %.0f s for the host to settle: %.0f%% busy over the last %d s%s",
                (System.nanoTime() - start) / 1e9, busy * 100, window.toSeconds(),
                busy >= share ? " (did NOT settle below " + Math.round(share * 100) + "%)" : "");
    }

    /** {busy, total} jiffies over all CPUs; idle and iowait count as not busy. */
    private static long[] ticks() throws IOException {
        String cpu = Files.readAllLines(Path.of("/proc/stat")).get(0);
        String[] f = cpu.trim().split("\\s+");
        long total = 0;
        long idle = 0;
        for (int i = 1; i < f.length && i <= 8; i++) {
            long v = Long.parseLong(f[i]);
            total += v;
            if (i == 4 || i == 5) {
                idle += v;
            }
        }
        return new long[] {total - idle, total};
    }
}
