package org.workshopfleet.cloud.ec2;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.workshopfleet.cloud.AwsCredentialFailure;
import org.workshopfleet.cloud.SdkInterruption;
import org.workshopfleet.error.BadInput;
import org.workshopfleet.error.CloudFailure;
import org.workshopfleet.error.FleetException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.ec2.model.Ec2Exception;
import software.amazon.awssdk.services.ec2.model.Filter;
import software.amazon.awssdk.services.ec2.model.ResourceType;
import software.amazon.awssdk.services.ec2.model.Tag;
import software.amazon.awssdk.services.ec2.model.TagSpecification;

/**
 * How the EC2 parts speak to the SDK: request filters, tag specifications, an error's code, and the mapping of an
 * error that escaped the specific handling to one line that names the operation, the code and what to check.
 */
final class Ec2Calls {

    /** What {@link org.workshopfleet.concurrent.Waiter} says the EC2 parts wait for. */
    static final String WAITING_FOR = "waiting for EC2";

    private Ec2Calls() {
    }

    /** EC2's error code ({@code InvalidGroup.NotFound} …), or null when the answer had none. */
    static String code(Ec2Exception e) {
        return e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorCode();
    }

    static Filter filter(String name, String value) {
        return Filter.builder().name(name).values(value).build();
    }

    static Filter filter(String name, List<String> values) {
        return Filter.builder().name(name).values(values).build();
    }

    /** Tags for a resource made by this call, sorted by key so equal tags make equal requests. */
    static TagSpecification tagSpec(ResourceType type, Map<String, String> tags) {
        List<Tag> list = new ArrayList<>();
        new TreeMap<>(tags).forEach((k, v) -> list.add(Tag.builder().key(k).value(v).build()));
        return TagSpecification.builder().resourceType(type).tags(list).build();
    }

    /**
     * Runs one public operation, turning any EC2 error that escaped the specific handling into a one-line
     * {@link FleetException}: a refusal (exit 2) for credentials and permissions, which are the facilitator's to fix
     * before anything is made, a cloud failure otherwise. Credentials that could not be loaded or refreshed are said
     * without the SDK's text ({@link AwsCredentialFailure}). A call the SDK gave up because the thread was interrupted
     * (Ctrl-C) is {@link org.workshopfleet.error.Interrupted}, the interrupt flag set again ({@link SdkInterruption}).
     */
    static <T> T call(String region, String what, Supplier<T> body) {
        try {
            return body.get();
        } catch (SdkClientException e) {
            if (SdkInterruption.is(e)) {
                throw SdkInterruption.interrupted("talking to EC2 (" + what + ") in " + region, e);
            }
            if (AwsCredentialFailure.is(e)) {
                // The chain's message may quote a credential_process's output: neither shown nor kept.
                throw new BadInput("EC2 " + what + " failed in " + region + ": " + AwsCredentialFailure.LINE,
                        AwsCredentialFailure.cause(e));
            }
            String message = Objects.toString(e.getMessage(), e.getClass().getSimpleName()).replaceAll("[\\r\\n]+", " ");
            String hint = message.contains("credentials")
                    ? "no usable AWS credentials: set AWS_PROFILE, run 'aws sso login' or 'aws configure'"
                    : "cannot reach EC2: check the network, the proxy and AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_EC2";
            String line = "EC2 " + what + " failed in " + region + " ("
                    + message.substring(0, Math.min(160, message.length())) + "): " + hint;
            // Credentials are the facilitator's configuration, refused before anything is made; the network is not.
            throw message.contains("credentials") ? new BadInput(line, e) : new CloudFailure(line, e);
        } catch (Ec2Exception e) {
            String code = Objects.toString(code(e), "HTTP " + e.statusCode());
            String message = e.awsErrorDetails() == null ? "" : Objects.toString(e.awsErrorDetails().errorMessage(), "");
            message = message.replaceAll("[\\r\\n]+", " ");
            if (message.length() > 200) {
                message = message.substring(0, 200) + "…";
            }
            String hint = switch (code) {
                case "AuthFailure", "HTTP 401" -> "check your AWS credentials (AWS_PROFILE, aws sso login) and clock";
                case "UnauthorizedOperation" -> "the AWS identity lacks an EC2 permission; see the message";
                case "RequestLimitExceeded" -> "EC2 is throttling this account; re-run in a minute";
                default -> "re-run the same command; it resumes where it stopped";
            };
            String line = "EC2 " + what + " failed in " + region + ": " + code
                    + (message.isEmpty() ? "" : " (" + message + ")") + ": " + hint;
            boolean refused = switch (code) {
                case "AuthFailure", "HTTP 401", "UnauthorizedOperation" -> true;
                default -> false;
            };
            throw refused ? new BadInput(line, e) : new CloudFailure(line, e);
        }
    }
}
