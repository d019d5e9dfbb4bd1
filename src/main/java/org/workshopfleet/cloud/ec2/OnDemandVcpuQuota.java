package org.workshopfleet.cloud.ec2;

import java.util.Objects;
import org.workshopfleet.cloud.AwsCredentialFailure;
import org.workshopfleet.cloud.SdkInterruption;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.servicequotas.ServiceQuotasClient;
import software.amazon.awssdk.services.servicequotas.model.ServiceQuota;
import software.amazon.awssdk.services.servicequotas.model.ServiceQuotasException;

/**
 * EC2's vCPU quota for standard On-Demand instances ({@value #QUOTA_NAME}, code {@value #QUOTA_CODE}), read with
 * Service Quotas' {@code GetServiceQuota}: EC2's own API has no call that tells a quota before a launch fails on it.
 * A quota that cannot be read (no permission, no such quota, endpoint unreachable, throttled) is a {@link Reading}
 * with the reason, never an exception: the check it feeds is a courtesy and the launch-time refusal stays the net. A
 * read the SDK gave up because the thread was interrupted (Ctrl-C) is not an unreadable quota: it throws
 * {@link org.workshopfleet.error.Interrupted}.
 */
public final class OnDemandVcpuQuota {

    public static final String SERVICE_CODE = "ec2";
    public static final String QUOTA_CODE = "L-1216C47A";
    public static final String QUOTA_NAME = "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances";

    private final ServiceQuotasClient client;

    /** @param client a built client for the workshop's region; not closed here */
    public OnDemandVcpuQuota(ServiceQuotasClient client) {
        this.client = Objects.requireNonNull(client, "client");
    }

    /**
     * The client {@link Ec2Cloud#create} uses: default credentials and retries, Apache HTTP, the given region; the SDK
     * itself honours {@code AWS_ENDPOINT_URL_SERVICE_QUOTAS} and {@code AWS_ENDPOINT_URL}.
     */
    public static ServiceQuotasClient defaultClient(String region) {
        return ServiceQuotasClient.builder()
                .region(Region.of(region))
                .credentialsProvider(AwsCredentialFailure.defaultChain())
                .httpClientBuilder(ApacheHttpClient.builder())
                .build();
    }

    /**
     * What one read gave.
     *
     * @param vcpus      the quota's value in vCPUs, or null when it could not be read
     * @param unreadable why it could not be read (one line), or null
     */
    public record Reading(Double vcpus, String unreadable) {
        public boolean known() {
            return vcpus != null;
        }
    }

    /**
     * One {@code GetServiceQuota} call (the SDK retries throttling and 5xx by itself).
     *
     * @throws org.workshopfleet.error.Interrupted when the thread was interrupted during the call (flag set again)
     */
    public Reading read() {
        try {
            ServiceQuota quota = client.getServiceQuota(r -> r.serviceCode(SERVICE_CODE).quotaCode(QUOTA_CODE)).quota();
            if (quota == null || quota.value() == null) {
                String why = quota != null && quota.errorReason() != null
                        ? quota.errorReason().errorCodeAsString() + " " + Objects.toString(quota.errorReason().errorMessage(), "")
                        : "no value in the answer";
                return new Reading(null, "Service Quotas: " + oneLine(why));
            }
            return new Reading(quota.value(), null);
        } catch (ServiceQuotasException e) {
            String code = e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorCode();
            String message = e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorMessage();
            return new Reading(null, Objects.toString(code, "HTTP " + e.statusCode())
                    + (message == null || message.isBlank() ? "" : " (" + oneLine(message) + ")"));
        } catch (SdkClientException e) {
            if (SdkInterruption.is(e)) {
                throw SdkInterruption.interrupted("reading the EC2 vCPU quota from Service Quotas", e);
            }
            if (AwsCredentialFailure.is(e)) {
                return new Reading(null, AwsCredentialFailure.LINE); // no provider text: it may quote a secret
            }
            String message = Objects.toString(e.getMessage(), e.getClass().getSimpleName());
            return new Reading(null, "Service Quotas not reachable (" + oneLine(message) + ")");
        }
    }

    private static String oneLine(String s) {
        String line = s.replaceAll("[\\r\\n]+", " ").strip();
        return line.length() > 160 ? line.substring(0, 160) + "…" : line;
    }
}
