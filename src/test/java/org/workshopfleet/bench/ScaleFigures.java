package org.workshopfleet.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.workshopfleet.state.Ledger;

/**
 * What one operation of {@link ScaleBenchmark} cost this JVM: wall, CPU of the orchestrator (the process's CPU minus
 * the CPU of the in-JVM stand-ins' threads, sampled every {@value #SAMPLE_MILLIS} ms so short-lived ones are caught),
 * peak heap (after a GC, the peak usage of every heap pool reset at the start and summed at the end: an upper bound,
 * as pools peak at different moments), peak live threads, the most SSH connections open at once (the machines' side
 * of established TCP connections on their port, read from {@code /proc/net/tcp} and {@code tcp6} at each sample) and
 * the ledger's writes.
 */
final class ScaleFigures implements AutoCloseable {

    static final long SAMPLE_MILLIS = 20;
    /** Threads that are not the orchestrator: the in-JVM stand-ins (EC2 and Service Quotas servers, the fake's boots) and this sampler. */
    private static final List<String> STAND_IN_THREADS = List.of("ec2-fake", "service-quotas-fake", "launch-script-",
            "scale-sampler");

    record Result(double wallSeconds, double orchestratorCpuSeconds, double standInCpuSeconds, double peakHeapMiB,
                  int peakThreads, int peakSshConnections, Ledger.WriteCount ledger) {
    }

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private static final com.sun.management.OperatingSystemMXBean OS =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    private final int sshPort;
    private final long wallStart;
    private final long cpuStart;
    private final Ledger.WriteCount ledgerStart;
    /** Stand-in thread id → CPU nanos at the start (0 for threads born later) and at the last sample. */
    private final Map<Long, long[]> standIns = new HashMap<>();
    private final AtomicInteger peakSsh = new AtomicInteger();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final Thread sampler;

    ScaleFigures(int sshPort) {
        this.sshPort = sshPort;
        System.gc();
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                pool.resetPeakUsage();
            }
        }
        THREADS.resetPeakThreadCount();
        sampleStandIns(true);
        this.ledgerStart = Ledger.writesSoFar();
        this.cpuStart = OS.getProcessCpuTime();
        this.wallStart = System.nanoTime();
        this.sampler = new Thread(this::sampleLoop, "scale-sampler");
        sampler.setDaemon(true);
        sampler.start();
    }

    private void sampleLoop() {
        while (running.get()) {
            sampleStandIns(false);
            peakSsh.accumulateAndGet(establishedOn(sshPort), Math::max);
            try {
                Thread.sleep(SAMPLE_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private synchronized void sampleStandIns(boolean atStart) {
        for (ThreadInfo info : THREADS.getThreadInfo(THREADS.getAllThreadIds())) {
            if (info == null || STAND_IN_THREADS.stream().noneMatch(p -> info.getThreadName().startsWith(p))) {
                continue;
            }
            long cpu = THREADS.getThreadCpuTime(info.getThreadId());
            if (cpu < 0) {
                continue;
            }
            long[] seen = standIns.computeIfAbsent(info.getThreadId(), id -> new long[] {atStart ? cpu : 0, cpu});
            seen[1] = Math.max(seen[1], cpu);
        }
    }

    /** Stops sampling and returns the figures since construction. */
    Result finish() {
        double wall = (System.nanoTime() - wallStart) / 1e9;
        long cpu = OS.getProcessCpuTime() - cpuStart;
        running.set(false);
        try {
            sampler.join(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        sampleStandIns(false);
        long standIn;
        synchronized (this) {
            standIn = standIns.values().stream().mapToLong(s -> s[1] - s[0]).sum();
        }
        long heap = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP && pool.getPeakUsage() != null) {
                heap += pool.getPeakUsage().getUsed();
            }
        }
        return new Result(wall, (cpu - standIn) / 1e9, standIn / 1e9, heap / (1024.0 * 1024.0),
                THREADS.getPeakThreadCount(), peakSsh.get(), Ledger.writesSoFar().since(ledgerStart));
    }

    @Override
    public void close() {
        running.set(false);
    }

    /** Established TCP connections whose local port is {@code port} (the server's side of each SSH connection). */
    static int establishedOn(int port) {
        String hexPort = String.format(":%04X", port);
        int n = 0;
        for (String file : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            try {
                for (String line : Files.readAllLines(Path.of(file))) {
                    String[] f = line.trim().split("\\s+");
                    if (f.length > 3 && f[1].endsWith(hexPort) && f[3].equals("01")) {
                        n++;
                    }
                }
            } catch (IOException e) {
                // No IPv6 on this host: nothing to count there.
            }
        }
        return n;
    }
}
