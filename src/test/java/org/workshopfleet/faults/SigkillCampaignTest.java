package org.workshopfleet.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.workshopfleet.ssh.LoopbackSshd;

/** {@code up} killed with SIGKILL at a random moment, then re-run and torn down ({@code -Dfaults.killSeeds}, default 6; about 30 s a seed on 2 busy cores). */
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
    }
}
