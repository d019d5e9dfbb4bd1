package org.workshopfleet.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;

/**
 * This JVM's (the orchestrator's) CPU time and peak heap since {@link #start()}. Child processes (nspawn, ansible) are
 * not in these figures.
 */
final class ProcessFigures {

    private final long cpuAtStart;
    private final long wallAtStart;

    private ProcessFigures(long cpu, long wall) {
        this.cpuAtStart = cpu;
        this.wallAtStart = wall;
    }

    /** Resets the heap pools' peaks and notes the CPU time so far. */
    static ProcessFigures start() {
        System.gc();
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                pool.resetPeakUsage();
            }
        }
        return new ProcessFigures(cpuNanos(), System.nanoTime());
    }

    long wallStartNanos() {
        return wallAtStart;
    }

    double wallSeconds() {
        return (System.nanoTime() - wallAtStart) / 1e9;
    }

    double cpuSeconds() {
        return (cpuNanos() - cpuAtStart) / 1e9;
    }

    /** Sum of the heap pools' peaks since start (an upper bound of the peak heap in use). */
    static double peakHeapMiB() {
        long sum = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                sum += pool.getPeakUsage().getUsed();
            }
        }
        return sum / (1024.0 * 1024.0);
    }

    private static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }
}
