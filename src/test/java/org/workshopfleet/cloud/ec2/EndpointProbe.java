package org.workshopfleet.cloud.ec2;

import java.nio.file.Path;
import org.workshopfleet.cloud.ResourceRecorder;
import org.workshopfleet.spec.Provider;
import org.workshopfleet.spec.WorkshopSpec;

/**
 * Run in a child JVM by {@link Ec2EndpointTest}: builds the cloud exactly as production does ({@link Ec2Cloud#create})
 * and lists the fleet, so the test can see where the SDK sent the request given only environment variables.
 */
public final class EndpointProbe {
    private EndpointProbe() {
    }

    public static void main(String[] args) {
        try (Ec2Cloud cloud = Ec2Cloud.create(WorkshopSpec.defaults(1, Provider.EC2), ResourceRecorder.NONE,
                Path.of("ami.properties"))) {
            System.out.println("machines=" + cloud.listNodes().size());
        }
    }
}
