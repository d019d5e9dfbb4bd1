package org.workshopfleet.cloud.ec2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.workshopfleet.cloud.Machine;
import org.workshopfleet.cloud.RecordedResources;
import org.workshopfleet.cloud.ec2.fake.RecordedCall;
import org.workshopfleet.concurrent.Waiter;

/**
 * EC2's request throttling meets {@code up}: the stand-in's buckets are EC2's (docs/aws-facts.md) unless a test makes
 * one smaller, and a throttled call must never reach the facilitator as a failure.
 */
class Ec2ThrottlingTest {

    @Test
    void aThrottledRunInstancesBucketSlowsUpDownButNeverFailsIt() {
        try (FleetFixture fx = new FleetFixture(org.workshopfleet.spec.WorkshopSpec.defaults(12,
                org.workshopfleet.spec.Provider.EC2))) {
            fx.fake.throttling(true);
            // One token, ten a second: the launch workers (eight at a time, pacing themselves at EC2's real 2/s after
            // a burst of 5) meet an empty bucket within their first calls.
            fx.fake.requestBucket("RunInstances", 1, 10).requestBucket("DescribeInstances#unfiltered", 2, 20);
            RecordedResources recorder = new RecordedResources();
            Ec2Cloud cloud = fx.cloud(recorder);
            List<Machine> machines = fx.up(cloud, fx.requests(1, 12));
            assertEquals(12, machines.size());
            assertTrue(machines.stream().allMatch(Machine::isRunningWithAddress), machines.toString());
            List<RecordedCall> refused = fx.fake.calls().stream()
                    .filter(c -> "RequestLimitExceeded".equals(c.errorCode())).toList();
            assertTrue(fx.fake.throttledCalls() > 0 && !refused.isEmpty(), "the bucket was met: " + fx.fake.callCounts());
            assertTrue(refused.stream().allMatch(c -> c.status() == 503), "EC2 answers throttling with 503: " + refused);
            assertEquals(12, fx.fake.liveInstanceCount(), "one instance per machine, throttled calls changed nothing");
            assertEquals(12, fx.fake.launchedInstanceCount());
        }
    }

    @Test
    void theStandInThrottlesABurstOfRunInstancesAsEc2DoesPastItsFifthCall() {
        try (FleetFixture fx = new FleetFixture(org.workshopfleet.spec.WorkshopSpec.defaults(7,
                org.workshopfleet.spec.Provider.EC2))) {
            fx.fake.throttling(true);
            // Without the product's own pacing: the SDK's retries alone, in a burst from one thread.
            Ec2Cloud cloud = new Ec2Cloud(fx.client(), Ec2Cloud.config(fx.spec), new RecordedResources(),
                    AmiCatalog.load(Path.of("ami.properties")), Waiter.fast(), null, RequestBucket.unlimited());
            cloud.prepare(fx.context);
            long before = fx.fake.throttledCalls();
            List<Machine> made = cloud.createNodes(fx.context, fx.requests(1, 7));
            assertEquals(7, made.size());
            assertTrue(fx.fake.throttledCalls() > before, "RunInstances' bucket of 5 refused the sixth call at once: "
                    + fx.fake.callCounts());
        }
    }

    @Test
    void launchesPaceThemselvesToEc2sRate() {
        try (FleetFixture fx = new FleetFixture(org.workshopfleet.spec.WorkshopSpec.defaults(9,
                org.workshopfleet.spec.Provider.EC2))) {
            fx.fake.throttling(true);
            RecordedResources recorder = new RecordedResources();
            Ec2Cloud cloud = fx.cloud(recorder);
            cloud.prepare(fx.context);
            long start = System.nanoTime();
            cloud.createNodes(fx.context, fx.requests(1, 9));
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            Duration floor = RequestBucket.floor(9, 5, 2.0);
            // Paced, the launches do not spend calls on refusals: at most the odd one throttled, when a call reaches the
            // stand-in a little before its bucket refilled (arrival jitter); unpaced, most of the last four would be.
            long refused = fx.fake.calls("RunInstances").stream().filter(c -> c.errorCode() != null).count();
            assertTrue(refused <= 2, "paced: " + refused + " RunInstances throttled: " + fx.fake.calls("RunInstances"));
            assertTrue(took.compareTo(floor.minusMillis(100)) >= 0, "9 launches cannot beat the floor " + floor + ": " + took);
            assertTrue(took.compareTo(floor.plusSeconds(2)) <= 0, "and take about the floor " + floor + ": " + took);
        }
    }
    @Test
    void theFirstMachineIsProvisionedWhileLaterLaunchesStillWaitForTheirToken() {
        try (FleetFixture fx = new FleetFixture(org.workshopfleet.spec.WorkshopSpec.defaults(12,
                org.workshopfleet.spec.Provider.EC2))) {
            assertTrue(fx.fake.throttling(), "the stand-in throttles as EC2 does by default");
            RecordedResources recorder = new RecordedResources();
            Ec2Cloud cloud = fx.cloud(recorder);
            cloud.prepare(fx.context);
            Set<String> launched = java.util.concurrent.ConcurrentHashMap.newKeySet();
            List<Integer> launchedWhenFirstRan = new ArrayList<>();
            List<String> unlaunched = new ArrayList<>();

            // 12 launches paced at EC2's RunInstances rate take about 4 s; the first runs after a few polls.
            List<Machine> machines = cloud.launchAndAwait(fx.context, fx.requests(1, 12), List.of(),
                    Duration.ofSeconds(20), m -> launched.add(m.id()), m -> {
                        if (launchedWhenFirstRan.isEmpty()) {
                            launchedWhenFirstRan.add(fx.fake.launchedInstanceCount());
                        }
                        if (!launched.contains(m.id())) {
                            unlaunched.add(m.id());
                        }
                    });

            assertEquals(12, machines.size());
            assertTrue(machines.stream().allMatch(Machine::isRunningWithAddress), machines.toString());
            assertEquals(List.of(), unlaunched, "each machine was handed over as launched before it was waited for");
            assertTrue(launchedWhenFirstRan.get(0) < 12, "the first machine ran (and went to provisioning) after "
                    + launchedWhenFirstRan.get(0) + " of 12 RunInstances had returned");
            // One poller: a DescribeInstances covers every machine launched so far, not one machine per loop.
            int widest = fx.fake.calls("DescribeInstances").stream().mapToInt(c -> c.list("InstanceId").size()).max()
                    .orElse(0);
            assertTrue(widest > 1, "polls batch the launched ids: " + widest);
        }
    }
}
