package org.workshopfleet.cloud;

import software.amazon.awssdk.auth.credentials.AwsCredentialsProviderChain;
import software.amazon.awssdk.auth.credentials.ProcessCredentialsProvider;
import software.amazon.awssdk.core.exception.SdkClientException;

/**
 * A profile's {@code credential_process} that fails and prints a secret to its error output, as a helper may (a token
 * in a debug line): the SDK's {@link ProcessCredentialsProvider} quotes that output in its error, and the credential
 * chain quotes the provider's error in its own.
 */
public final class FailingCredentialProcess {

    /** What the process prints; must never reach a line, a warning or a stack trace. */
    public static final String SECRET = "SECRET-123";

    private FailingCredentialProcess() {
    }

    /** The SDK's provider running the failing command. */
    public static ProcessCredentialsProvider provider() {
        return ProcessCredentialsProvider.builder()
                .command("echo 'refresh failed: token=" + SECRET + "' >&2; exit 3")
                .build();
    }

    /** The SDK's chain over that provider, as {@code DefaultCredentialsProvider} builds one. */
    public static AwsCredentialsProviderChain chain() {
        return AwsCredentialsProviderChain.of(provider());
    }

    /** The error the chain throws. */
    public static SdkClientException chainError() {
        try (AwsCredentialsProviderChain chain = chain()) {
            chain.resolveCredentials();
        } catch (SdkClientException e) {
            return e;
        }
        throw new AssertionError("the credential process did not fail");
    }
}
