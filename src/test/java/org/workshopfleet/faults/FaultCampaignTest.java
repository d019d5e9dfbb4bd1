package org.workshopfleet.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.workshopfleet.ssh.LoopbackSshd;

/**
 * The bounded fault campaign CI runs ({@code -Dfaults.seeds}, default 30; about 7 s a seed on 2 cores, from {@code -Dfaults.firstSeed}, default 1):
 * zero invariant violations, and every fault kind actually injected.
 */
class FaultCampaignTest {

    @TempDir
    Path dir;

    @Test
    void everySeedEndsReadyOrRefusedAndLeavesNothing() throws IOException {
        LoopbackSshd.assumeAvailable();
        int seeds = Integer.getInteger("faults.seeds", 30);
        long first = Long.getLong("faults.firstSeed", 1L);
        CampaignSummary s = FaultCampaign.campaign(dir, first, seeds, System.out);
        System.out.println(s.text());
        assertEquals(java.util.List.of(), s.violations(), s.text());
        if (seeds >= 30) {
            for (String kind : new String[] {"RequestLimitExceeded", "InsufficientInstanceCapacity",
                "InvalidInstanceID.NotFound", "DependencyViolation", "InternalError", "step failure",
                "ssh drop mid-step", "ssh drop mid-upload"}) {
                assertTrue(s.injected().getOrDefault(kind, 0L) > 0, kind + " injected: " + s.text());
            }
            // A quota seed is refused by the pre-check (nothing launched, so no VcpuLimitExceeded) or, when the quota
            // cannot be read, by EC2 at launch.
            assertTrue(s.injected().getOrDefault("vCPU quota (pre-check)", 0L)
                    + s.injected().getOrDefault("VcpuLimitExceeded", 0L) > 0, "a vCPU quota injected: " + s.text());
        }
    }
}
