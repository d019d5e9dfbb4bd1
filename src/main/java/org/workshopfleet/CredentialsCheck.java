package org.workshopfleet;

import org.workshopfleet.spec.WorkshopSpec;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.core.exception.SdkClientException;

/** Fails with one line when the provider needs AWS credentials and none can be found; checked before any AWS call. */
@FunctionalInterface
public interface CredentialsCheck {

    void check(WorkshopSpec spec);

    /** The standard AWS chain (environment, profile, SSO cache, …), resolved locally before any call. */
    static CredentialsCheck aws() {
        return spec -> {
            if (spec.provider() == org.workshopfleet.spec.Provider.LAB) {
                return;
            }
            try (DefaultCredentialsProvider chain = DefaultCredentialsProvider.builder().build()) {
                chain.resolveCredentials();
            } catch (SdkClientException e) {
                throw missing(spec);
            }
        };
    }

    /** The one-line message for missing credentials. */
    static FleetException missing(WorkshopSpec spec) {
        return new FleetException("no AWS credentials for " + spec.provider().id() + ": set AWS_ACCESS_KEY_ID and"
                + " AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or run 'aws sso login'; to try without AWS use -Daction=plan"
                + " or -Dprovider=lab");
    }
}
