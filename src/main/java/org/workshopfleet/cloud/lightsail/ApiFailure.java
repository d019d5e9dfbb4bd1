package org.workshopfleet.cloud.lightsail;

import java.util.Objects;
import org.workshopfleet.cloud.AwsCredentialFailure;
import org.workshopfleet.cloud.SdkInterruption;
import org.workshopfleet.error.BadInput;
import org.workshopfleet.error.CloudFailure;
import org.workshopfleet.error.FleetException;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.lightsail.model.AccessDeniedException;
import software.amazon.awssdk.services.lightsail.model.AccountSetupInProgressException;
import software.amazon.awssdk.services.lightsail.model.InvalidInputException;
import software.amazon.awssdk.services.lightsail.model.OperationFailureException;
import software.amazon.awssdk.services.lightsail.model.UnauthenticatedException;

/**
 * Turns an SDK error into the one-line {@link FleetException} the facilitator sees: what failed and what to do. A call
 * the SDK gave up because the thread was interrupted (Ctrl-C) is {@link org.workshopfleet.error.Interrupted}, neither
 * a failure nor worth polling again ({@link SdkInterruption}). Credentials that could not be loaded or refreshed are
 * a refusal said without the SDK's text ({@link AwsCredentialFailure}).
 */
final class ApiFailure {

    private static final int MAX_DETAIL = 300;

    private ApiFailure() {
    }

    /** The error to throw for {@code e}; when it is an interruption, the thread's interrupt flag is set again. */
    static FleetException of(String action, String region, SdkException e) {
        if (SdkInterruption.is(e)) {
            return SdkInterruption.interrupted(action + " on Lightsail in " + region, e);
        }
        if (AwsCredentialFailure.is(e)) {
            // The chain's message may quote a credential_process's output: neither shown nor kept.
            return new BadInput("Lightsail " + action + " failed: " + AwsCredentialFailure.LINE,
                    AwsCredentialFailure.cause(e));
        }
        String line = "Lightsail " + action + " failed: " + detail(e) + "; " + hint(region, e);
        // Credentials and permissions are the facilitator's configuration: a refusal, like bad input.
        return e instanceof AccessDeniedException || e instanceof UnauthenticatedException
                ? new BadInput(line, e) : new CloudFailure(line, e);
    }

    /**
     * Worth polling again: throttling, a server-side failure that outlived the SDK's own retries, or a client error
     * (the network) other than an interruption: after Ctrl-C a wait must end as interrupted, not go on to its timeout.
     */
    static boolean isTransient(SdkException e) {
        // Neither an interrupt nor credentials that failed to load pass by waiting: the wait ends with the error.
        if (SdkInterruption.is(e) || AwsCredentialFailure.is(e)) {
            return false;
        }
        if (e instanceof AwsServiceException s) {
            return s.isThrottlingException() || s.statusCode() >= 500;
        }
        return e instanceof SdkClientException;
    }

    private static String detail(SdkException e) {
        String text;
        if (e instanceof AwsServiceException s && s.awsErrorDetails() != null) {
            String code = s.awsErrorDetails().errorCode();
            if (s instanceof InvalidInputException ii && ii.code() != null) {
                code = code + "/" + ii.code();
            } else if (s instanceof OperationFailureException of && of.code() != null) {
                code = code + "/" + of.code();
            }
            text = s.awsErrorDetails().errorMessage() + " (" + code + ", HTTP " + s.statusCode() + ")";
        } else {
            // Not a credential failure: of() answered those without calling here.
            text = Objects.toString(e.getMessage(), e.getClass().getSimpleName());
        }
        String line = String.valueOf(text).replaceAll("\\s+", " ").trim();
        return line.length() > MAX_DETAIL ? line.substring(0, MAX_DETAIL) + "…" : line;
    }

    private static String hint(String region, SdkException e) {
        if (e instanceof AccessDeniedException || e instanceof UnauthenticatedException) {
            return "check the AWS credentials (environment, profile or SSO login) and that they may use Lightsail in "
                    + region;
        }
        if (e instanceof AccountSetupInProgressException) {
            return "the Lightsail account is still being set up; wait a few minutes and re-run";
        }
        if (e instanceof OperationFailureException || e instanceof InvalidInputException) {
            return "check the account's Lightsail limits in " + region + " (instances per region) and the bundle and"
                    + " zone settings, then re-run: machines already created are adopted, not duplicated";
        }
        if (e instanceof SdkClientException) {
            return "check the network, AWS_ENDPOINT_URL_LIGHTSAIL and the AWS credentials, then re-run";
        }
        return "Lightsail is busy or failing; re-run later: machines already created are adopted, not duplicated";
    }
}
