package org.workshopfleet.error;

/**
 * What an {@link Interrupted} keeps of the exception it replaces: the class and stack trace of each exception down the
 * cause chain, which {@code -Dverbose} prints ({@code Main} prints a {@link FleetException} with
 * {@link Throwable#printStackTrace(java.io.PrintStream)}). Messages are left out, but a {@link FleetException}'s (ours,
 * and secret-free by contract): a library's message can quote whatever it read, the AWS credential chain's for one
 * quotes the error output of a profile's {@code credential_process}, and a secret never reaches output. Suppressed
 * exceptions are left out for the same reason. Also the cause kept for an AWS credential failure
 * ({@code cloud.AwsCredentialFailure}).
 */
public final class CauseTrace extends Throwable {
    private static final long serialVersionUID = 1L;

    /** Exceptions copied at most: enough for any real chain, and no loop on a cyclic one. */
    private static final int MAX_DEPTH = 16;

    private final String className;

    private CauseTrace(Throwable original, Throwable cause) {
        // A copy of a copy (an Interrupted made from one made further down) keeps what the first copy kept.
        super(original instanceof FleetException || original instanceof CauseTrace ? original.getMessage() : null, cause,
                false, true);
        this.className = original instanceof CauseTrace copy ? copy.className : original.getClass().getName();
        setStackTrace(original.getStackTrace());
    }

    /** The copy of {@code original} and its causes; null for null. */
    public static Throwable of(Throwable original) {
        return of(original, 0);
    }

    private static Throwable of(Throwable t, int depth) {
        return t == null || depth == MAX_DEPTH ? null : new CauseTrace(t, of(t.getCause(), depth + 1));
    }

    /** The original's class name, and its message only when it was a {@link FleetException}'s. */
    @Override
    public String toString() {
        return getMessage() == null ? className + " (message not shown)" : className + ": " + getMessage();
    }
}
