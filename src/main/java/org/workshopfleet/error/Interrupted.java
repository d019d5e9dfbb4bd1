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
        super(message(what));
    }

    /**
     * For an interruption that surfaced as an exception (an {@link InterruptedException}, the AWS SDK's
     * {@code AbortedException}, an {@code Interrupted} from further down): {@code -Dverbose} shows where it came from.
     * What is kept as the cause is a copy: the classes and stack traces of {@code cause} and its own causes, without
     * their messages, which may quote a secret (a {@link FleetException}'s line, secret-free, is kept).
     *
     * @param what  what was going on, e.g. {@code "waiting for EC2"}
     * @param cause the exception that told of the interrupt
     */
    public Interrupted(String what, Throwable cause) {
        super(message(what), CauseTrace.of(cause));
    }

    private static String message(String what) {
        return "interrupted while " + what + ": re-run the same command to continue";
    }

    @Override
    public int exitCode() {
        return ExitCode.INTERRUPTED;
    }
}
