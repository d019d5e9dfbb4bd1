package org.workshopfleet.concurrent;

import org.workshopfleet.error.Interrupted;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class FanOutTest {

    @Test
    void resultsComeBackInTaskOrderWhateverFinishesFirst() {
        List<Callable<Integer>> tasks = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            int n = i;
            tasks.add(() -> {
                Thread.sleep((8 - n) * 5L);
                return n;
            });
        }
        assertEquals(List.of(0, 1, 2, 3, 4, 5, 6, 7), new FanOut("order", 4).all(tasks));
    }

    @Test
    void neverMoreThanTheLimitRunAtOnceOnNamedDaemonThreads() {
        AtomicInteger running = new AtomicInteger();
        AtomicInteger most = new AtomicInteger();
        Set<String> names = ConcurrentHashMap.newKeySet();
        List<Callable<Boolean>> tasks = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            tasks.add(() -> {
                int now = running.incrementAndGet();
                most.accumulateAndGet(now, Math::max);
                names.add(Thread.currentThread().getName());
                Thread.sleep(20);
                running.decrementAndGet();
                return Thread.currentThread().isDaemon();
            });
        }
        List<Boolean> daemon = new FanOut("bounded", 3).all(tasks);
        assertEquals(3, most.get(), "at most 3 at once, and the limit is actually used");
        assertTrue(daemon.stream().allMatch(d -> d));
        assertEquals(Set.of("bounded-1", "bounded-2", "bounded-3"), names);
    }

    @Test
    void theFirstFailureStopsTasksNotYetStartedAndIsThrown() {
        AtomicInteger started = new AtomicInteger();
        RuntimeException boom = new IllegalStateException("quota");
        List<Callable<String>> tasks = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            int n = i;
            tasks.add(() -> {
                started.incrementAndGet();
                Thread.sleep(10);
                if (n == 1) {
                    throw boom;
                }
                return "ok";
            });
        }
        RuntimeException thrown = assertThrows(RuntimeException.class, () -> new FanOut("stop", 2).all(tasks));
        assertSame(boom, thrown);
        assertTrue(started.get() <= 4, "tasks after the failure should not start, " + started.get() + " did");
    }

    @Test
    void eachReportsEveryOutcomeAndRunsEveryTask() {
        List<Callable<String>> tasks = List.of(() -> "a", () -> {
            throw new IllegalStateException("unreachable");
        }, () -> "c");
        List<FanOut.Outcome<String>> out = new FanOut("each", 2).each(tasks);
        assertEquals("a", out.get(0).value());
        assertFalse(out.get(1).ok());
        assertEquals("unreachable", out.get(1).failure().getMessage());
        assertEquals("c", out.get(2).value());
    }

    @Test
    void anInterruptCancelsEveryTaskAndPropagates() throws Exception {
        CountDownLatch started = new CountDownLatch(2);
        AtomicInteger cancelled = new AtomicInteger();
        List<Callable<String>> tasks = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            tasks.add(() -> {
                started.countDown();
                try {
                    Thread.sleep(60_000);
                } catch (InterruptedException e) {
                    cancelled.incrementAndGet();
                    throw e;
                }
                return "late";
            });
        }
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        AtomicReference<Boolean> flag = new AtomicReference<>();
        Thread caller = new Thread(() -> {
            try {
                new FanOut("ctrl-c", 2).all(tasks);
            } catch (RuntimeException e) {
                thrown.set(e);
                flag.set(Thread.currentThread().isInterrupted());
            }
        });
        caller.start();
        assertTrue(started.await(5, TimeUnit.SECONDS));
        caller.interrupt();
        caller.join(5000);
        assertFalse(caller.isAlive());
        assertTrue(thrown.get() instanceof Interrupted, String.valueOf(thrown.get()));
        assertEquals(Boolean.TRUE, flag.get());
        long deadline = System.currentTimeMillis() + 5000;
        while (cancelled.get() < 2 && System.currentTimeMillis() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(2, cancelled.get(), "both running tasks are interrupted");
    }

    @Test
    void noTasksNoThreads() {
        assertEquals(List.of(), new FanOut("none", 3).all(List.<Callable<String>>of()));
        assertThrows(IllegalArgumentException.class, () -> new FanOut("zero", 0));
    }
}
