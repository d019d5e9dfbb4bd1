package org.workshopfleet.faults;

import org.workshopfleet.spec.Cidr;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import org.workshopfleet.command.CloudFactory;
import org.workshopfleet.Fleet;
import org.workshopfleet.command.Wiring;
import org.workshopfleet.cloud.ec2.AmiCatalog;
import org.workshopfleet.cloud.ec2.Ec2Cloud;
import org.workshopfleet.concurrent.Waiter;
import org.workshopfleet.cloud.ec2.fake.Ec2Fake;
import org.workshopfleet.provision.MachineLayout;
import org.workshopfleet.provision.ProvisionListener;
import org.workshopfleet.spec.Provider;
import org.workshopfleet.spec.WorkshopSpec;
import org.workshopfleet.ssh.LoopbackSshd;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.ec2.Ec2Client;

/**
 * Test-scope command the SIGKILL campaign runs as a child JVM and kills at a random moment: {@code Fleet.up} of a
 * tiny workshop against an {@link Ec2Fake} living in the parent process (so the cloud's state outlives the kill, as
 * AWS's does), with the parent's loopback SSH machines behind it.
 * Arguments: EC2 endpoint, state root, project root, SSH port, machine count, and optionally {@code teardown} to run
 * {@code Fleet.teardown} instead (the SIGKILL campaign kills teardowns too). The system property
 * {@value #SSH_TIMEOUT_PROPERTY} (an ISO-8601 duration, 15 s by default) is how long a machine waits for SSH.
 */
public final class KillableUp {

    /** System property: how long a machine waits for SSH, e.g. {@code PT2M}. */
    static final String SSH_TIMEOUT_PROPERTY = "killableUp.sshTimeout";

    private KillableUp() {
    }

    public static void main(String[] args) {
        URI endpoint = URI.create(args[0]);
        Path stateRoot = Path.of(args[1]);
        Path project = Path.of(args[2]);
        int port = Integer.parseInt(args[3]);
        int count = Integer.parseInt(args[4]);
        Duration sshTimeout = Duration.parse(System.getProperty(SSH_TIMEOUT_PROPERTY, "PT15S"));
        WorkshopSpec spec = WorkshopSpec.defaults(count, Provider.EC2).withStateRoot(stateRoot).withCidr(Cidr.parse("203.0.113.7/32"));
        CloudFactory clouds = (s, recorder) -> new Ec2Cloud(client(endpoint), Ec2Cloud.config(s), recorder,
                AmiCatalog.load(Path.of("ami.properties")), Waiter.fast());
        Wiring wiring = new Wiring(clouds, s -> { }, () -> {
            throw new AssertionError("no address detection in tests");
        }, null, ProvisionListener.NONE, Clock.systemUTC(), LoopbackSshd.user(), port, MachineLayout.STANDARD,
                sshTimeout, Duration.ofSeconds(30), root -> new TinyWorkshop());
        Fleet fleet = new Fleet(spec, project, wiring, new PrintStream(System.out, true, StandardCharsets.UTF_8));
        int code = args.length > 5 && args[5].equals("teardown") ? fleet.teardown(true) : fleet.up(true);
        System.exit(code);
    }

    /** The same client {@link Ec2Fake#client()} makes, built from the endpoint alone. */
    static Ec2Client client(URI endpoint) {
        return Ec2Client.builder()
                .endpointOverride(endpoint)
                .region(Region.of(Ec2Fake.REGION))
                .credentialsProvider(StaticCredentialsProvider.create(
                        AwsBasicCredentials.create("AKIAFAKEFAKEFAKEFAKE", "fake-secret-for-the-ec2-stand-in")))
                .httpClientBuilder(ApacheHttpClient.builder())
                .overrideConfiguration(o -> o.retryStrategy(Ec2Fake.testRetryStrategy()))
                .build();
    }
}
