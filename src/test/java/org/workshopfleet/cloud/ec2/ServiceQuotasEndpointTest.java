package org.workshopfleet.cloud.ec2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.workshopfleet.cloud.ec2.fake.Ec2Fake;
import org.workshopfleet.ProbeJvm;

/**
 * The Service Quotas client production builds honours {@code AWS_ENDPOINT_URL_SERVICE_QUOTAS} and
 * {@code AWS_ENDPOINT_URL}, as the EC2 client does ({@link Ec2EndpointTest}): checked in a child JVM whose environment
 * holds only those variables and static credentials.
 */
class ServiceQuotasEndpointTest {

    @Test
    void serviceSpecificEndpointVariableIsHonoured() throws Exception {
        try (Ec2Fake fake = Ec2Fake.start()) {
            fake.vcpuLimit(24);
            String out = probe(Map.of("AWS_ENDPOINT_URL_SERVICE_QUOTAS", fake.quotas().endpoint().toString(),
                    "AWS_ENDPOINT_URL", "http://127.0.0.1:9"));
            assertEquals("quota=24.0", out.strip());
            assertEquals(1, fake.quotas().calls().size());
        }
    }

    @Test
    void genericEndpointVariableIsHonoured() throws Exception {
        try (Ec2Fake fake = Ec2Fake.start()) {
            fake.vcpuLimit(16);
            String out = probe(Map.of("AWS_ENDPOINT_URL", fake.quotas().endpoint().toString()));
            assertEquals("quota=16.0", out.strip());
        }
    }

    @Test
    void anUnreachableEndpointIsUnreadableNotAnError() throws Exception {
        String out = probe(Map.of("AWS_ENDPOINT_URL_SERVICE_QUOTAS", "http://127.0.0.1:9"));
        assertTrue(out.strip().startsWith("unreadable=Service Quotas not reachable"), out);
    }

    private static String probe(Map<String, String> endpointEnv) throws IOException, InterruptedException {
        return ProbeJvm.run(QuotaEndpointProbe.class, ProbeJvm.standInAccount(endpointEnv),
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=off");
    }
}
