package org.workshopfleet.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.workshopfleet.ssh.LoopbackSshd;

/**
 * The bounded Lightsail fault campaign CI runs ({@code -Dfaults.lightsailSeeds}, default 6, from
 * {@code -Dfaults.firstSeed}, default 1): zero invariant violations, and the main fault kinds actually injected.
 */
class LightsailCampaignTest {

    @TempDir
    Path dir;

    @Test
    void everySeedEndsReadyOrRefusedWithTheFirewallAskedForAndLeavesNothing() throws IOException {
        LoopbackSshd.assumeAvailable();
        int seeds = Integer.getInteger("faults.lightsailSeeds", 6);
        long first = Long.getLong("faults.firstSeed", 1L);
        CampaignSummary s = LightsailCampaign.campaign(dir, first, seeds, System.out);
        System.out.println(s.text());
        assertEquals(java.util.List.of(), s.violations(), s.text());
        if (seeds >= 6 && first == 1) {
            for (String kind : new String[] {"CreateInstances:ServiceException", "PutInstancePublicPorts:NotFoundException",
                "default firewall back at boot", "step failure", "ssh drop mid-upload", "CreateInstances:OperationFailureException"}) {
                assertTrue(s.injected().getOrDefault(kind, 0L) > 0, kind + " injected: " + s.text());
            }
        }
    }
}
