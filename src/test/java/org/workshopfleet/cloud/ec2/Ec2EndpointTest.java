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
 * {@link Ec2Cloud#create} honours {@code AWS_ENDPOINT_URL_EC2} and {@code AWS_ENDPOINT_URL} with credentials from the
 * environment, as every AWS tool does: checked in a child JVM whose environment holds only those variables.
 */
class Ec2EndpointTest {

    @Test
    void serviceSpecificEndpointVariableIsHonoured() throws Exception {
        try (Ec2Fake fake = Ec2Fake.start()) {
            String out = probe(Map.of("AWS_ENDPOINT_URL_EC2", fake.endpoint().toString(),
                    "AWS_ENDPOINT_URL", "http://127.0.0.1:9"));
            assertEquals("machines=0", out.strip());
            assertEquals(1, fake.calls("DescribeInstances").size());
        }
    }

    @Test
    void genericEndpointVariableIsHonoured() throws Exception {
        try (Ec2Fake fake = Ec2Fake.start()) {
            String out = probe(Map.of("AWS_ENDPOINT_URL", fake.endpoint().toString()));
            assertEquals("machines=0", out.strip());
            assertEquals(1, fake.calls("DescribeInstances").size());
        }
    }

    private static String probe(Map<String, String> endpointEnv) throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                EndpointProbe.class.getName());
        Map<String, String> env = pb.environment();
        env.keySet().removeIf(k -> k.startsWith("AWS_"));
        env.put("AWS_ACCESS_KEY_ID", "AKIAFAKEFAKEFAKEFAKE");
        env.put("AWS_SECRET_ACCESS_KEY", "fake-secret-for-the-ec2-stand-in");
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
