package org.workshopfleet.command;

import java.nio.file.Path;
import org.workshopfleet.cloud.Cloud;
import org.workshopfleet.cloud.ResourceRecorder;
import org.workshopfleet.spec.WorkshopSpec;

/** The real clouds, chosen by {@code -Dprovider}: EC2 (with {@code ami.properties}), Lightsail, or the local lab. */
public record CloudsByProvider(Path projectRoot) implements CloudFactory {

    @Override
    public Cloud create(WorkshopSpec spec, ResourceRecorder recorder) {
        return Providers.profile(spec.provider()).connect(spec, recorder, projectRoot);
    }
}
