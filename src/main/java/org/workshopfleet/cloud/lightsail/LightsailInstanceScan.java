package org.workshopfleet.cloud.lightsail;

import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.workshopfleet.cloud.Machine;
import org.workshopfleet.cloud.MachineState;
import org.workshopfleet.spec.Tags;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.lightsail.model.GetInstancesResponse;
import software.amazon.awssdk.services.lightsail.model.Instance;

/**
 * Every instance in the region, read as the rest of the cloud sees it. Lightsail's SDK has no waiters or paginators:
 * one scan pages GetInstances over the whole region, so it costs {@code ceil(instances / page size)} calls however
 * many machines the caller cares about.
 */
final class LightsailInstanceScan {

    private final LightsailSession session;

    LightsailInstanceScan(LightsailSession session) {
        this.session = session;
    }

    /** Every instance in the region by name: all GetInstances pages. */
    Map<String, Instance> all() {
        Map<String, Instance> out = new TreeMap<>();
        String token = null;
        do {
            String page = token;
            GetInstancesResponse r;
            try {
                r = session.client().getInstances(b -> b.pageToken(page));
            } catch (SdkException e) {
                throw ApiFailure.of("listing instances", session.region(), e);
            }
            r.instances().forEach(i -> out.put(i.name(), i));
            token = r.nextPageToken();
        } while (token != null && !token.isEmpty());
        return out;
    }

    /** The instance as a {@link Machine}: its attendee from the {@code Attendee} tag, else from its name's number. */
    static Machine machine(Instance i) {
        int attendee;
        try {
            attendee = Integer.parseInt(String.valueOf(LightsailTags.value(i.tags(), Tags.ATTENDEE)));
        } catch (NumberFormatException e) {
            attendee = attendeeFromName(i.name());
        }
        String ip = i.publicIpAddress() == null || i.publicIpAddress().isBlank() ? null : i.publicIpAddress();
        return new Machine(i.name(), i.name(), attendee, state(i), ip, i.bundleId(), i.createdAt());
    }

    static MachineState state(Instance i) {
        String name = i.state() == null ? "" : String.valueOf(i.state().name());
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "pending", "starting" -> MachineState.PENDING;
            case "running" -> MachineState.RUNNING;
            case "stopping" -> MachineState.STOPPING;
            case "stopped" -> MachineState.STOPPED;
            case "shutting-down" -> MachineState.SHUTTING_DOWN;
            case "terminated" -> MachineState.TERMINATED;
            default -> MachineState.UNKNOWN;
        };
    }

    /** The attendee number a name {@code <workshop>-NN} ends with, or 0. */
    static int attendeeFromName(String name) {
        int dash = name.lastIndexOf('-');
        String tail = dash < 0 ? "" : name.substring(dash + 1);
        return tail.matches("\\d{1,4}") ? Integer.parseInt(tail) : 0;
    }
}
