package org.workshopfleet;

/**
 * An error the facilitator can fix. Its message is one line that says what is wrong and how to fix it; the command
 * prints it as it is, without a stack trace, and exits non-zero. Messages never contain secrets.
 */
public class FleetException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public FleetException(String oneLine) {
        super(oneLine);
    }

    public FleetException(String oneLine, Throwable cause) {
        super(oneLine, cause);
    }
}
