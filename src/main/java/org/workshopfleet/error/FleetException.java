package org.workshopfleet.error;

/**
 * An error the facilitator can act on. Its message is one line that says what is wrong and how to fix it; the command
 * prints it as it is, without a stack trace, and exits with {@link #exitCode()}. Messages never contain secrets.
 *
 * <p>The kind says what happened, and so what the exit code promises: {@link BadInput} (nothing was created),
 * {@link CloudFailure} and {@link MachineFailure} (something may exist; the ledger knows), {@link Interrupted}.
 */
public abstract sealed class FleetException extends RuntimeException
        permits BadInput, CloudFailure, MachineFailure, Interrupted {
    private static final long serialVersionUID = 1L;

    FleetException(String oneLine) {
        super(oneLine);
    }

    FleetException(String oneLine, Throwable cause) {
        super(oneLine, cause);
    }

    /** The process exit code for this kind of error, one of {@link ExitCode}'s. */
    public abstract int exitCode();
}
