package org.workshopfleet.cloud.ec2;

import software.amazon.awssdk.services.servicequotas.ServiceQuotasClient;

/**
 * Run in a child JVM by {@link ServiceQuotasEndpointTest}: reads the vCPU quota on the client production builds
 * ({@link OnDemandVcpuQuota#defaultClient}), so the test can see where the SDK sent the request given only environment
 * variables.
 */
public final class QuotaEndpointProbe {
    private QuotaEndpointProbe() {
    }

    public static void main(String[] args) {
        try (ServiceQuotasClient client = OnDemandVcpuQuota.defaultClient("ap-northeast-1")) {
            OnDemandVcpuQuota.Reading reading = new OnDemandVcpuQuota(client).read();
            System.out.println(reading.known() ? "quota=" + reading.vcpus() : "unreadable=" + reading.unreadable());
        }
    }
}
