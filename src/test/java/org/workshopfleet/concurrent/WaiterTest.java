package org.workshopfleet.concurrent;

import org.workshopfleet.error.Interrupted;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.workshopfleet.cloud.ec2.Ec2Cloud;
import org.workshopfleet.cloud.lightsail.LightsailCloud;

class WaiterTest {

    /** Production EC2 polling, as before the two clouds shared this class: 2 s growing by half to 15 s, 20 % jitter. */
    private static final Waiter EC2_LIKE = Ec2Cloud.PRODUCTION_WAITER;

    @Test
    void pausesGrowByTheFactorUpToTheCap() {
        List<Long> millis = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            millis.add(EC2_LIKE.delay(i, () -> 0.0).toMillis());
        }
        assertEquals(List.of(2000L, 3000L, 4500L, 6750L, 10125L, 15000L, 15000L), millis);
        assertEquals(Duration.ofMinutes(10), EC2_LIKE.timeout());
        // Lightsail: 5 s growing by half to 30 s, no jitter, 5 min for deleted instances to disappear.
        Waiter lightsailLike = LightsailCloud.STANDARD_POLLING;
        assertEquals(Duration.ofMinutes(5), lightsailLike.timeout());
        assertEquals(List.of(5000L, 7500L, 11250L, 16875L, 25312L, 30000L),
                java.util.stream.IntStream.range(0, 6).mapToObj(i -> lightsailLike.delay(i, () -> 0.5).toMillis()).toList());
    }

    @Test
    void jitterOnlyShortensAPauseByAtMostItsFraction() {
        assertEquals(1600, EC2_LIKE.delay(0, () -> 1.0).toMillis());
        assertEquals(1800, EC2_LIKE.delay(0, () -> 0.5).toMillis());
        assertEquals(12000, EC2_LIKE.delay(20, () -> 1.0).toMillis());
    }

    @Test
    void untilReturnsTheFirstAcceptedAnswerAndShowsEveryPollToTheCallback() {
        AtomicInteger calls = new AtomicInteger();
        List<Integer> seen = new ArrayList<>();
        Optional<Integer> got = Waiter.fast().until(calls::incrementAndGet, n -> n == 4,
                p -> seen.add(p.attempt()), "counting");
        assertEquals(Optional.of(4), got);
        assertEquals(List.of(0, 1, 2, 3), seen);
    }

    @Test
    void untilGivesUpAtTheTimeout() {
        Waiter w = new Waiter(Duration.ofMillis(10), Duration.ofMillis(10), 1, 0, Duration.ofMillis(120));
        AtomicInteger calls = new AtomicInteger();
        long start = System.nanoTime();
        Optional<String> got = w.until(() -> "pending-" + calls.incrementAndGet(), s -> false, p -> { }, "never");
        long tookMs = (System.nanoTime() - start) / 1_000_000;
        assertTrue(got.isEmpty());
        assertTrue(tookMs >= 110 && tookMs < 2000, "took " + tookMs + " ms");
        assertTrue(calls.get() >= 5 && calls.get() <= 14, "polled " + calls.get() + " times");
    }

    @Test
    void anInterruptEndsTheWaitAtOnceAndKeepsTheFlag() throws Exception {
        Waiter slow = new Waiter(Duration.ofMinutes(1), Duration.ofMinutes(1), 1, 0, Duration.ofHours(1));
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        AtomicReference<Boolean> flag = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                slow.until(() -> 0, n -> false, p -> { }, "waiting for the test");
            } catch (RuntimeException e) {
                thrown.set(e);
                flag.set(Thread.currentThread().isInterrupted());
            }
        });
        t.start();
        Thread.sleep(100);
        long start = System.nanoTime();
        t.interrupt();
        t.join(5000);
        assertTrue((System.nanoTime() - start) / 1_000_000 < 2000, "the wait did not end promptly");
        assertTrue(thrown.get() instanceof Interrupted, String.valueOf(thrown.get()));
        assertEquals("interrupted while waiting for the test: re-run the same command to continue",
                thrown.get().getMessage());
        assertEquals(Boolean.TRUE, flag.get());
    }

    @Test
    void anAlreadyInterruptedThreadDoesNotSleep() {
        Thread.currentThread().interrupt();
        try {
            assertThrows(Interrupted.class, () -> Waiter.sleep(Duration.ofSeconds(30), "x"));
            assertTrue(Thread.currentThread().isInterrupted());
        } finally {
            Thread.interrupted();
        }
    }

    @Test
    void badPoliciesAreRefused() {
        assertThrows(IllegalArgumentException.class,
                () -> new Waiter(Duration.ofSeconds(5), Duration.ofSeconds(1), 1.5, 0, Duration.ZERO));
        assertThrows(IllegalArgumentException.class,
                () -> new Waiter(Duration.ofSeconds(1), Duration.ofSeconds(5), 0.5, 0, Duration.ZERO));
        assertThrows(IllegalArgumentException.class,
                () -> new Waiter(Duration.ofSeconds(1), Duration.ofSeconds(5), 1.5, 1.5, Duration.ZERO));
    }
}
