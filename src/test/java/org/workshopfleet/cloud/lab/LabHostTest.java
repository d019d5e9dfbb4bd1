package org.workshopfleet.cloud.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The host checks that need no root: how much inotify room a fleet needs, and reading a sysctl file. */
class LabHostTest {

    @TempDir
    Path tmp;

    @Test
    void aFleetNeedsTheHostsShareAndAFixedNumberOfInotifyInstancesPerMachine() {
        assertEquals(LabHost.INOTIFY_HOST_RESERVE, LabHost.inotifyNeeded(0));
        assertEquals(128 + 30 * LabHost.INOTIFY_PER_MACHINE, LabHost.inotifyNeeded(30));
        assertTrue(LabHost.inotifyNeeded(19) > 128, "Debian's default of 128 is not enough for 19 machines");
    }

    @Test
    void nothingIsRaisedWhenTheLimitAlreadySuffices() throws IOException {
        Path knob = LabHost.INOTIFY_KNOB;
        int before = LabHost.readSysctl(knob);
        assumeTrue(before >= LabHost.inotifyNeeded(0), "a host whose limit is below Debian's default");
        assertTrue(LabHost.ensureInotifyFor(0).isEmpty());
        assertEquals(before, LabHost.readSysctl(knob), "left as it was");
    }

    @Test
    void readsASysctlValueInOneRead() throws IOException {
        Path f = tmp.resolve("max_user_instances");
        Files.writeString(f, "128\n");
        assertEquals(128, LabHost.readSysctl(f));
    }
}
