package org.workshopfleet.spec;

/** Tag keys every resource carries, so teardown can find a fleet even without its ledger. */
public final class Tags {
    public static final String WORKSHOP = "Workshop";
    public static final String MANAGED_BY = "ManagedBy";
    public static final String MANAGED_BY_VALUE = "workshop-fleet";
    public static final String ATTENDEE = "Attendee";
    public static final String NAME = "Name";
    /**
     * The seat a machine serves ({@code 07}), or {@link #SEAT_SPARE} for a spare. {@link #ATTENDEE} stays the machine's
     * own number (its name, keys and launch token); a replace moves a seat to another machine by retagging this one.
     */
    public static final String SEAT = "Seat";
    /** The {@link #SEAT} of a machine that belongs to no seat yet. */
    public static final String SEAT_SPARE = "spare";
    /** ISO-8601 instant after which the machine powers itself off (and, on EC2, terminates). */
    public static final String EXPIRES_AT = "ExpiresAt";

    private Tags() {
    }
}
