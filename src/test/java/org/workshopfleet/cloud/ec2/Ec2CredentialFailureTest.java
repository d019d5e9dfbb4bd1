package org.workshopfleet.cloud.ec2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import org.junit.jupiter.api.Test;
import org.workshopfleet.cloud.AwsCredentialFailure;
import org.workshopfleet.cloud.FailingCredentialProcess;
import org.workshopfleet.cloud.ec2.fake.Ec2Fake;
import org.workshopfleet.error.BadInput;
import org.workshopfleet.error.CloudFailure;
import org.workshopfleet.error.ExitCode;
import org.workshopfleet.error.FleetException;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.servicequotas.ServiceQuotasClient;

/**
 * Credentials that fail to load or refresh mid-run (a profile's {@code credential_process} exits non-zero and prints a
 * secret to its error output): the EC2 error line, its verbose stack trace and the vCPU quota notice say what to do and
 * never quote the process; a network error still says what failed.
 */
class Ec2CredentialFailureTest {

    private static final String SECRET = FailingCredentialProcess.SECRET;
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
        try (Ec2Client client = ec2(StaticCredentialsProvider.create(AwsBasicCredentials.create("AKIAX", "x")))) {
            CloudFailure e = assertThrows(CloudFailure.class,
                    () -> Ec2Calls.call("ap-northeast-1", "instance listing", client::describeInstances));

            assertTrue(e.getMessage().contains("Unable to execute HTTP request") && e.getMessage().contains("127.0.0.1"),
                    e.getMessage());
        }
    }

    @Test
    void theQuotaNoticeSaysWhatToDoWithoutTheProcessOutput() {
        try (ServiceQuotasClient client = ServiceQuotasClient.builder().endpointOverride(NOWHERE)
                .region(Region.AP_NORTHEAST_1).credentialsProvider(FailingCredentialProcess.chain())
                .httpClientBuilder(ApacheHttpClient.builder())
                .overrideConfiguration(o -> o.retryStrategy(Ec2Fake.testRetryStrategy())).build()) {
            OnDemandVcpuQuota.Reading reading = new OnDemandVcpuQuota(client).read();

            assertFalse(reading.known());
            assertEquals(AwsCredentialFailure.LINE, reading.unreadable());
        }
    }

    private static void assertRefusedWithoutSecret(AwsCredentialsProvider credentials) {
        try (Ec2Client client = ec2(credentials)) {
            FleetException e = assertThrows(BadInput.class,
                    () -> Ec2Calls.call("ap-northeast-1", "instance listing", client::describeInstances));

            assertEquals(ExitCode.BAD_INPUT, e.exitCode());
            assertEquals("EC2 instance listing failed in ap-northeast-1: " + AwsCredentialFailure.LINE, e.getMessage());
            StringWriter verbose = new StringWriter();
            e.printStackTrace(new PrintWriter(verbose));
            assertFalse(verbose.toString().contains(SECRET), verbose.toString());
            assertTrue(verbose.toString().contains("Caused by: "), "-Dverbose still shows where it came from");
        }
    }

    private static Ec2Client ec2(AwsCredentialsProvider credentials) {
        return Ec2Client.builder().endpointOverride(NOWHERE).region(Region.AP_NORTHEAST_1)
                .credentialsProvider(credentials)
                .httpClientBuilder(ApacheHttpClient.builder())
                .overrideConfiguration(o -> o.retryStrategy(Ec2Fake.testRetryStrategy()))
                .build();
    }
}
