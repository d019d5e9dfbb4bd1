package org.workshopfleet.cloud.ec2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.workshopfleet.cloud.RecordedResources;
import org.workshopfleet.cloud.ResourceKind;
import org.workshopfleet.cloud.ec2.fake.RecordedCall;
import org.workshopfleet.error.CloudFailure;
import org.workshopfleet.error.FleetException;
import org.workshopfleet.error.Interrupted;
import org.workshopfleet.spec.Provider;
import org.workshopfleet.spec.Tags;
import org.workshopfleet.spec.WorkshopSpec;

/**
 * The wait of {@link Ec2Cloud#launchAndAwait} fails (Ctrl-C, a describe error) while launches are still in flight:
 * once the method has thrown, no {@code RunInstances} is still being served or starts later, and every instance EC2
 * made is in the ledger (and was handed to {@code launched}), so teardown finds it there.
 *
 * <p>Attendee 1 launches at once; the stand-in holds the RunInstances of attendees 2 and 3 from the moment the wait is
 * made to fail until {@code launchAndAwait} has returned, at most {@link #HOLD_MS}: a cloud that returns without
 * waiting for them returns while they are held, one that waits returns after they were answered.
 */
class Ec2FailedWaitTest {

    /** How long the stand-in holds the later RunInstances after the failure at most (what a waiting cloud takes). */
    private static final long HOLD_MS = 800;

    @Test
    void ctrlCDuringTheWaitReturnsOnlyOnceEveryLaunchInFlightWasAnsweredAndRecorded() throws InterruptedException {
        boolean interrupted = assertNoLaunchOutlivesTheWait(Interrupted.class, When.FIRST_RUNS,
                fx -> Thread.currentThread().interrupt());
        assertTrue(interrupted, "the caller's interrupt flag is still set for its own callers to see");
    }

    @Test
    void aFailedDescribeDuringTheWaitReturnsOnlyOnceEveryLaunchInFlightWasAnsweredAndRecorded()
            throws InterruptedException {
        // As soon as attendee 1 is launched, so that the poller has an open machine to describe.
        boolean interrupted = assertNoLaunchOutlivesTheWait(CloudFailure.class, When.FIRST_LAUNCHED,
                fx -> fx.fake.faults().failNext("DescribeInstances", "InvalidParameterCombination", 1));
        assertFalse(interrupted, "nothing interrupted the caller");
    }

    /** When the wait is made to fail: once attendee 1 was launched, or once it runs (on the waiting thread). */
    private enum When { FIRST_LAUNCHED, FIRST_RUNS }

    /**
     * Launches attendees 1 to 3, makes the wait fail with {@code fail} at {@code when} (attendees 2 and 3 then
     * held in the stand-in), and checks what was in flight, made and recorded when {@code launchAndAwait} threw.
     *
     * @return whether the calling thread's interrupt flag was set when {@code launchAndAwait} threw (it is cleared)
     */
    private static boolean assertNoLaunchOutlivesTheWait(Class<? extends FleetException> thrown, When when,
                                                         Consumer<FleetFixture> fail) throws InterruptedException {
        try (FleetFixture fx = new FleetFixture(WorkshopSpec.defaults(3, Provider.EC2))) {
            RecordedResources recorder = new RecordedResources();
            Ec2Cloud cloud = fx.cloud(recorder);
            cloud.prepare(fx.context);
            AtomicInteger started = new AtomicInteger();
            CountDownLatch held = new CountDownLatch(2);
            CountDownLatch failed = new CountDownLatch(1);
            CountDownLatch returned = new CountDownLatch(1);
            fx.fake.beforeServing(call -> {
                if (!call.operation().equals("RunInstances")) {
                    return;
                }
                started.incrementAndGet();
                if (!"01".equals(attendee(call))) {
                    held.countDown();
                    await(failed, 10_000);
                    await(returned, HOLD_MS);
                }
            });
            Set<String> launched = ConcurrentHashMap.newKeySet();
            Consumer<When> failOnce = now -> {
                if (now == when && failed.getCount() > 0) {
                    assertTrue(await(held, 10_000), "attendees 2 and 3 reached RunInstances");
                    fail.accept(fx);
                    failed.countDown();
                }
            };

            assertThrows(thrown, () -> cloud.launchAndAwait(fx.context, fx.requests(1, 3), List.of(),
                    Duration.ofSeconds(20), m -> {
                        launched.add(m.id());
                        failOnce.accept(When.FIRST_LAUNCHED);
                    }, m -> failOnce.accept(When.FIRST_RUNS)));

            int startedThen = started.get();
            int answeredThen = fx.fake.calls("RunInstances").size();
            Set<String> madeThen = made(fx);
            Set<String> recordedThen = new TreeSet<>(recorder.liveIds(ResourceKind.INSTANCE));
            Set<String> launchedThen = new TreeSet<>(launched);
            boolean interrupted = Thread.interrupted();
            returned.countDown();
            assertEquals(0, failed.getCount(), "the wait was made to fail once attendee 1 ran");
            assertEquals(startedThen, answeredThen, "RunInstances still in flight when launchAndAwait threw: "
                    + fx.fake.callCounts());
            assertEquals(3, madeThen.size(), "the launches in flight were carried out: " + madeThen);
            assertEquals(madeThen, recordedThen, "every instance EC2 made was recorded for teardown");
            assertEquals(madeThen, launchedThen, "and handed to launched");

            // Nothing that was still on its way starts later.
            Thread.sleep(200);
            assertEquals(startedThen, started.get(), "a RunInstances started after launchAndAwait threw");
            assertEquals(madeThen, made(fx), "an instance was made after launchAndAwait threw");
            return interrupted;
        }
    }

    private static String attendee(RecordedCall runInstances) {
        return runInstances.tagSpecifications().getOrDefault("instance", java.util.Map.of()).get(Tags.ATTENDEE);
    }

    private static Set<String> made(FleetFixture fx) {
        return fx.fake.instances().stream().map(i -> i.id()).collect(Collectors.toCollection(TreeSet::new));
    }

    /** Waits for the latch, at most {@code millis}, not cut short by an interrupt; true when it was counted down. */
    private static boolean await(CountDownLatch latch, long millis) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return latch.await(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
