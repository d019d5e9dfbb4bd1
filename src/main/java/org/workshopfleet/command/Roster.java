package org.workshopfleet.command;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.workshopfleet.state.LedgerData;
import org.workshopfleet.state.MachineRecord;
import org.workshopfleet.state.ResourceEntry;

/**
 * Which machine serves which seat, from the ledger: the machines the fleet keeps (number → seat, {@link
 * MachineRecord#SPARE} for a spare), those it still has to launch, and the surplus to destroy. A machine's number is
 * its identity (name, keys, passwords, launch token); its seat is what the handout prints. A missing seat takes its
 * own number when no machine holds it; spares, and seats whose number is taken, take the lowest number above the
 * seats that this ledger never used, so no launch token of a destroyed machine is sent again.
 *
 * @param keep    every machine the fleet has or is to have: number → seat
 * @param launch  the numbers among {@code keep} the ledger has no live record of yet
 * @param surplus records to destroy: seats above the count, spares beyond the wanted number, retired machines
 */
record Roster(Map<Integer, Integer> keep, Set<Integer> launch, List<MachineRecord> surplus) {

    /** The roster for {@code count} seats and {@code spares} spares over the ledger's records. */
    static Roster of(LedgerData ledger, int count, int spares) {
        Map<Integer, Integer> keep = new TreeMap<>();
        List<MachineRecord> surplus = new ArrayList<>();
        Map<Integer, MachineRecord> seats = new TreeMap<>();
        List<MachineRecord> spareRecords = new ArrayList<>();
        List<MachineRecord> records = ledger.machines().values().stream()
                .sorted(Comparator.comparingInt(MachineRecord::attendee)).toList();
        for (MachineRecord r : records) {
            if (!r.isLive()) {
                surplus.add(r);
            } else if (r.isSpare()) {
                spareRecords.add(r);
            } else if (r.seatNumber() > count || seats.containsKey(r.seatNumber())) {
                surplus.add(r);
            } else {
                seats.put(r.seatNumber(), r);
            }
        }
        seats.forEach((seat, r) -> keep.put(r.attendee(), seat));
        // Ready spares are kept first: a spare still provisioning is the one to give up.
        spareRecords.sort(Comparator.comparing((MachineRecord r) -> r.phase() != org.workshopfleet.state.MachinePhase.READY)
                .thenComparingInt(MachineRecord::attendee));
        for (int i = 0; i < spareRecords.size(); i++) {
            if (i < spares) {
                keep.put(spareRecords.get(i).attendee(), MachineRecord.SPARE);
            } else {
                surplus.add(spareRecords.get(i));
            }
        }
        Set<Integer> used = usedNumbers(ledger);
        Set<Integer> launch = new TreeSet<>();
        List<Integer> displaced = new ArrayList<>();
        for (int seat = 1; seat <= count; seat++) {
            if (seats.containsKey(seat)) {
                continue;
            }
            if (!ledger.machines().containsKey(seat) && !keep.containsKey(seat)) {
                keep.put(seat, seat);
                launch.add(seat);
            } else {
                displaced.add(seat);
            }
        }
        int next = count;
        for (int seat : displaced) {
            next = nextFree(next, used, keep);
            keep.put(next, seat);
            launch.add(next);
        }
        for (int i = spareRecords.size(); i < spares; i++) {
            next = nextFree(next, used, keep);
            keep.put(next, MachineRecord.SPARE);
            launch.add(next);
        }
        return new Roster(keep, launch, surplus);
    }

    /**
     * The lowest number above {@code after} that neither the ledger ever used nor the roster holds (nor the image
     * builder's).
     */
    static int nextFree(int after, Set<Integer> used, Map<Integer, Integer> keep) {
        int n = after + 1;
        while (used.contains(n) || keep.containsKey(n) || n == org.workshopfleet.bake.ImageBaker.BUILDER_ATTENDEE) {
            n++;
        }
        return n;
    }

    /** Every machine number the ledger records, live or not: its machines and the machines among its resources. */
    static Set<Integer> usedNumbers(LedgerData ledger) {
        Set<Integer> used = new TreeSet<>(ledger.machines().keySet());
        for (ResourceEntry e : ledger.resources()) {
            if (e.attendee() > 0) {
                used.add(e.attendee());
            }
        }
        return used;
    }

    /** The seats' machines and the spares, by number. */
    int machines() {
        return keep.size();
    }
}
