package org.workshopfleet.cloud.ec2;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.workshopfleet.cloud.ec2.fake.Ec2Fake;
import org.workshopfleet.spec.Provider;
import org.workshopfleet.spec.WorkshopSpec;

/**
 * Benchmark: EC2 API calls by operation for {@code up} (checkCapacity + prepare + createNodes + awaitRunning, plus the
 * one Service Quotas call of the vCPU pre-check, shown apart) and {@code teardown} of
 * N = 1, 10, 30, 100 machines on the EC2 stand-in (instances pending for 3 polls, unknown to the first describe after
 * launch, shutting-down for 3 polls; no faults). The fake's clock is its poll count, so the figures are deterministic.
 * Two variants: per-machine user data (each machine its own RunInstances, as with per-machine host keys) and shared
 * user data (the batch shares RunInstances calls).
 *
 * <p>Run: {@code mvn -q -o test-compile exec:java -Dexec.classpathScope=test
 * -Dexec.mainClass=org.workshopfleet.cloud.ec2.Ec2CallCount}
 */
public final class Ec2CallCount {

    private Ec2CallCount() {
    }

    public static void main(String[] args) {
        for (boolean shared : new boolean[] {false, true}) {
            System.out.println(shared ? "== shared user data (batched RunInstances)" : "== per-machine user data");
            for (int n : new int[] {1, 10, 30, 100}) {
                measure(n, shared);
            }
        }
    }

    private static void measure(int n, boolean shared) {
        long start = System.nanoTime();
        try (FleetFixture fx = new FleetFixture(WorkshopSpec.defaults(n, Provider.EC2))) {
            fx.fake.pendingPolls(3).terminatingPolls(3).notFoundDescribesAfterLaunch(1);
            RecordingRecorder recorder = new RecordingRecorder();
            Ec2Cloud cloud = fx.cloud(recorder);
            List<?> machines = fx.up(cloud, fx.requests(1, n, shared));
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
