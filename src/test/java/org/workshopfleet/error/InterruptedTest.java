package org.workshopfleet.error;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

/** What an {@link Interrupted} made from a caught exception keeps of it: classes and stack traces, no secret. */
class InterruptedTest {

    @Test
    void theCauseKeepsClassAndStackTraceButNotTheMessage() {
        InterruptedException sleep = new InterruptedException("sleep interrupted; key=-----BEGIN OPENSSH PRIVATE KEY-----");

        Interrupted e = new Interrupted("waiting for EC2", sleep);

        assertEquals("interrupted while waiting for EC2: re-run the same command to continue", e.getMessage());
        assertEquals(ExitCode.INTERRUPTED, e.exitCode());
        assertEquals("java.lang.InterruptedException (message not shown)", e.getCause().toString());
        assertNull(e.getCause().getMessage());
        assertArrayEquals(sleep.getStackTrace(), e.getCause().getStackTrace());
        assertFalse(verbose(e).contains("PRIVATE KEY"), verbose(e));
    }

    /** An Interrupted from further down (a fan-out's) is ours and secret-free: its line stays; its cause's does not. */
    @Test
    void anInterruptedFromFurtherDownKeepsItsLine() {
        Interrupted inner = new Interrupted("running verify", new InterruptedException("password=hunter2-for-a-test"));

        Interrupted e = new Interrupted("verifying the machines", inner);

        String printed = verbose(e);
        assertTrue(printed.contains("Caused by: " + Interrupted.class.getName()
                + ": interrupted while running verify: re-run the same command to continue"), printed);
        assertTrue(printed.contains("Caused by: java.lang.InterruptedException (message not shown)"), printed);
        assertFalse(printed.contains("hunter2"), printed);
    }

    @Test
    void suppressedExceptionsAreLeftOut() {
        InterruptedException wait = new InterruptedException();
        wait.addSuppressed(new IllegalStateException("closing failed: password=hunter2-for-a-test"));

        String printed = verbose(new Interrupted("writing the ledger", wait));

        assertFalse(printed.contains("Suppressed") || printed.contains("hunter2"), printed);
    }

    @Test
    void aCyclicCauseChainEnds() {
        IllegalStateException a = new IllegalStateException("a");
        IllegalStateException b = new IllegalStateException("b", a);
        a.initCause(b);

        Interrupted e = new Interrupted("talking to Grafana", a);

        int depth = 0;
        for (Throwable t = e.getCause(); t != null && depth <= 100; t = t.getCause()) {
            depth++;
        }
        assertEquals(16, depth, "copied down to the limit, not forever");
        assertTrue(verbose(e).contains("Caused by: java.lang.IllegalStateException (message not shown)"));
    }

    @Test
    void withoutACauseThereIsNone() {
        assertNull(new Interrupted("waiting for SSH").getCause());
        assertNull(new Interrupted("waiting for SSH", null).getCause());
    }

    private static String verbose(Throwable e) {
        StringWriter out = new StringWriter();
        e.printStackTrace(new PrintWriter(out));
        return out.toString();
    }
}
