package org.workshopfleet.cloud;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.workshopfleet.error.ExitCode;
import org.workshopfleet.error.Interrupted;
import software.amazon.awssdk.core.exception.AbortedException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkInterruptedException;

/** Which SDK errors are an interrupted call, and what is thrown instead: the interrupt flag set, the trace kept. */
class SdkInterruptionTest {

    @AfterEach
    void clearFlag() {
        Thread.interrupted();
    }

    @Test
    void anAbortedCallIsAnInterruption() {
        assertTrue(SdkInterruption.is(AbortedException.create("Thread was interrupted", new SdkInterruptedException())));
        assertTrue(SdkInterruption.is(AbortedException.builder().build()));
    }

    @Test
    void aClientErrorCausedByAnInterruptIsAnInterruption() {
        assertTrue(SdkInterruption.is(SdkClientException.create("Unable to execute HTTP request",
                new IOException("wrapped", new InterruptedException()))));
    }

    @Test
    void aClientErrorWhileTheThreadIsInterruptedIsAnInterruption() {
        SdkClientException chain = SdkClientException.create("Unable to load credentials from any of the providers");
        assertFalse(SdkInterruption.is(chain));
        Thread.currentThread().interrupt();
        assertTrue(SdkInterruption.is(chain));
    }

    @Test
    void aNetworkFailureIsNot() {
        assertFalse(SdkInterruption.is(SdkClientException.create("Unable to execute HTTP request",
                new ConnectException("Connection refused"))));
        // A read timeout is an InterruptedIOException, but no interrupt.
        assertFalse(SdkInterruption.is(SdkClientException.create("Unable to execute HTTP request",
                new SocketTimeoutException("Read timed out"))));
    }

    @Test
    void theReplacementIsInterruptedWithTheFlagSetAgain() {
        Interrupted e = SdkInterruption.interrupted("talking to EC2 (wait) in ap-northeast-1",
                AbortedException.builder().build());
        assertTrue(Thread.currentThread().isInterrupted());
        assertEquals(ExitCode.INTERRUPTED, e.exitCode());
        assertEquals("interrupted while talking to EC2 (wait) in ap-northeast-1: re-run the same command to continue",
                e.getMessage());
    }

    /** {@code -Dverbose} prints the Interrupted's stack trace: it must lead to where the SDK saw the interrupt. */
    @Test
    void theReplacementKeepsTheSdkErrorsClassesAndStackTraces() {
        SdkInterruptedException interrupt = new SdkInterruptedException();
        AbortedException aborted = AbortedException.create("Thread was interrupted", interrupt);

        Interrupted e = SdkInterruption.interrupted("talking to EC2 (wait) in ap-northeast-1", aborted);

        Throwable cause = e.getCause();
        assertNotNull(cause, "the SDK's error is kept");
        assertEquals(AbortedException.class.getName() + " (message not shown)", cause.toString());
        assertArrayEquals(aborted.getStackTrace(), cause.getStackTrace());
        assertEquals(SdkInterruptedException.class.getName() + " (message not shown)", cause.getCause().toString());
        assertArrayEquals(interrupt.getStackTrace(), cause.getCause().getStackTrace());
        assertNull(cause.getCause().getCause());
    }

    /**
     * The credential chain's error quotes every provider's failure, a {@code credential_process}'s error output
     * included: whatever that printed must not reach {@code -Dverbose}'s output through the kept cause.
     */
    @Test
    void theChainsMessageNeverReachesTheVerboseOutput() {
        String quoted = "Command returned non-zero exit value (1) with error message: token=s3cr3t-from-the-helper";
        SdkClientException chain = SdkClientException.create("Unable to load credentials from any of the providers"
                + " in the chain: [ProcessCredentialsProvider(): " + quoted + "]", new IllegalStateException(quoted));
        chain.addSuppressed(new IllegalStateException(quoted));
        Thread.currentThread().interrupt();

        Interrupted e = SdkInterruption.interrupted("resolving the AWS credentials", chain);

        StringWriter verbose = new StringWriter();
        e.printStackTrace(new PrintWriter(verbose));
        String printed = verbose.toString();
        assertTrue(printed.contains("Caused by: " + SdkClientException.class.getName())
                && printed.contains("Caused by: " + IllegalStateException.class.getName()), printed);
        assertTrue(printed.contains("interrupted while resolving the AWS credentials"), printed);
        assertFalse(printed.contains("s3cr3t") || printed.contains("error message"), printed);
    }
}
