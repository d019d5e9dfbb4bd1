package org.workshopfleet.cloud;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ConnectException;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.ProcessCredentialsProvider;
import software.amazon.awssdk.core.exception.SdkClientException;

/** Which SDK errors are a credential failure, and what of them may be shown and kept. */
class AwsCredentialFailureTest {

    private static final String SECRET = FailingCredentialProcess.SECRET;

    @Test
    void theChainsErrorIsACredentialFailureShownWithoutItsText() {
        SdkClientException e = FailingCredentialProcess.chainError();

        assertTrue(AwsCredentialFailure.is(e));
        String shown = AwsCredentialFailure.LINE;
        assertFalse(shown.contains(SECRET), shown);
        assertTrue(shown.contains("AWS_PROFILE") && shown.contains("aws sso login"), shown);
        assertFalse(verbose(AwsCredentialFailure.cause(e)).contains(SECRET), verbose(AwsCredentialFailure.cause(e)));
    }

    /** Mid-run the chain asks the provider that worked before directly: its own error reaches the caller. */
    @Test
    void theProvidersOwnErrorIsOneToo() {
        try (ProcessCredentialsProvider provider = FailingCredentialProcess.provider()) {
            RuntimeException e = assertThrows(RuntimeException.class, provider::resolveCredentials);

            assertTrue(AwsCredentialFailure.is(e), e.toString());
            assertTrue(verbose(e).contains(SECRET), "the SDK's error quotes the process's output: " + e.getClass());
            String kept = verbose(AwsCredentialFailure.cause(e));
            assertFalse(kept.contains(SECRET), kept);
            assertTrue(kept.contains(e.getClass().getName()) && kept.contains("ProcessCredentialsProvider"), kept);
        }
    }

    @Test
    void aNetworkErrorIsNotOneAndKeepsItsCause() {
        SdkClientException e = SdkClientException.create("Unable to execute HTTP request: Connect to"
                + " ec2.ap-northeast-1.amazonaws.com:443 failed: Connection refused", new ConnectException("refused"));

        assertFalse(AwsCredentialFailure.is(e));
        assertSame(e, AwsCredentialFailure.cause(e));
    }

    static String verbose(Throwable t) {
        StringWriter out = new StringWriter();
        t.printStackTrace(new PrintWriter(out));
        return out.toString();
    }
}
