package org.workshopfleet.cloud.ec2;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.workshopfleet.cloud.CloudScenario;
import org.workshopfleet.cloud.LaunchConfig;
import org.workshopfleet.cloud.LaunchContext;
import org.workshopfleet.cloud.Machine;
import org.workshopfleet.cloud.NodeRequest;
import org.workshopfleet.cloud.ResourceRecorder;
import org.workshopfleet.cloud.ec2.fake.Ec2Fake;
import org.workshopfleet.spec.Provider;
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
        return CloudScenario.context(SshKeyPair.generate("facilitator@test").publicKeyLine(), cidr, EXPIRES);
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
        return cloud(Ec2Cloud.config(s), recorder);
    }

    /** A cloud of this configuration, with the vCPU pre-check wired to the fake's quota stand-in. */
    Ec2Cloud cloud(LaunchConfig config, ResourceRecorder recorder) {
        return new Ec2Cloud(client(), config, recorder, AmiCatalog.load(Path.of("ami.properties")), Waiter.fast(),
                new OnDemandVcpuQuota(quotasClient()));
    }

    /** Requests for attendees {@code from..to}, each with its own user data, as with per-machine host keys. */
    List<NodeRequest> requests(int from, int to) {
        LaunchConfig config = Ec2Cloud.config(spec);
        return CloudScenario.requests(config, from, to, a -> "#cloud-config\nhostname: " + config.machineName(a) + "\n",
                a -> CloudScenario.fleetTags(config, a, EXPIRES));
    }

    /** checkCapacity + prepare + createNodes + awaitRunning, as {@code up} does. */
    List<Machine> up(Ec2Cloud cloud, List<NodeRequest> requests) {
        return CloudScenario.up(cloud, context, requests, Duration.ofSeconds(20));
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
