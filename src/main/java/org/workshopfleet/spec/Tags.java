package org.workshopfleet.spec;

/** Tag keys every resource carries, so teardown can find a fleet even without its ledger. */
public final class Tags {
    public static final String WORKSHOP = "Workshop";
    public static final String MANAGED_BY = "ManagedBy";
    public static final String MANAGED_BY_VALUE = "workshop-fleet";
    public static final String ATTENDEE = "Attendee";
    public static final String NAME = "Name";
    /** ISO-8601 instant after which the machine powers itself off (and, on EC2, terminates). */
    public static final String EXPIRES_AT = "ExpiresAt";

    private Tags() {
    }
}
