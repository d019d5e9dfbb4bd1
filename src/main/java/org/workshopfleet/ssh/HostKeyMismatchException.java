package org.workshopfleet.ssh;

import org.workshopfleet.error.MachineFailure;
import org.workshopfleet.error.FleetException;


/** The machine presented a host key other than the pinned one; nothing was sent to it. */
public final class HostKeyMismatchException extends MachineFailure {
    private static final long serialVersionUID = 1L;

    public HostKeyMismatchException(String endpoint, String expected, String presented) {
        super("host key of " + endpoint + " does not match the pinned key (expected " + expected + ", presented "
                + presented + "): not logging in; if the machine was replaced, destroy it and re-run up");
    }
}
