package org.workshopfleet.cloud.ec2;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.workshopfleet.cloud.ec2.fake.Ec2Fake;
import org.workshopfleet.ProbeJvm;

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
        return ProbeJvm.run(EndpointProbe.class, ProbeJvm.standInAccount(endpointEnv));
    }
}
