package org.workshopfleet.command;

import org.workshopfleet.cloud.Cloud;
import org.workshopfleet.cloud.ResourceRecorder;
import org.workshopfleet.spec.WorkshopSpec;

/** Makes the {@link Cloud} for a workshop's provider; {@code Main} wires the real ones, tests their stand-ins. */
@FunctionalInterface
public interface CloudFactory {
    Cloud create(WorkshopSpec spec, ResourceRecorder recorder);
}
