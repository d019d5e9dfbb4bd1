package org.workshopfleet.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.workshopfleet.ssh.LoopbackSshd;

/**
 * {@code up} killed with SIGKILL at a random moment or progress line, then (or not) re-run; {@code teardown} killed
 * at a random point (or not), then run to the end ({@code -Dfaults.killSeeds}, default 6; about 20-30 s a seed on 2
 * busy cores).
 */
class SigkillCampaignTest {

    @TempDir
    Path dir;

    @Test
    void aKilledUpIsRepairedByReRunningAndLeavesNothingAfterTeardown() throws Exception {
        LoopbackSshd.assumeAvailable();
        SigkillCampaign.Summary s = SigkillCampaign.campaign(dir, Long.getLong("faults.firstSeed", 1L),
                Integer.getInteger("faults.killSeeds", 6));
        System.out.println(s.text());
        assertEquals(java.util.List.of(), s.violations(), s.text());
        if (Integer.getInteger("faults.killSeeds", 6) >= 6 && Long.getLong("faults.firstSeed", 1L) == 1) {
            assertTrue(s.killedDuring().keySet().stream().anyMatch(k -> k.startsWith("teardown ") && !k.contains("finished")),
                    "some teardown killed mid-way: " + s.text());
            assertTrue(s.killedDuring().keySet().stream().anyMatch(k -> k.startsWith("up ") && k.contains("(at '")),
                    "some up killed at a progress line: " + s.text());
        }
    }
}
