package org.workshopfleet.command;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.workshopfleet.cloud.ResourceKind;
import org.workshopfleet.state.LedgerData;
import org.workshopfleet.state.MachinePhase;
import org.workshopfleet.state.MachineRecord;
import org.workshopfleet.state.ResourceEntry;

/** Which machine serves which seat, and which numbers new machines take (never one the ledger used before). */
class RosterTest {

    private static final Instant T = Instant.parse("2026-11-25T08:00:00Z");

    private static MachineRecord machine(int n, Integer seat, MachinePhase phase) {
        return new MachineRecord(n, "w-0" + n, "i-" + n, "t3.medium", "203.0.113." + n, phase, null, List.of(), null,
                List.of(), T, T, seat);
    }

    private static LedgerData ledger(List<MachineRecord> machines, int... usedBefore) {
        Map<Integer, MachineRecord> byNumber = new TreeMap<>();
        machines.forEach(m -> byNumber.put(m.attendee(), m));
        List<ResourceEntry> resources = new java.util.ArrayList<>();
        for (int n : usedBefore) {
            resources.add(new ResourceEntry(ResourceKind.INSTANCE, "i-old-" + n, "w-0" + n, n, T, T));
        }
        return new LedgerData(1, "w", "ec2", "ap-northeast-1", T, null, resources, byNumber, Map.of());
    }

    @Test
    void aNewFleetNumbersTheSeatsFirstThenTheSpares() {
        Roster r = Roster.of(ledger(List.of()), 2, 1);
        assertEquals(Map.of(1, 1, 2, 2, 3, MachineRecord.SPARE), r.keep());
        assertEquals(Set.of(1, 2, 3), r.launch());
        assertEquals(List.of(), r.surplus());
    }

    @Test
    void aMovedSeatStaysOnItsMachineAndASpareTakesANumberNeverUsedBefore() {
        // Seat 1 moved to machine 3; machine 1 was destroyed (its number used); spare 4 was made.
        LedgerData moved = ledger(List.of(machine(2, null, MachinePhase.READY), machine(3, 1, MachinePhase.READY),
                machine(4, MachineRecord.SPARE, MachinePhase.READY)), 1);
        Roster kept = Roster.of(moved, 2, 1);
        assertEquals(Map.of(2, 2, 3, 1, 4, MachineRecord.SPARE), kept.keep());
        assertEquals(Set.of(), kept.launch());

        Roster more = Roster.of(moved, 3, 2);
        assertEquals(5, more.keep().entrySet().stream().filter(e -> e.getValue() == 3).findFirst().orElseThrow().getKey(),
                "seat 3's own number is held by seat 1's machine: the next free one");
        assertEquals(Set.of(5, 6), more.launch(), "and a second spare after it; number 1 is never sent again");
    }

    @Test
    void retiredMachinesSparesBeyondTheWantedAndSeatsAboveTheCountAreSurplus() {
        LedgerData l = ledger(List.of(machine(1, null, MachinePhase.DESTROYED), machine(2, null, MachinePhase.READY),
                machine(3, MachineRecord.SPARE, MachinePhase.PROVISIONING), machine(4, MachineRecord.SPARE,
                        MachinePhase.READY), machine(5, 1, MachinePhase.READY)));
        Roster r = Roster.of(l, 1, 1);
        assertEquals(Map.of(5, 1, 4, MachineRecord.SPARE), r.keep(), "the ready spare is kept");
        assertEquals(List.of(1, 2, 3), r.surplus().stream().map(MachineRecord::attendee).sorted().toList());
        assertEquals(Set.of(), r.launch());
    }
}
