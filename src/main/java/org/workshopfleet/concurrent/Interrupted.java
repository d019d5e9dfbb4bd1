package org.workshopfleet.concurrent;

import org.workshopfleet.FleetException;

/**
 * The thread was interrupted (Ctrl-C) while a {@link Waiter} slept or a {@link FanOut} waited for its tasks. The
 * thread's interrupt flag is set again before this is thrown, so callers further up see it too.
 */
public final class Interrupted extends FleetException {
    private static final long serialVersionUID = 1L;

    /** @param what what was going on, e.g. {@code "waiting for EC2"} */
    public Interrupted(String what) {
        super("interrupted while " + what + ": re-run the same command to continue");
    }
}
