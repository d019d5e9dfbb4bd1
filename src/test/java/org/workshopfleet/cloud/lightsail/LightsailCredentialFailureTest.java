package org.workshopfleet.cloud.lightsail;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import org.junit.jupiter.api.Test;
import org.workshopfleet.cloud.AwsCredentialFailure;
import org.workshopfleet.cloud.FailingCredentialProcess;
import org.workshopfleet.error.BadInput;
import org.workshopfleet.error.CloudFailure;
import org.workshopfleet.error.FleetException;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.lightsail.LightsailClient;

/**
 * Credentials that fail to load or refresh mid-run (a profile's {@code credential_process} exits non-zero and prints a
 * secret to its error output): the Lightsail error line and its verbose stack trace say what to do and never quote the
 * process; a network error still says what failed.
 */
class LightsailCredentialFailureTest {

    private static final String REGION = "ap-northeast-1";
    /** Nothing listens there: credentials fail before a request is sent, a network error after. */
    private static final URI NOWHERE = URI.create("http://127.0.0.1:9");

    @Test
    void theChainFailingIsARefusalWithoutTheProcessOutput() {
        assertRefusedWithoutSecret(FailingCredentialProcess.chain());
    }

    /**
     * Mid-run the chain asks the provider that worked before directly, and the client passes its own error through
     * unwrapped: reported as the production clients' credentials are ({@link AwsCredentialFailure#reported}).
     */
    @Test
    void theReusedProviderFailingIsARefusalWithoutTheProcessOutput() {
        assertRefusedWithoutSecret(AwsCredentialFailure.reported(FailingCredentialProcess.provider()));
    }

    @Test
    void aNetworkErrorStillSaysWhatFailed() {
        FleetException e = ApiFailure.of("listing instances", REGION,
                failure(StaticCredentialsProvider.create(AwsBasicCredentials.create("AKIAX", "x"))));

        assertInstanceOf(CloudFailure.class, e);
        assertTrue(e.getMessage().contains("Unable to execute HTTP request") && e.getMessage().contains("127.0.0.1"),
                e.getMessage());
    }

    private static void assertRefusedWithoutSecret(AwsCredentialsProvider credentials) {
        FleetException e = ApiFailure.of("listing instances", REGION, failure(credentials));

        assertInstanceOf(BadInput.class, e);
        assertEquals("Lightsail listing instances failed: " + AwsCredentialFailure.LINE, e.getMessage());
        StringWriter verbose = new StringWriter();
        e.printStackTrace(new PrintWriter(verbose));
        assertFalse(verbose.toString().contains(FailingCredentialProcess.SECRET), verbose.toString());
        assertTrue(verbose.toString().contains("Caused by: "), "-Dverbose still shows where it came from");
    }

    /** What a real client throws for one GetInstances with these credentials and nothing listening. */
    private static SdkException failure(AwsCredentialsProvider credentials) {
        try (LightsailClient client = LightsailClient.builder().endpointOverride(NOWHERE).region(Region.of(REGION))
                .credentialsProvider(credentials).httpClientBuilder(ApacheHttpClient.builder())
                .overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.doNotRetry())).build()) {
            return assertThrows(SdkException.class, () -> client.getInstances(r -> { }));
        }
    }

    /** A wait that polls Lightsail ends at once on credentials that failed, not at its timeout; the network is waited out. */
    @Test
    void failedCredentialsAreNotWaitedOutButTheNetworkIs() {
        assertFalse(ApiFailure.isTransient(FailingCredentialProcess.chainError()));
        assertTrue(ApiFailure.isTransient(software.amazon.awssdk.core.exception.SdkClientException.create(
                "Unable to execute HTTP request: Connect to 127.0.0.1:9 failed")));
    }
}
