package org.workshopfleet.cloud;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.workshopfleet.error.ExitCode;
import org.workshopfleet.error.Interrupted;
import software.amazon.awssdk.core.exception.AbortedException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkInterruptedException;

/** Which SDK errors are an interrupted call, and what is thrown instead. */
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
        Interrupted e = SdkInterruption.interrupted("talking to EC2 (wait) in ap-northeast-1");
        assertTrue(Thread.currentThread().isInterrupted());
        assertEquals(ExitCode.INTERRUPTED, e.exitCode());
        assertEquals("interrupted while talking to EC2 (wait) in ap-northeast-1: re-run the same command to continue",
                e.getMessage());
    }
}
