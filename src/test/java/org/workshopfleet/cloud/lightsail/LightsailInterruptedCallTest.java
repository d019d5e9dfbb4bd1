package org.workshopfleet.cloud.lightsail;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.workshopfleet.cloud.lightsail.LightsailScenario.WORKSHOP;
import static org.workshopfleet.cloud.lightsail.LightsailScenario.cloud;
import static org.workshopfleet.cloud.lightsail.LightsailScenario.context;
import static org.workshopfleet.cloud.lightsail.LightsailScenario.requests;
import static org.workshopfleet.cloud.lightsail.LightsailScenario.spec;
import static org.workshopfleet.cloud.lightsail.LightsailScenario.up;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.workshopfleet.cloud.LaunchContext;
import org.workshopfleet.cloud.Machine;
import org.workshopfleet.cloud.RecordedResources;
import org.workshopfleet.cloud.lightsail.fake.LightsailFake;
import org.workshopfleet.error.ExitCode;
import org.workshopfleet.error.Interrupted;
import org.workshopfleet.spec.WorkshopSpec;
import org.workshopfleet.ssh.SshKeyPair;

/**
 * Ctrl-C while a Lightsail call is in flight: the SDK gives up on the call with an {@code AbortedException}, a client
 * error like an unreachable endpoint. The command must end as interrupted (exit 130, re-run to continue) with the
 * thread's interrupt flag set: not as a cloud failure, and not by a wait that takes the aborted poll for a transient
 * error and goes on to its timeout.
 *
 * <p>The stand-in holds the chosen call, interrupts the caller meanwhile, and answers after {@link #HOLD_MS}: later
 * than the end of the short waits below, so a wait that went on would end at its deadline, not at a pause.
 */
class LightsailInterruptedCallTest {

    private static final long HOLD_MS = 600;
    private static final Duration SHORT_WAIT = Duration.ofMillis(300);

    private LightsailFake fake;
    private RecordedResources recorder;
    private LaunchContext context;

    @BeforeEach
    void start() {
        fake = LightsailFake.start("ap-northeast-1");
        recorder = new RecordedResources();
        context = context(SshKeyPair.generate("workshop-fleet@" + WORKSHOP));
    }

    @AfterEach
    void stop() {
        Thread.interrupted();
        fake.close();
    }

    @Test
    void ctrlCDuringAListingEndsAsInterrupted() {
        try (LightsailCloud cloud = cloud(fake, spec(1), recorder)) {
            AtomicInteger held = holdNext("GetInstances", new AtomicBoolean(true));

            assertInterrupted(cloud::listNodes);

            assertEquals(1, held.get(), "the GetInstances was held");
        }
    }

    @Test
    void ctrlCDuringAPollOfTheWaitEndsItAsInterruptedWithoutAnotherPoll() {
        fake.pendingPolls(1_000);
        WorkshopSpec spec = spec(1);
        try (LightsailCloud cloud = cloud(fake, spec, recorder)) {
            cloud.prepare(context);
            List<Machine> created = cloud.createNodes(context, requests(spec, 1, 1));
            fake.clearRequests();
            AtomicInteger held = holdNext("GetInstances", new AtomicBoolean(true));

            assertInterrupted(() -> cloud.awaitRunning(List.of(created.get(0).id()), SHORT_WAIT));

            assertEquals(1, held.get(), "the GetInstances was held");
            assertEquals(1, fake.count("GetInstances"), "no poll after the interrupted one: " + fake.countsByOperation());
        }
    }

    @Test
    void ctrlCDuringAPollOfTheSnapshotWaitEndsItAsInterruptedWithoutAnotherPoll() {
        fake.snapshotPendingPolls(1_000);
        try (LightsailCloud cloud = cloud(fake, spec(1), recorder)) {
            List<Machine> builder = up(cloud, context, requests(spec(1), 1, 1));
            AtomicBoolean armed = new AtomicBoolean();
            AtomicInteger held = holdNext("GetInstanceSnapshot", armed);
            fake.clearRequests();
            armed.set(true); // the GetInstanceSnapshot polls of the wait, after the create

            assertInterrupted(() -> cloud.images().orElseThrow().captureImage(builder.get(0).id(),
                    LightsailImageTest.RECIPE, SHORT_WAIT));

            assertEquals(1, held.get(), "the GetInstanceSnapshot was held");
            assertEquals(1, fake.count("GetInstanceSnapshot"), "no poll after the interrupted one: "
                    + fake.countsByOperation());
        }
    }

    /**
     * Once {@code armed}, holds the next {@code operation} in the stand-in for {@link #HOLD_MS} after interrupting
     * the calling (this) thread, as Ctrl-C would; counts the calls so held.
     */
    private AtomicInteger holdNext(String operation, AtomicBoolean armed) {
        Thread caller = Thread.currentThread();
        AtomicInteger held = new AtomicInteger();
        fake.beforeServing(op -> {
            if (op.equals(operation) && armed.get() && held.getAndIncrement() == 0) {
                caller.interrupt();
                try {
                    Thread.sleep(HOLD_MS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        return held;
    }

    private static void assertInterrupted(Executable call) {
        Interrupted e = assertThrows(Interrupted.class, call);
        boolean interrupted = Thread.interrupted();
        assertEquals(ExitCode.INTERRUPTED, e.exitCode());
        assertEquals(130, e.exitCode());
        assertTrue(interrupted, "the interrupt flag is set again for the callers further up");
    }
}
