package org.workshopfleet.report;

import java.util.List;

/**
 * The DNS records the facilitator creates when the machines have names ({@code -DhostnamePattern}): one {@code A}
 * record per machine with a name and an address, in zone-file form ({@code seat01.example.org. 300 IN A 203.0.113.7}),
 * ready to paste into a zone file or a DNS provider's import.
 */
public final class DnsRecords {

    /**
     * Seconds a resolver may keep a record: short, so that after {@code replace} moves a seat to another machine the
     * updated record reaches attendees within minutes.
     */
    public static final int TTL_SECONDS = 300;

    private DnsRecords() {
    }

    /**
     * The records of the cards that carry a name and an address, seats first (the handout's order), as a block that
     * starts with a comment line; empty when no card has a name.
     */
    public static String zoneBlock(List<AttendeeCard> cards) {
        StringBuilder sb = new StringBuilder();
        for (AttendeeCard c : cards) {
            String line = record(c);
            if (line != null) {
                sb.append(line).append('\n');
            }
        }
        if (sb.length() == 0) {
            return "";
        }
        return "; DNS records to create (zone-file form, TTL " + TTL_SECONDS + " s), one per machine:\n" + sb;
    }

    /** {@code seat01.example.org. 300 IN A 203.0.113.7}, or null for a card without a name or an address. */
    public static String record(AttendeeCard c) {
        if (c.hostName() == null || c.publicIp() == null) {
            return null;
        }
        return c.hostName() + ". " + TTL_SECONDS + " IN A " + c.publicIp();
    }
}
