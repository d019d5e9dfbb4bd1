package org.workshopfleet.cloud.ec2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.workshopfleet.cloud.Machine;
import org.workshopfleet.cloud.RecordedResources;
import org.workshopfleet.error.ExitCode;
import org.workshopfleet.error.Interrupted;

/**
 * Ctrl-C while a DescribeInstances of a wait is in flight: the SDK gives up on the call with an
 * {@code AbortedException}, a client error like an unreachable endpoint; the command must still end as interrupted
 * (exit 130, re-run to continue) with the thread's interrupt flag set, not as a cloud failure, and poll no more.
 */
class Ec2InterruptedCallTest {

    /** How long the stand-in keeps the held DescribeInstances after the caller was interrupted. */
    private static final long HOLD_MS = 300;

    @Test
    void ctrlCDuringADescribeOfTheWaitEndsAsInterrupted() throws InterruptedException {
        try (FleetFixture fx = new FleetFixture()) {
            Ec2Cloud cloud = fx.cloud(new RecordedResources());
            cloud.prepare(fx.context);
            List<Machine> made = cloud.createNodes(fx.context, fx.requests(1, 1));
            Thread caller = Thread.currentThread();
            AtomicInteger describes = new AtomicInteger();
            CountDownLatch held = new CountDownLatch(1);
            fx.fake.beforeServing(call -> {
                if (call.operation().equals("DescribeInstances") && describes.incrementAndGet() == 1) {
                    caller.interrupt(); // Ctrl-C while this call is in flight
                    held.countDown();
                    sleep(HOLD_MS);
                }
            });

            Interrupted e = assertThrows(Interrupted.class, () -> cloud.awaitRunning(List.of(made.get(0).id()),
                    Duration.ofSeconds(20), m -> { }));

            boolean interrupted = Thread.interrupted();
            assertTrue(held.await(0, TimeUnit.MILLISECONDS), "the DescribeInstances was held");
            assertEquals(ExitCode.INTERRUPTED, e.exitCode());
            assertEquals(130, e.exitCode());
            assertTrue(interrupted, "the interrupt flag is set again for the callers further up");
            Thread.sleep(100);
            assertEquals(1, describes.get(), "no poll after the interrupted one: " + fx.fake.callCounts());
        }
    }

    @Test
    void ctrlCBeforeTheQuotaReadIsNotAnUnreadableQuota() {
        try (FleetFixture fx = new FleetFixture()) {
            OnDemandVcpuQuota quota = new OnDemandVcpuQuota(fx.quotasClient());
            Thread.currentThread().interrupt(); // Ctrl-C just before: the SDK gives the call up before sending it

            Interrupted e = assertThrows(Interrupted.class, quota::read,
                    "not a Reading that says the quota could not be read, and launching goes on");

            assertTrue(Thread.interrupted(), "the interrupt flag is set again for the callers further up");
            assertEquals(ExitCode.INTERRUPTED, e.exitCode());
        } finally {
            Thread.interrupted();
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
