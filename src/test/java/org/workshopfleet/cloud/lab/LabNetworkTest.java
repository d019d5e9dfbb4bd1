package org.workshopfleet.cloud.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LabNetworkTest {

    @Test
    void slotsMapToDistinctAddressesInsideTheSubnetAwayFromTheHost() {
        assertEquals("10.231.1.1", LabNetwork.addressOf(1));
        assertEquals("10.231.1.255", LabNetwork.addressOf(255));
        assertEquals("10.231.2.0", LabNetwork.addressOf(256));
        assertEquals("10.231.254.232", LabNetwork.addressOf(LabNetwork.MAX_SLOT));
        Set<String> seen = new HashSet<>();
        for (int s = 1; s <= LabNetwork.MAX_SLOT; s++) {
            String ip = LabNetwork.addressOf(s);
            if (!seen.add(ip) || ip.equals(LabNetwork.HOST_ADDRESS) || ip.endsWith(".255.255")) {
                throw new AssertionError("slot " + s + " gives a bad or repeated address " + ip);
            }
        }
        assertThrows(IllegalArgumentException.class, () -> LabNetwork.addressOf(0));
        assertThrows(IllegalArgumentException.class, () -> LabNetwork.addressOf(LabNetwork.MAX_SLOT + 1));
    }

    @TempDir
    Path tmp;

    /** What {@code ip netns add} does the first time: the folder, bind-mounted onto itself, as a shared mount. */
    private static void netnsMount(Path dir) throws Exception {
        Files.createDirectories(dir);
        HostCommand.check("mount", "--bind", dir.toString(), dir.toString());
        HostCommand.check("mount", "--make-shared", dir.toString());
    }

    @Test
    void theNetnsMountAndFolderTheLabCausedGoWithTheLastMachine() throws Exception {
        Assumptions.assumeTrue(LabHost.isRoot(), "mounting needs root");
        Path dir = tmp.resolve("netns");
        assertEquals(LabNetwork.NETNS_ABSENT, LabNetwork.netnsNow(dir));
        netnsMount(dir);
        assertEquals(LabNetwork.NETNS_MOUNT, LabNetwork.netnsNow(dir));
        LabNetwork.restoreNetnsDir(dir, LabNetwork.NETNS_ABSENT);
        assertFalse(HostMounts.isMountPoint(dir), "unmounted");
        assertFalse(Files.exists(dir), "the folder we created is gone");

        Files.createDirectories(dir);
        assertEquals(LabNetwork.NETNS_FOLDER, LabNetwork.netnsNow(dir));
        netnsMount(dir);
        netnsMount(dir); // two first uses at once stack two mounts
        LabNetwork.restoreNetnsDir(dir, LabNetwork.NETNS_FOLDER);
        assertFalse(HostMounts.isMountPoint(dir), "both mounts are gone");
        assertTrue(Files.isDirectory(dir), "a folder that was there before stays");
    }

    @Test
    void aNetnsMountThatWasThereBeforeOrHoldsOthersNamespacesStays() throws Exception {
        Assumptions.assumeTrue(LabHost.isRoot(), "mounting needs root");
        Path dir = tmp.resolve("netns");
        netnsMount(dir);
        try {
            LabNetwork.restoreNetnsDir(dir, LabNetwork.NETNS_MOUNT);
            assertTrue(HostMounts.isMountPoint(dir), "it was a mount before the lab: it stays");
            Files.writeString(dir.resolve("someone-elses"), "");
            LabNetwork.restoreNetnsDir(dir, LabNetwork.NETNS_ABSENT);
            assertTrue(HostMounts.isMountPoint(dir), "another namespace is pinned there: it stays");
            LabNetwork.restoreNetnsDir(dir, null);
            assertTrue(HostMounts.isMountPoint(dir), "nothing recorded (an older record): it stays");
        } finally {
            while (HostMounts.isMountPoint(dir)) {
                HostCommand.check("umount", dir.toString());
            }
        }
    }
}
