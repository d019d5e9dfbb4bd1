package org.workshopfleet.cloud;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.IntFunction;
import org.workshopfleet.spec.Cidr;
import org.workshopfleet.spec.Tags;

/**
 * What every cloud suite builds the same way: a launch context, one request per attendee, and the {@code up}
 * sequence as the orchestrator calls it. Provider fixtures ({@code FleetFixture}, {@code LightsailScenario}) and
 * {@link CloudContract} use it, so the three clouds are driven alike.
 */
public final class CloudScenario {

    /** The ports every machine opens, as {@code up} loads them. */
    public static final Path INGRESS = Path.of("security-groups/workshop.json");

    private CloudScenario() {
    }

    /** A context for this login key and CIDR, opening the workshop's declared ports, launching from the stock image. */
    public static LaunchContext context(String loginPublicKey, String cidr, Instant expiresAt) {
        return new LaunchContext(loginPublicKey, Cidr.parse(cidr), IngressRules.load(INGRESS), expiresAt);
    }

    /**
     * Requests for attendees {@code from..to} of this workshop, each with its own user data and tags.
     *
     * @param userData the user data of attendee n
     * @param tags     the tags of attendee n
     */
    public static List<NodeRequest> requests(LaunchConfig config, int from, int to, IntFunction<String> userData,
                                             IntFunction<Map<String, String>> tags) {
        List<NodeRequest> out = new ArrayList<>();
        for (int n = from; n <= to; n++) {
            out.add(new NodeRequest(n, config.machineName(n), userData.apply(n), tags.apply(n)));
        }
        return out;
    }

    /** The tags the orchestrator gives attendee n's request: the workshop's, the attendee, the name and the expiry. */
    public static Map<String, String> fleetTags(LaunchConfig config, int attendee, Instant expiresAt) {
        Map<String, String> t = new LinkedHashMap<>(config.baseTags());
        t.put(Tags.ATTENDEE, String.format(Locale.ROOT, "%02d", attendee));
        t.put(Tags.NAME, config.machineName(attendee));
        t.put(Tags.EXPIRES_AT, expiresAt.toString());
        return t;
    }

    /**
     * The capacity check (where the cloud has one), prepare, createNodes and awaitRunning, in the order {@code up}
     * calls them; returns the machines as awaitRunning left them.
     */
    public static List<Machine> up(Cloud cloud, LaunchContext context, List<NodeRequest> requests, Duration timeout) {
        int fleetSize = requests.stream().mapToInt(NodeRequest::attendee).max().orElse(0);
        cloud.capacity().ifPresent(c -> c.checkCapacity(fleetSize));
        cloud.prepare(context);
        List<Machine> created = cloud.createNodes(context, requests);
        return cloud.awaitRunning(created.stream().map(Machine::id).toList(), timeout);
    }
}
