package org.workshopfleet.error;

/**
 * The thread was interrupted (Ctrl-C) while it waited: for a cloud, a machine, a lock or its own worker tasks. The
 * thread's interrupt flag is set again before this is thrown, so callers further up see it too. Exit code
 * {@link ExitCode#INTERRUPTED}.
 */
public final class Interrupted extends FleetException {
    private static final long serialVersionUID = 1L;

    /** @param what what was going on, e.g. {@code "waiting for EC2"} */
    public Interrupted(String what) {
        super("interrupted while " + what + ": re-run the same command to continue");
    }

    @Override
    public int exitCode() {
        return ExitCode.INTERRUPTED;
    }
}
