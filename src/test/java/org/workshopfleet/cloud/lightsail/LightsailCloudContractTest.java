package org.workshopfleet.cloud.lightsail;

import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.workshopfleet.cloud.Cloud;
import org.workshopfleet.cloud.CloudContract;
import org.workshopfleet.cloud.LaunchConfig;
import org.workshopfleet.cloud.ResourceKind;
import org.workshopfleet.cloud.ResourceRecorder;
import org.workshopfleet.cloud.lightsail.fake.LightsailFake;
import org.workshopfleet.spec.Tags;

/**
 * The {@link CloudContract} for {@link LightsailCloud} on the real SDK client against {@link LightsailFake}; what only
 * Lightsail does (per-instance firewalls, NameExists adoption, paging, bundles) is in {@link LightsailCloudTest}.
 */
class LightsailCloudContractTest extends CloudContract {

    private LightsailFake fake;

    @BeforeEach
    void start() {
        fake = LightsailFake.start("ap-northeast-1").pageSize(4).pendingPolls(2);
    }

    @AfterEach
    void stop() {
        fake.close();
    }

    @Override
    protected String workshopName() {
        return LightsailScenario.WORKSHOP;
    }

    @Override
    protected LaunchConfig config(String workshop, int fleetSize) {
        return LightsailCloud.config(LightsailScenario.spec(fleetSize));
    }

    @Override
    protected Cloud cloud(LaunchConfig config, ResourceRecorder recorder) {
        return new LightsailCloud(fake.newClient(), config, recorder, LightsailScenario.QUICK);
    }

    @Override
    protected String userData(LaunchConfig config, int attendee) {
        return LightsailScenario.launchScript(attendee);
    }

    @Override
    protected Duration bootTimeout() {
        return Duration.ofSeconds(20);
    }

    @Override
    protected ResourceKind machineKind() {
        return ResourceKind.INSTANCE;
    }

    @Override
    protected Set<Capability> capabilities() {
        return EnumSet.of(Capability.IMAGES, Capability.INGRESS, Capability.TAGGING);
    }

    @Override
    protected boolean imageRoundTripIsCheap() {
        return true;
    }

    @Override
    protected Set<String> liveMachines(String workshop) {
        return ours(workshop).map(LightsailFake.InstanceView::name).collect(Collectors.toSet());
    }

    private Stream<LightsailFake.InstanceView> ours(String workshop) {
        return fake.instances().stream().filter(i -> workshop.equals(i.tags().get(Tags.WORKSHOP)));
    }

    @Override
    protected Set<String> sharedResources(String workshop) {
        return fake.keyPairNames().stream().filter(n -> n.startsWith(workshop)).map(n -> "key " + n)
                .collect(Collectors.toCollection(TreeSet::new));
    }

    /** Each instance's own firewall: every IPv4 and IPv6 range and every alias, per port. */
    @Override
    protected Set<String> admitted(String workshop) {
        Set<String> out = new TreeSet<>();
        ours(workshop).forEach(i -> i.ports().forEach(p -> {
            String ports = p.fromPort() == p.toPort() ? String.valueOf(p.fromPort()) : p.fromPort() + "-" + p.toPort();
            Stream.of(p.cidrs(), p.ipv6Cidrs(), p.cidrListAliases()).flatMap(List::stream)
                    .forEach(source -> out.add(i.name() + " " + p.protocol() + " " + ports + " " + source));
        }));
        return out;
    }

    @Override
    protected Map<String, String> tagsOf(String machineId) {
        return fake.instance(machineId).orElseThrow().tags();
    }
}
