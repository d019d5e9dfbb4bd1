package org.workshopfleet.cloud;

import java.util.Optional;
import org.workshopfleet.error.BadInput;
import org.workshopfleet.error.FleetException;
import org.workshopfleet.spec.WorkshopSpec;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.profiles.Profile;
import software.amazon.awssdk.profiles.ProfileFile;
import software.amazon.awssdk.profiles.ProfileFileSystemSetting;

/**
 * The standard AWS chain (environment, profile, SSO cache, …), resolved before any cloud call: what EC2 and Lightsail
 * need. A profile that signs in through IAM Identity Center (SSO) whose session has expired, or was never started on
 * this computer, gets its own line naming the {@code aws sso login} to run. Ctrl-C while the chain resolves (an SSO
 * token refresh, a container or instance endpoint) is {@link org.workshopfleet.error.Interrupted}, not missing
 * credentials.
 */
public final class AwsCredentials implements CredentialsCheck {

    /** What to do when no credentials could be loaded; also said for one that fails mid-run. */
    public static final String FIX = "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or run"
            + " 'aws sso login'";

    @Override
    public void check(WorkshopSpec spec) {
        try (DefaultCredentialsProvider chain = DefaultCredentialsProvider.builder().build()) {
            chain.resolveCredentials();
        } catch (SdkClientException e) {
            if (SdkInterruption.is(e)) {
                throw SdkInterruption.interrupted("resolving the AWS credentials", e);
            }
            Optional<String> sso = ssoProfile();
            throw sso.isPresent() ? ssoSessionMissing(spec, sso.get()) : missing(spec);
        }
    }

    /** The one-line message for missing credentials. */
    public static FleetException missing(WorkshopSpec spec) {
        return new BadInput("no AWS credentials for " + spec.provider().id() + ": " + FIX
                + "; to try without AWS use -Daction=plan or -Dprovider=lab");
    }

    /** The one-line message for an SSO profile without a live session. */
    public static FleetException ssoSessionMissing(WorkshopSpec spec, String profile) {
        return new BadInput("no AWS credentials for " + spec.provider().id() + ": the IAM Identity Center (SSO)"
                + " session of AWS profile '" + profile + "' has expired or was never started on this computer: run 'aws"
                + " sso login --profile " + profile + "' and re-run");
    }

    /** The active profile's name when it signs in through SSO ({@code sso_session} or {@code sso_start_url}). */
    private static Optional<String> ssoProfile() {
        try {
            String name = ProfileFileSystemSetting.AWS_PROFILE.getStringValue().orElse("default");
            Optional<Profile> profile = ProfileFile.defaultProfileFile().profile(name);
            boolean sso = profile.map(p -> p.property("sso_session").isPresent() || p.property("sso_start_url").isPresent())
                    .orElse(false);
            return sso ? Optional.of(name) : Optional.empty();
        } catch (RuntimeException unreadable) {
            return Optional.empty(); // a broken config file: the general message applies
        }
    }
}
