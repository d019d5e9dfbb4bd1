package org.workshopfleet.cloud.lightsail;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import org.workshopfleet.FleetException;

/**
 * Runs per-machine API calls a few at a time: Lightsail has no batch form of CreateInstances (per-machine launch
 * script), PutInstancePublicPorts or DeleteInstance, and one at a time would make 100 machines take minutes.
 * After the first failure no new task starts; tasks already running finish (their results are recorded by them).
 */
final class ParallelCalls {

    private ParallelCalls() {
    }

    /** Results in task order ({@code null} for tasks skipped after a failure); the first failure is thrown. */
    static <T> List<T> run(List<Callable<T>> tasks, int parallelism, String threadName) {
        if (tasks.isEmpty()) {
            return List.of();
        }
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(parallelism, tasks.size()), r -> {
            Thread t = new Thread(r, threadName);
            t.setDaemon(true);
            return t;
        });
        AtomicBoolean failed = new AtomicBoolean();
        try {
            List<Future<T>> futures = new ArrayList<>();
            for (Callable<T> task : tasks) {
                futures.add(pool.submit(() -> {
                    if (failed.get()) {
                        return null;
                    }
                    try {
                        return task.call();
                    } catch (RuntimeException e) {
                        failed.set(true);
                        throw e;
                    }
                }));
            }
            List<T> out = new ArrayList<>();
            RuntimeException first = null;
            for (Future<T> f : futures) {
                try {
                    out.add(f.get());
                } catch (ExecutionException e) {
                    if (first == null) {
                        first = e.getCause() instanceof RuntimeException re ? re : new IllegalStateException(e.getCause());
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new FleetException("interrupted while talking to Lightsail: re-run to continue");
                }
            }
            if (first != null) {
                throw first;
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }
}
