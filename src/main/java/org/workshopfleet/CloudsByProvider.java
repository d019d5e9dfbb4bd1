package org.workshopfleet;

import java.nio.file.Path;
import org.workshopfleet.cloud.Cloud;
import org.workshopfleet.cloud.ResourceRecorder;
import org.workshopfleet.cloud.ec2.Ec2Cloud;
import org.workshopfleet.cloud.lab.LabCloud;
import org.workshopfleet.cloud.lightsail.LightsailCloud;
import org.workshopfleet.spec.WorkshopSpec;

/** The real clouds, chosen by {@code -Dprovider}: EC2 (with {@code ami.properties}), Lightsail, or the local lab. */
public record CloudsByProvider(Path projectRoot) implements CloudFactory {

    @Override
    public Cloud create(WorkshopSpec spec, ResourceRecorder recorder) {
        return switch (spec.provider()) {
            case EC2 -> Ec2Cloud.create(spec, recorder, projectRoot.resolve("ami.properties"));
            case LIGHTSAIL -> LightsailCloud.connect(spec, recorder);
            case LAB -> new LabCloud(LabCloud.config(spec), recorder);
        };
    }
}
