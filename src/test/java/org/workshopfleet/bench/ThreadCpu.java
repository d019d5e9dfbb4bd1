package org.workshopfleet.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

/**
 * The orchestrator's CPU time by thread group over a measured command: a daemon samples every live thread's CPU time
 * every 50 ms (threads of a run come and go: a machine's provisioning thread, an SSH connection's reader), keeping
 * each thread's last figure, so the groups add up to what the threads used, JIT compiler threads included (GC threads
 * are not Java threads and are the rest of the process's figure), with the collections and compile time over the same
 * span.
 */
final class ThreadCpu implements AutoCloseable {

    private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    private final Map<Long, Long> atStart = new ConcurrentHashMap<>();
    private final Map<Long, Long> last = new ConcurrentHashMap<>();
    private final Map<Long, String> names = new ConcurrentHashMap<>();
    private final long gcMillisAtStart = gcMillis();
    private final long gcCountAtStart = gcCount();
    private final long jitMillisAtStart = ManagementFactory.getCompilationMXBean().getTotalCompilationTime();
    private final Thread sampler;
    private volatile boolean running = true;

    private ThreadCpu() {
        for (long id : threads.getAllThreadIds()) {
            long cpu = threads.getThreadCpuTime(id);
            if (cpu >= 0) {
                atStart.put(id, cpu);
            }
        }
        sampler = new Thread(this::sampleUntilClosed, "bench-thread-cpu");
        sampler.setDaemon(true);
        sampler.start();
    }

    /** Starts sampling. */
    static ThreadCpu start() {
        return new ThreadCpu();
    }

    private void sampleUntilClosed() {
        while (running) {
            sample();
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /**
     * Names are asked for only of threads not seen before: asking every thread's ThreadInfo every 50 ms cost the
     * sampler 0.2 CPU-s per 30-machine run, charged to the run it measures (bpftrace, per thread name).
     */
    private void sample() {
        long[] ids = threads.getAllThreadIds();
        long[] unnamed = Arrays.stream(ids).filter(id -> !names.containsKey(id)).toArray();
        if (unnamed.length > 0) {
            for (ThreadInfo info : threads.getThreadInfo(unnamed)) {
                if (info != null) {
                    names.putIfAbsent(info.getThreadId(), info.getThreadName());
                }
            }
        }
        for (long id : ids) {
            long cpu = threads.getThreadCpuTime(id);
            if (cpu >= 0 && names.containsKey(id)) {
                last.put(id, cpu);
            }
        }
    }

    @Override
    public void close() {
        running = false;
        sample();
    }

    private static long gcMillis() {
        return ManagementFactory.getGarbageCollectorMXBeans().stream().mapToLong(b -> Math.max(0, b.getCollectionTime())).sum();
    }

    private static long gcCount() {
        return ManagementFactory.getGarbageCollectorMXBeans().stream().mapToLong(b -> Math.max(0, b.getCollectionCount())).sum();
    }

    /** CPU seconds per thread group (a thread's name without its number or address), largest first. */
    String line() {
        Map<String, Double> groups = new TreeMap<>();
        last.forEach((id, cpu) -> {
            String name = names.getOrDefault(id, "?");
            if (name.equals("bench-thread-cpu")) {
                return;
            }
            String group = name.replaceAll("[-/ ]?[0-9./:]+[-:]*[0-9]*$", "").replaceAll("/[0-9.]+:[0-9]+.*", "");
            groups.merge(group, (cpu - atStart.getOrDefault(id, 0L)) / 1e9, Double::sum);
        });
        return String.format(Locale.ROOT, "GC %d collections, %.2f s; JIT compiling %.2f s; ",
                gcCount() - gcCountAtStart, (gcMillis() - gcMillisAtStart) / 1e3,
                (ManagementFactory.getCompilationMXBean().getTotalCompilationTime() - jitMillisAtStart) / 1e3)
                + "orchestrator CPU by thread: " + groups.entrySet().stream()
                .filter(e -> e.getValue() >= 0.005)
                .sorted(Map.Entry.<String, Double>comparingByValue().reversed())
                .map(e -> String.format(Locale.ROOT, "%s %.2f s", e.getKey(), e.getValue()))
                .collect(Collectors.joining(", "));
    }
}
