package org.workshopfleet.cloud.ec2;

import org.workshopfleet.spec.Cidr;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.workshopfleet.cloud.IngressRules;
import org.workshopfleet.cloud.LaunchContext;
import org.workshopfleet.cloud.Machine;
import org.workshopfleet.cloud.NodeRequest;
import org.workshopfleet.cloud.ResourceRecorder;
import org.workshopfleet.cloud.ec2.fake.Ec2Fake;
import org.workshopfleet.spec.Provider;
import org.workshopfleet.spec.Tags;
import org.workshopfleet.spec.WorkshopSpec;
import org.workshopfleet.ssh.SshKeyPair;
import org.workshopfleet.concurrent.Waiter;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.servicequotas.ServiceQuotasClient;

/** One fake EC2 plus the clients, spec and requests a test needs; closes every client it made. */
final class FleetFixture implements AutoCloseable {

    static final String CIDR = "203.0.113.7/32";
    static final Instant EXPIRES = Instant.parse("2026-11-26T06:00:00Z");

    final Ec2Fake fake = Ec2Fake.start();
    final WorkshopSpec spec;
    final LaunchContext context;
    private final List<AutoCloseable> clients = new ArrayList<>();

    FleetFixture() {
        this(WorkshopSpec.defaults(0, Provider.EC2));
    }

    FleetFixture(WorkshopSpec spec) {
        this.spec = spec;
        this.context = context(CIDR);
    }

    LaunchContext context(String cidr) {
        return new LaunchContext(SshKeyPair.generate("facilitator@test").publicKeyLine(), Cidr.parse(cidr),
                IngressRules.load(Path.of("security-groups/workshop.json")), EXPIRES);
    }

    /** A fresh client (the retry token bucket is per client). */
    Ec2Client client() {
        Ec2Client c = fake.client();
        clients.add(c);
        return c;
    }

    Ec2Cloud cloud(ResourceRecorder recorder) {
        return cloud(spec, recorder);
    }

    /** A fresh Service Quotas client on the fake's quota stand-in (which reports the fake's vCPU limit). */
    ServiceQuotasClient quotasClient() {
        ServiceQuotasClient c = fake.quotas().client();
        clients.add(c);
        return c;
    }

    /** A cloud with the vCPU pre-check wired to the fake's quota stand-in. */
    Ec2Cloud cloud(WorkshopSpec s, ResourceRecorder recorder) {
        return new Ec2Cloud(client(), Ec2Cloud.config(s), recorder, AmiCatalog.load(Path.of("ami.properties")), Waiter.fast(),
                new OnDemandVcpuQuota(quotasClient()));
    }

    /** Requests for attendees {@code from..to}, each with its own user data, as with per-machine host keys. */
    List<NodeRequest> requests(int from, int to) {
        List<NodeRequest> out = new ArrayList<>();
        for (int a = from; a <= to; a++) {
            String name = spec.machineName(a);
            Map<String, String> tags = new LinkedHashMap<>(spec.baseTags());
            tags.put(Tags.ATTENDEE, String.valueOf(a));
            tags.put(Tags.NAME, name);
            tags.put(Tags.EXPIRES_AT, EXPIRES.toString());
            String userData = "#cloud-config\nhostname: " + name + "\n";
            out.add(new NodeRequest(a, name, userData, tags));
        }
        return out;
    }

    /** checkCapacity + prepare + createNodes + awaitRunning, as {@code up} does. */
    List<Machine> up(Ec2Cloud cloud, List<NodeRequest> requests) {
        cloud.capacity().flatMap(c -> c.checkCapacity(requests.stream().mapToInt(NodeRequest::attendee).max().orElse(0)));
        cloud.prepare(context);
        List<Machine> created = cloud.createNodes(context, requests);
        return cloud.awaitRunning(created.stream().map(Machine::id).toList(), Duration.ofSeconds(20));
    }

    @Override
    public void close() {
        for (AutoCloseable c : clients) {
            try {
                c.close();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
        fake.close();
    }
}
