package org.workshopfleet.concurrent;

import org.workshopfleet.error.Interrupted;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs a list of blocking tasks (cloud calls, SSH sessions, host commands) at most {@code limit} at a time on daemon
 * threads named {@code name-1}, {@code name-2}…, and returns their results in the order of the tasks. The calling
 * thread waits; when it is interrupted every running task is interrupted and {@link Interrupted} is thrown.
 *
 * @param name  thread name prefix, shown in thread dumps
 * @param limit most tasks running at once (at least 1)
 */
public record FanOut(String name, int limit) {

    /** What one task of {@link #each} did: its result, or the exception it threw. */
    public record Outcome<T>(T value, Throwable failure) {
        /** True when the task returned. */
        public boolean ok() {
            return failure == null;
        }
    }

    public FanOut {
        Objects.requireNonNull(name, "name");
        if (limit < 1) {
            throw new IllegalArgumentException("a fan-out needs a limit of at least 1, got " + limit);
        }
    }

    /**
     * Runs every task, stopping on the first failure: after it no further task starts, tasks already running finish
     * (a cloud call in flight is not cut off, so what it created is still recorded by it), then the first failure is
     * thrown as it is (a checked exception wrapped in {@link IllegalStateException}).
     *
     * @return the results in task order
     */
    public <T> List<T> all(List<? extends Callable<T>> tasks) {
        return values(run(tasks, new AtomicBoolean()));
    }

    /** Runs every task, whatever the others do, and returns every outcome in task order (a report per machine). */
    public <T> List<Outcome<T>> each(List<? extends Callable<T>> tasks) {
        return run(tasks, null);
    }

    /**
     * The values of {@link #each}'s outcomes in task order, or the first failure thrown as it is (a checked exception
     * wrapped in {@link IllegalStateException}): for work that must be tried on every machine (teardown) yet still fail.
     */
    public static <T> List<T> values(List<Outcome<T>> outcomes) {
        List<T> out = new ArrayList<>(outcomes.size());
        for (Outcome<T> o : outcomes) {
            if (o.ok()) {
                out.add(o.value());
            } else if (!(o.failure() instanceof Skipped)) {
                if (o.failure() instanceof RuntimeException re) {
                    throw re;
                }
                if (o.failure() instanceof Error err) {
                    throw err;
                }
                throw new IllegalStateException(o.failure());
            }
        }
        return out;
    }

    /** Daemon threads named {@code name-1}, {@code name-2}…, for pools that outlive one call. */
    public static ThreadFactory daemons(String name) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /** A task not started because an earlier one failed. */
    private static final class Skipped extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Skipped() {
            super("not started: an earlier task failed", null, false, false);
        }
    }

    private <T> List<Outcome<T>> run(List<? extends Callable<T>> tasks, AtomicBoolean stopOnFailure) {
        if (tasks.isEmpty()) {
            return List.of();
        }
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(limit, tasks.size()), daemons(name));
        try {
            List<Future<T>> futures = new ArrayList<>(tasks.size());
            for (Callable<T> task : tasks) {
                futures.add(pool.submit(() -> {
                    if (stopOnFailure != null && stopOnFailure.get()) {
                        throw new Skipped();
                    }
                    try {
                        return task.call();
                    } catch (Exception | Error e) {
                        if (stopOnFailure != null) {
                            stopOnFailure.set(true);
                        }
                        throw e;
                    }
                }));
            }
            List<Outcome<T>> out = new ArrayList<>(tasks.size());
            for (Future<T> f : futures) {
                try {
                    out.add(new Outcome<>(f.get(), null));
                } catch (ExecutionException e) {
                    out.add(new Outcome<>(null, e.getCause()));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new Interrupted("running " + name, e);
                }
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }
}
