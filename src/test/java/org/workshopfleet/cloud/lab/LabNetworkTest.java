package org.workshopfleet.cloud.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

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
}
