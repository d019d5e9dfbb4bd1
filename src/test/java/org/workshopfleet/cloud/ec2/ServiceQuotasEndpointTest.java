package org.workshopfleet.cloud.ec2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.workshopfleet.cloud.ec2.fake.Ec2Fake;

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
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=off", QuotaEndpointProbe.class.getName());
        Map<String, String> env = pb.environment();
        env.keySet().removeIf(k -> k.startsWith("AWS_"));
        env.put("AWS_ACCESS_KEY_ID", "AKIAFAKEFAKEFAKEFAKE");
        env.put("AWS_SECRET_ACCESS_KEY", "fake-secret-for-the-quotas-stand-in");
        env.put("AWS_REGION", "ap-northeast-1");
        env.put("AWS_EC2_METADATA_DISABLED", "true");
        env.put("AWS_CONFIG_FILE", "/nonexistent/aws-config");
        env.put("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials");
        env.putAll(endpointEnv);
        pb.redirectErrorStream(true);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        return out;
    }
}
