package org.workshopfleet.cloud;

import org.workshopfleet.error.Interrupted;
import software.amazon.awssdk.core.exception.AbortedException;
import software.amazon.awssdk.core.exception.SdkClientException;

/**
 * Tells an AWS SDK call given up because its thread was interrupted (Ctrl-C) from one that failed. The SDK reports
 * both as a client error: an interrupt while a call is in flight ends it, once EC2 or Lightsail has answered, with an
 * {@link AbortedException} (cause: the SDK's {@code SdkInterruptedException}, an {@link InterruptedException}), much
 * like an unreachable endpoint. Mapped as a failure it would end the command with exit 1 and a wrong hint (check the
 * network), or be polled again as a transient error; it is {@link Interrupted} instead.
 */
public final class SdkInterruption {

    /** Causes looked at at most: enough for the SDK's wrapping, and no loop on a cyclic cause chain. */
    private static final int MAX_CAUSES = 16;

    private SdkInterruption() {
    }

    /**
     * Whether {@code e} is the SDK giving up a call because the calling thread was interrupted: an
     * {@link AbortedException}, any error with an {@link InterruptedException} among its causes, or a client error
     * while this thread's interrupt flag is set (the credential chain, for one, hides the cause behind its own message).
     */
    public static boolean is(Throwable e) {
        if (e instanceof AbortedException) {
            return true;
        }
        Throwable t = e;
        for (int i = 0; t != null && i < MAX_CAUSES; i++, t = t.getCause()) {
            if (t instanceof InterruptedException) {
                return true;
            }
        }
        return e instanceof SdkClientException && Thread.currentThread().isInterrupted();
    }

    /**
     * The {@link Interrupted} to throw instead, with the thread's interrupt flag set again (the SDK sets it, but its
     * callers further up must see it whatever the SDK does), and {@code e}'s stack trace kept for {@code -Dverbose}.
     *
     * @param what what was going on, e.g. {@code "talking to EC2 (wait) in ap-northeast-1"}
     * @param e    the SDK's error, for which {@link #is} holds
     */
    public static Interrupted interrupted(String what, Throwable e) {
        Thread.currentThread().interrupt();
        return new Interrupted(what, e);
    }
}
