package org.workshopfleet;

import org.workshopfleet.cloud.AwsCredentials;
import org.workshopfleet.error.FleetException;
import org.workshopfleet.spec.Provider;
import org.workshopfleet.spec.WorkshopSpec;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;

/**
 * Run in a child JVM by {@code SsoCredentialsTest}, whose environment holds only an SSO profile: prints what the default
 * credential chain says ({@code chain: ...}, the whole cause chain on one line) and what {@link AwsCredentials}
 * makes of it ({@code check: ...}).
 */
public final class CredentialsProbe {
    private CredentialsProbe() {
    }

    public static void main(String[] args) {
        try (DefaultCredentialsProvider chain = DefaultCredentialsProvider.builder().build()) {
            chain.resolveCredentials();
            System.out.println("chain: resolved");
        } catch (RuntimeException e) {
            StringBuilder sb = new StringBuilder();
            for (Throwable t = e; t != null; t = t.getCause()) {
                sb.append(t.getClass().getSimpleName()).append(": ").append(t.getMessage()).append(" | ");
            }
            System.out.println("chain: " + sb.toString().replaceAll("[\\r\\n]+", " "));
        }
        try {
            new AwsCredentials().check(WorkshopSpec.defaults(1, Provider.EC2));
            System.out.println("check: ok");
        } catch (FleetException e) {
            System.out.println("check: " + e.getMessage());
        }
    }
}
