package org.workshopfleet.cloud.ec2;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.workshopfleet.cloud.LaunchContext;
import org.workshopfleet.cloud.Machine;
import org.workshopfleet.cloud.MachineImage;
import org.workshopfleet.cloud.RecordedResources;
import org.workshopfleet.spec.Provider;
import org.workshopfleet.spec.WorkshopSpec;

/**
 * Benchmark: EC2 API calls by operation for {@code up} (checkCapacity + prepare + createNodes + awaitRunning, plus the
 * one Service Quotas call of the vCPU pre-check, shown apart) and {@code teardown} of
 * N = 1, 10, 30, 100 machines on the EC2 stand-in (instances pending for 3 polls, unknown to the first describe after
 * launch, shutting-down for 3 polls; no faults). The fake's clock is its poll count, so the figures are deterministic.
 * Each machine is its own RunInstances (its user data carries its own host key). A second, bake mode: the image is
 * baked once (a builder launched, {@code CreateImage}, waited for, builder terminated; the AMI pending for 3 polls),
 * then, in the same run, the N machines are launched from it; the bake's calls and the launch's are printed apart and
 * added up. A later workshop reusing the image makes the calls of a plain up plus one {@code DescribeImages} (the lookup).
 *
 * <p>Run: {@code mvn -q -o test-compile exec:java -Dexec.classpathScope=test
 * -Dexec.mainClass=org.workshopfleet.cloud.ec2.Ec2CallCount}
 */
public final class Ec2CallCount {

    private Ec2CallCount() {
    }

    public static void main(String[] args) {
        System.out.println("== from the stock image");
        for (int n : new int[] {1, 10, 30, 100}) {
            measure(n);
        }
        System.out.println("== baked: capture once, then launch from the image");
        for (int n : new int[] {1, 10, 30, 100}) {
            measureBaked(n);
        }
    }

    /** A recipe hash for the measurement (any 64 hex digits). */
    private static final String RECIPE = "0123456789abcdef".repeat(4);

    private static void measureBaked(int n) {
        long start = System.nanoTime();
        try (FleetFixture fx = new FleetFixture(WorkshopSpec.defaults(n, Provider.EC2))) {
            fx.fake.pendingPolls(3).terminatingPolls(3).notFoundDescribesAfterLaunch(1);
            fx.fake.bakedImages().pendingPolls(3);
            RecordedResources recorder = new RecordedResources();
            Ec2Cloud cloud = fx.cloud(recorder);
            // Bake: the image is missing, a builder is provisioned (as attendee 1) and imaged, then terminated.
            cloud.prepare(fx.context);
            if (cloud.images().orElseThrow().findImage(RECIPE).isPresent()) {
                throw new IllegalStateException("fresh fake already has an image");
            }
            List<Machine> builder = cloud.createNodes(fx.context, fx.requests(1, 1));
            String builderId = cloud.awaitRunning(List.of(builder.get(0).id()), Duration.ofSeconds(20)).get(0).id();
            MachineImage image = cloud.images().orElseThrow().captureImage(builderId, RECIPE, Duration.ofSeconds(20));
            cloud.destroyNodes(List.of(builderId));
            Map<String, Long> bake = new TreeMap<>(fx.fake.callCounts());
            fx.fake.clearCalls();
            // The same run goes on: the whole fleet launched from the image (prepare is done, the image is known).
            LaunchContext fromImage = fx.context.withImage(image.id());
            List<Machine> created = cloud.createNodes(fromImage, fx.requests(1, n));
            List<Machine> machines = cloud.awaitRunning(created.stream().map(Machine::id).toList(), Duration.ofSeconds(20));
            Map<String, Long> up = new TreeMap<>(fx.fake.callCounts());
            fx.fake.clearCalls();
            cloud.teardown(recorder.live());
            Map<String, Long> down = new TreeMap<>(fx.fake.callCounts());
            if (machines.stream().filter(Machine::isRunningWithAddress).count() != n || fx.fake.liveInstanceCount() != 0
                    || fx.fake.bakedImages().registered().size() != 1) {
                throw new IllegalStateException("baked measurement run did not complete");
            }
            System.out.printf("N=%-3d bake=%-3d %s%n      launch-from-image=%-3d %s%n      baked up total=%-3d   teardown=%-3d %s"
                            + "   (%d ms)%n", n, total(bake), bake, total(up), up, total(bake) + total(up), total(down), down,
                    (System.nanoTime() - start) / 1_000_000);
        }
    }

    private static void measure(int n) {
        long start = System.nanoTime();
        try (FleetFixture fx = new FleetFixture(WorkshopSpec.defaults(n, Provider.EC2))) {
            fx.fake.pendingPolls(3).terminatingPolls(3).notFoundDescribesAfterLaunch(1);
            RecordedResources recorder = new RecordedResources();
            Ec2Cloud cloud = fx.cloud(recorder);
            List<?> machines = fx.up(cloud, fx.requests(1, n));
            Map<String, Long> up = new TreeMap<>(fx.fake.callCounts());
            int quotaCalls = fx.fake.quotas().calls().size();
            fx.fake.clearCalls();
            cloud.teardown(recorder.live());
            Map<String, Long> down = new TreeMap<>(fx.fake.callCounts());
            if (machines.size() != n || fx.fake.liveInstanceCount() != 0) {
                throw new IllegalStateException("measurement run did not complete");
            }
            System.out.printf("N=%-3d up=%-3d %s + ServiceQuotas GetServiceQuota=%d%n      teardown=%-3d %s   (%d ms)%n",
                    n, total(up), up, quotaCalls, total(down), down, (System.nanoTime() - start) / 1_000_000);
        }
    }

    private static long total(Map<String, Long> counts) {
        return counts.values().stream().mapToLong(Long::longValue).sum();
    }
}
