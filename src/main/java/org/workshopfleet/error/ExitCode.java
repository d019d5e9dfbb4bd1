package org.workshopfleet.error;

/**
 * The command's exit codes, one per outcome a facilitator's script may branch on.
 *
 * <ul>
 *   <li>{@link #OK} 0: everything asked for is done.</li>
 *   <li>{@link #FAILURE} 1: a cloud call, a machine or a check failed, or an unexpected error; something may have been
 *       created, and the ledger records it, so re-running the same command continues and teardown removes it.</li>
 *   <li>{@link #BAD_INPUT} 2: the input was refused (a bad option, a missing file, a busy workshop, a declined
 *       confirmation) before anything was created or changed.</li>
 *   <li>{@link #INTERRUPTED} 130: stopped by Ctrl-C (128 + SIGINT, as shells report it); re-run to continue.</li>
 * </ul>
 */
public final class ExitCode {
    public static final int OK = 0;
    public static final int FAILURE = 1;
    public static final int BAD_INPUT = 2;
    public static final int INTERRUPTED = 130;

    private ExitCode() {
    }
}
