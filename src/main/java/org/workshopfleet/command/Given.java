package org.workshopfleet.command;

/**
 * Which of the spec's provider and region the facilitator gave (-Dprovider, -Dregion) rather than left to their
 * defaults. A live ledger decides where its fleet is: a default gives way to it, a given value that differs is
 * refused (a teardown on the wrong cloud would find nothing and report an all-clear).
 *
 * @param provider whether -Dprovider was given
 * @param region   whether -Dregion was given (AWS_REGION counts as a default)
 */
public record Given(boolean provider, boolean region) {
    /** Both given: what a caller of the library means by the spec it passes. */
    public static final Given BOTH = new Given(true, true);
}
