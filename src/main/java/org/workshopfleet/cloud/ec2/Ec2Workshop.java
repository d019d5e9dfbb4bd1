package org.workshopfleet.cloud.ec2;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.workshopfleet.cloud.CloudResource;
import org.workshopfleet.cloud.LaunchConfig;
import org.workshopfleet.cloud.Machine;
import org.workshopfleet.cloud.MachineState;
import org.workshopfleet.cloud.ResourceKind;
import org.workshopfleet.spec.Tags;
import software.amazon.awssdk.services.ec2.model.Filter;
import software.amazon.awssdk.services.ec2.model.Instance;
import software.amazon.awssdk.services.ec2.model.InstanceStateName;
import software.amazon.awssdk.services.ec2.model.Tag;

/**
 * One workshop as EC2 sees it: the name of its key pair and security group, the tags that mark its resources and the
 * filters that find them again, and its instances read as {@link Machine}s.
 */
record Ec2Workshop(LaunchConfig config) {

    /** The key pair's and the security group's name: {@code workshop-fleet-<workshop>}. */
    String resourceName() {
        return resourceName(config.workshop());
    }

    /** The same name for any workshop (what {@link Ec2Profile} plans with). */
    static String resourceName(String workshop) {
        return Tags.MANAGED_BY_VALUE + "-" + workshop;
    }

    String region() {
        return config.region();
    }

    /** {@link Ec2Calls#call} in this workshop's region. */
    <T> T call(String what, Supplier<T> body) {
        return Ec2Calls.call(config.region(), what, body);
    }

    /** Tagged with this workshop and {@code ManagedBy=workshop-fleet}: ours to adopt and delete. */
    boolean isOurs(List<Tag> tags) {
        Map<String, String> map = new HashMap<>();
        tags.forEach(t -> map.put(t.key(), t.value()));
        return config.workshop().equals(map.get(Tags.WORKSHOP)) && Tags.MANAGED_BY_VALUE.equals(map.get(Tags.MANAGED_BY));
    }

    /** The tags of the shared resources (key pair, security group). */
    Map<String, String> sharedTags() {
        Map<String, String> tags = new TreeMap<>(config.baseTags());
        tags.put(Tags.NAME, resourceName());
        return tags;
    }

    /** The filters that find this workshop's resources by tag, then {@code more}. */
    List<Filter> tagFilters(Filter... more) {
        List<Filter> filters = new ArrayList<>();
        filters.add(Ec2Calls.filter("tag:" + Tags.WORKSHOP, config.workshop()));
        filters.add(Ec2Calls.filter("tag:" + Tags.MANAGED_BY, Tags.MANAGED_BY_VALUE));
        filters.addAll(List.of(more));
        return filters;
    }

    /** The machine an instance is: its attendee from the {@code Attendee} tag (0 when absent or not a number). */
    Machine machine(Instance i) {
        Map<String, String> tags = new HashMap<>();
        i.tags().forEach(t -> tags.put(t.key(), t.value()));
        int attendee = attendee(tags.get(Tags.ATTENDEE));
        String name = attendee > 0 ? config.machineName(attendee) : tags.getOrDefault(Tags.NAME, i.instanceId());
        return new Machine(i.instanceId(), name, attendee, state(i.state() == null ? null : i.state().name()),
                i.publicIpAddress(), i.instanceTypeAsString(), i.launchTime());
    }

    static CloudResource resource(Machine m) {
        return new CloudResource(ResourceKind.INSTANCE, m.id(), m.name(), m.attendee());
    }

    private static int attendee(String tag) {
        if (tag == null || !tag.strip().matches("[0-9]{1,6}")) {
            return 0;
        }
        return Integer.parseInt(tag.strip());
    }

    private static MachineState state(InstanceStateName name) {
        if (name == null) {
            return MachineState.UNKNOWN;
        }
        return switch (name) {
            case PENDING -> MachineState.PENDING;
            case RUNNING -> MachineState.RUNNING;
            case STOPPING -> MachineState.STOPPING;
            case STOPPED -> MachineState.STOPPED;
            case SHUTTING_DOWN -> MachineState.SHUTTING_DOWN;
            case TERMINATED -> MachineState.TERMINATED;
            default -> MachineState.UNKNOWN;
        };
    }
}
