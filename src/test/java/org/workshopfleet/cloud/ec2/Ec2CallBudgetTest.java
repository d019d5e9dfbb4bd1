package org.workshopfleet.cloud.ec2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.workshopfleet.cloud.RecordedResources;
import org.workshopfleet.spec.Provider;
import org.workshopfleet.spec.WorkshopSpec;

/**
 * Guards EC2's call budget (counts, not timings: the fake's clock is its poll count, so these are exact):
 * teardown does not grow with the fleet, and up grows only by the RunInstances that each machine needs.
 */
class Ec2CallBudgetTest {

    private record Counts(long up, long teardown, Map<String, Long> upByOperation, int quotaCalls) {
    }

    private static Counts measure(int n) {
        try (FleetFixture fx = new FleetFixture(WorkshopSpec.defaults(n, Provider.EC2))) {
            fx.fake.pendingPolls(3).terminatingPolls(3).notFoundDescribesAfterLaunch(1);
            RecordedResources recorder = new RecordedResources();
            Ec2Cloud cloud = fx.cloud(recorder);
            fx.up(cloud, fx.requests(1, n));
            Map<String, Long> up = fx.fake.callCounts();
            int quotaCalls = fx.fake.quotas().calls().size();
            fx.fake.clearCalls();
            cloud.teardown(recorder.live());
            long down = fx.fake.calls().size();
            return new Counts(up.values().stream().mapToLong(Long::longValue).sum(), down, up, quotaCalls);
        }
    }

    @Test
    void teardownIsFlatAndUpGrowsOnlyByRunInstances() {
        Counts one = measure(1);
        Counts thirty = measure(30);

        assertEquals(one.teardown(), thirty.teardown());
        assertTrue(thirty.teardown() <= 15, "teardown(30) = " + thirty.teardown());
        assertEquals(29, thirty.up() - one.up(), "only RunInstances grows: " + thirty.upByOperation());
        assertEquals(30L, thirty.upByOperation().get("RunInstances"));
        // The vCPU pre-check: one GetServiceQuota, one DescribeInstanceTypes, one DescribeInstances, whatever N.
        assertEquals(1, one.quotaCalls());
        assertEquals(1, thirty.quotaCalls());
        assertEquals(1L, thirty.upByOperation().get("DescribeInstanceTypes"));
        // The pinned stock image: one DescribeImages checks that Canonical owns it, whatever N.
        assertEquals(1L, one.upByOperation().get("DescribeImages"));
        assertEquals(1L, thirty.upByOperation().get("DescribeImages"));
        assertEquals(one.upByOperation().get("DescribeInstances"), thirty.upByOperation().get("DescribeInstances"));
    }
}
