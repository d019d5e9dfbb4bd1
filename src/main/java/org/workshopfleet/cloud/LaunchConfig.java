package org.workshopfleet.cloud;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.workshopfleet.spec.WorkshopSpec;

/**
 * What a cloud is told about the workshop it serves, fixed for its life: the narrow part of the {@link WorkshopSpec}
 * a cloud needs, so no cloud reads options it has no business with.
 *
 * @param workshop    the workshop's name; resource names and the {@code Workshop} tag derive from it
 * @param region      where its resources live (the lab ignores it)
 * @param sizes       the machine sizes to launch, preferred first: EC2 instance types (later ones are fallbacks when
 *                    EC2 has no capacity), one Lightsail bundle; empty for the lab
 * @param baseTags    the tags every resource of the workshop carries
 * @param fleetSize   how many attendee machines the fleet has, for what the cloud prepares ahead (the lab's inotify room)
 * @param parallelism how many machines the cloud works on at once
 * @param stateDir    the workshop's state folder, named in messages about its login key files
 */
public record LaunchConfig(String workshop, String region, List<String> sizes, Map<String, String> baseTags,
                           int fleetSize, int parallelism, Path stateDir) {
    public LaunchConfig {
        sizes = List.copyOf(sizes);
        baseTags = Map.copyOf(baseTags);
    }

    /** The configuration of this workshop with these sizes (the provider knows which of the spec's sizes it uses). */
    public static LaunchConfig of(WorkshopSpec spec, List<String> sizes) {
        return new LaunchConfig(spec.name(), spec.region(), sizes, spec.baseTags(), spec.machines(), spec.parallelism(),
                spec.stateDir());
    }

    /** Machine name for attendee {@code n} (1-based): {@code <workshop>-01}, as {@link WorkshopSpec#machineName}. */
    public String machineName(int attendee) {
        return workshop + "-" + String.format(java.util.Locale.ROOT, "%02d", attendee);
    }
}
