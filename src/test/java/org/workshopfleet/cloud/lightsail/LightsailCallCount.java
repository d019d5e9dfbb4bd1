package org.workshopfleet.cloud.lightsail;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.workshopfleet.cloud.LaunchContext;
import org.workshopfleet.cloud.Machine;
import org.workshopfleet.cloud.MachineImage;
import org.workshopfleet.cloud.RecordedResources;
import org.workshopfleet.cloud.lightsail.fake.LightsailFake;
import org.workshopfleet.spec.WorkshopSpec;
import org.workshopfleet.ssh.SshKeyPair;

/**
 * Benchmark: Lightsail API calls by operation for {@code up} (prepare, createNodes, awaitRunning) and
 * {@code teardown} at several fleet sizes, on {@link LightsailFake} (a stand-in). Instances run after 2 polls and
 * GetInstances pages hold 10 instances unless {@code -Dpage=} / {@code -DpendingPolls=} say otherwise. Then bake mode:
 * the snapshot is baked once (builder launched and waited for, CreateInstanceSnapshot, waited for while pending for 2
 * polls, builder deleted), then in the same run the N machines are launched from it with CreateInstancesFromSnapshot;
 * the bake's calls and the launch's are printed apart and added up.
 *
 * <pre>mvn -q -o exec:java -Dexec.classpathScope=test -Dexec.mainClass=org.workshopfleet.cloud.lightsail.LightsailCallCount [-Dexec.args="1 10 30 100"]</pre>
 */
public final class LightsailCallCount {

    private LightsailCallCount() {
    }

    public static void main(String[] args) {
        List<Integer> sizes = new ArrayList<>();
        for (String a : args) {
            sizes.add(Integer.parseInt(a));
        }
        if (sizes.isEmpty()) {
            sizes = List.of(1, 10, 30, 100);
        }
        int page = Integer.getInteger("page", 10);
        int pendingPolls = Integer.getInteger("pendingPolls", 2);
        System.out.printf(Locale.ROOT, "Lightsail calls on the fake (page size %d, running after %d polls)%n", page, pendingPolls);
        System.out.printf(Locale.ROOT, "%4s  %-8s %5s  %s%n", "N", "phase", "calls", "by operation");
        for (int n : sizes) {
            try (LightsailFake fake = LightsailFake.start("ap-northeast-1").pageSize(page).pendingPolls(pendingPolls)) {
                WorkshopSpec spec = LightsailScenario.spec(n);
                RecordedResources recorder = new RecordedResources();
                LaunchContext context = LightsailScenario.context(SshKeyPair.generate("bench"));
                long t0 = System.nanoTime();
                try (LightsailCloud cloud = LightsailScenario.cloud(fake, spec, recorder)) {
                    List<Machine> machines = LightsailScenario.up(cloud, context, LightsailScenario.requests(spec, 1, n));
                    long running = machines.stream().filter(Machine::isRunningWithAddress).count();
                    if (running != n) {
                        throw new IllegalStateException("only " + running + " of " + n + " machines are running");
                    }
                    print(n, "up", fake.countsByOperation(), System.nanoTime() - t0);
                    fake.clearRequests();
                    t0 = System.nanoTime();
                    cloud.teardown(recorder.live());
                    if (!fake.instances().isEmpty()) {
                        throw new IllegalStateException("teardown left " + fake.instances().size() + " instances");
                    }
                    print(n, "teardown", fake.countsByOperation(), System.nanoTime() - t0);
                }
            }
        }
        System.out.printf(Locale.ROOT, "Bake mode: snapshot once, then launch from it%n");
        System.out.printf(Locale.ROOT, "%4s  %-8s %5s  %s%n", "N", "phase", "calls", "by operation");
        for (int n : sizes) {
            measureBaked(n, page, pendingPolls);
        }
    }

    /** A recipe hash for the measurement (any 64 hex digits). */
    private static final String RECIPE = "0123456789abcdef".repeat(4);

    private static void measureBaked(int n, int page, int pendingPolls) {
        try (LightsailFake fake = LightsailFake.start("ap-northeast-1").pageSize(page).pendingPolls(pendingPolls)
                .snapshotPendingPolls(2)) {
            WorkshopSpec spec = LightsailScenario.spec(n);
            RecordedResources recorder = new RecordedResources();
            LaunchContext context = LightsailScenario.context(SshKeyPair.generate("bench"));
            long t0 = System.nanoTime();
            try (LightsailCloud cloud = LightsailScenario.cloud(fake, spec, recorder)) {
                if (cloud.images().orElseThrow().findImage(RECIPE).isPresent()) {
                    throw new IllegalStateException("fresh fake already has a snapshot");
                }
                List<Machine> builder = LightsailScenario.up(cloud, context, LightsailScenario.requests(spec, 1, 1));
                MachineImage image = cloud.images().orElseThrow().captureImage(builder.get(0).id(), RECIPE, Duration.ofSeconds(20));
                cloud.destroyNodes(List.of(builder.get(0).id()));
                Map<String, Integer> bake = fake.countsByOperation();
                print(n, "bake", bake, System.nanoTime() - t0);
                fake.clearRequests();
                t0 = System.nanoTime();
                LaunchContext fromImage = context.withImage(image.id());
                List<Machine> created = cloud.createNodes(fromImage, LightsailScenario.requests(spec, 1, n));
                List<Machine> machines = cloud.awaitRunning(created.stream().map(Machine::id).toList(),
                        Duration.ofSeconds(20));
                long running = machines.stream().filter(Machine::isRunningWithAddress).count();
                if (running != n || fake.count("CreateInstancesFromSnapshot") != n) {
                    throw new IllegalStateException("only " + running + " of " + n + " machines are running");
                }
                Map<String, Integer> launch = fake.countsByOperation();
                print(n, "launch", launch, System.nanoTime() - t0);
                int total = bake.values().stream().mapToInt(Integer::intValue).sum()
                        + launch.values().stream().mapToInt(Integer::intValue).sum();
                System.out.printf(Locale.ROOT, "%4d  %-8s %5d%n", n, "total", total);
            }
        }
    }

    private static void print(int n, String phase, Map<String, Integer> counts, long nanos) {
        int total = counts.values().stream().mapToInt(Integer::intValue).sum();
        StringBuilder ops = new StringBuilder();
        counts.forEach((op, c) -> ops.append(op).append('=').append(c).append(' '));
        System.out.printf(Locale.ROOT, "%4d  %-8s %5d  %s(%d ms)%n", n, phase, total, ops,
                Duration.ofNanos(nanos).toMillis());
    }
}
