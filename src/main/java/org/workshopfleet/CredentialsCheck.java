package org.workshopfleet;

import org.workshopfleet.error.BadInput;
import org.workshopfleet.error.FleetException;
import java.util.Optional;
import org.workshopfleet.spec.WorkshopSpec;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.profiles.Profile;
import software.amazon.awssdk.profiles.ProfileFile;
import software.amazon.awssdk.profiles.ProfileFileSystemSetting;

/** Fails with one line when the provider needs AWS credentials and none can be found; checked before any AWS call. */
@FunctionalInterface
public interface CredentialsCheck {

    void check(WorkshopSpec spec);

    /**
     * The standard AWS chain (environment, profile, SSO cache, …), resolved before any cloud call. A profile that signs
     * in through IAM Identity Center (SSO) whose session has expired, or was never started on this computer, gets its
     * own line naming the {@code aws sso login} to run.
     */
    static CredentialsCheck aws() {
        return spec -> {
            if (spec.provider() == org.workshopfleet.spec.Provider.LAB) {
                return;
            }
            try (DefaultCredentialsProvider chain = DefaultCredentialsProvider.builder().build()) {
                chain.resolveCredentials();
            } catch (SdkClientException e) {
                Optional<String> sso = ssoProfile();
                throw sso.isPresent() ? ssoSessionMissing(spec, sso.get()) : missing(spec);
            }
        };
    }

    /** The one-line message for missing credentials. */
    static FleetException missing(WorkshopSpec spec) {
        return new BadInput("no AWS credentials for " + spec.provider().id() + ": set AWS_ACCESS_KEY_ID and"
                + " AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or run 'aws sso login'; to try without AWS use -Daction=plan"
                + " or -Dprovider=lab");
    }

    /** The one-line message for an SSO profile without a live session. */
    static FleetException ssoSessionMissing(WorkshopSpec spec, String profile) {
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
