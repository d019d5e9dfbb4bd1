package org.workshopfleet.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.workshopfleet.command.CloudFactory;
import org.workshopfleet.cli.Main;
import org.workshopfleet.command.Providers;
import org.workshopfleet.command.Wiring;
import org.workshopfleet.cloud.Cloud;
import org.workshopfleet.cloud.ResourceRecorder;
import org.workshopfleet.cloud.ec2.fake.Ec2Fake;
import org.workshopfleet.cloud.lightsail.LightsailCloud;
import org.workshopfleet.cloud.lightsail.fake.LightsailFake;
import org.workshopfleet.provision.MachineLayout;
import org.workshopfleet.provision.ProvisionListener;
import org.workshopfleet.spec.Provider;
import org.workshopfleet.spec.WorkshopSpec;
import org.workshopfleet.ssh.LoopbackSshd;

/**
 * {@code plan} cannot drift from {@code up}: through the command ({@link Main#run}), {@code plan} then {@code up} of
 * three machines from an empty fleet on the EC2 and Lightsail stand-ins, and every operation the stand-in received is
 * one the plan listed, in the plan's order, with one launch call per machine in both.
 */
class PlannedCallsTest {

    @TempDir
    Path dir;
    final Ec2Fake ec2 = Ec2Fake.start();
    final LightsailFake lightsail = LightsailFake.start("ap-northeast-1");
    final List<AutoCloseable> clients = new ArrayList<>();
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    Path project;

    @BeforeEach
    void project() throws IOException {
        project = dir.resolve("project");
        Files.createDirectories(project.resolve("security-groups"));
        Files.copy(Path.of("security-groups/workshop.json"), project.resolve("security-groups/workshop.json"));
    }

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : clients) {
            c.close();
        }
        ec2.close();
        lightsail.close();
    }

    int run(String props) {
        out.reset();
        Map<String, String> p = new HashMap<>(Map.of("cidr", "203.0.113.7/32", "yes", "",
                "stateDir", dir.resolve("workshops").toString(), "projectRoot", project.toString()));
        for (String kv : props.split(";")) {
            int eq = kv.indexOf('=');
            p.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
        PrintStream ps = new PrintStream(out, true, StandardCharsets.UTF_8);
        return Main.run(p, Map.of("AWS_REGION", "ap-northeast-1"), ps, ps, wiring());
    }

    String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    Wiring wiring() {
        int closedPort;
        try {
            closedPort = LoopbackSshd.freePort();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        CloudFactory clouds = (spec, recorder) -> spec.provider() == Provider.LIGHTSAIL
                ? new LightsailCloud(lightsail.newClient(), LightsailCloud.config(spec), recorder, LightsailCampaign.QUICK)
                : ec2.cloudFactory(Path.of("ami.properties"), clients).create(spec, recorder);
        return new Wiring(clouds, s -> { }, () -> {
            throw new AssertionError("no address detection in tests");
        }, null, ProvisionListener.NONE, Clock.systemUTC(), LoopbackSshd.user(), closedPort,
                MachineLayout.STANDARD, Duration.ofSeconds(1), Duration.ofSeconds(10), root -> new TinyWorkshop());
    }

    /** The operations of {@code plan}'s cloud-calls.txt, in order. */
    List<String> planned(String workshop) throws IOException {
        Path file = dir.resolve("workshops").resolve(workshop).resolve("plan/cloud-calls.txt");
        List<String> ops = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            Matcher m = NUMBERED.matcher(line);
            if (m.matches()) {
                ops.add(m.group(1));
            }
        }
        return ops;
    }

    private static final Pattern NUMBERED = Pattern.compile("\\d+\\. ([A-Za-z-]+): .*");

    /**
     * Every operation the run made is planned, the distinct operations come in the planned order, and the launch call
     * is made, and planned, once per machine.
     */
    static void assertPlanCovers(List<String> planned, List<String> made, String launch, int machines) {
        assertTrue(planned.containsAll(made), "made " + made + " but planned " + planned);
        assertEquals(distinct(made), distinct(planned).stream().filter(made::contains).toList(),
                "order: made " + made + ", planned " + planned);
        assertEquals(machines, made.stream().filter(launch::equals).count(), launch + " made: " + made);
        assertEquals(machines, planned.stream().filter(launch::equals).count(), launch + " planned: " + planned);
    }

    private static List<String> distinct(List<String> ops) {
        return new ArrayList<>(new LinkedHashSet<>(ops));
    }

    @Test
    void ec2UpMakesOnlyTheCallsPlanListsAndOneRunInstancesPerMachine() throws IOException {
        assertEquals(0, run("count=3;action=plan"), out());
        List<String> planned = planned("ebpf-php");
        run("count=3"); // nothing answers SSH: the machines launch, then fail at "ssh"
        List<String> made = new ArrayList<>();
        ec2.quotas().calls().forEach(c -> made.add(c.operation()));
        ec2.calls().forEach(c -> made.add(c.operation()));
        assertTrue(made.contains("GetServiceQuota") && made.contains("AuthorizeSecurityGroupIngress"), made.toString());
        assertPlanCovers(planned, made, "RunInstances", 3);
    }

    @Test
    void ec2UpWithSparesMakesOnlyTheCallsPlanListsAndOneRunInstancesPerSeatAndSpare() throws IOException {
        assertEquals(0, run("count=2;spares=1;action=plan"), out());
        assertTrue(out().contains("plan: 2 machine(s) + 1 spare(s)"), out());
        List<String> planned = planned("ebpf-php");
        run("count=2;spares=1");
        List<String> made = new ArrayList<>();
        ec2.quotas().calls().forEach(c -> made.add(c.operation()));
        ec2.calls().forEach(c -> made.add(c.operation()));
        assertPlanCovers(planned, made, "RunInstances", 3);
        assertTrue(Files.isDirectory(dir.resolve("workshops/ebpf-php/plan/ebpf-php-03")), "the spare is planned");
    }

    @Test
    void lightsailUpMakesOnlyTheCallsPlanListsAndOneCreateInstancesPerMachine() throws IOException {
        assertEquals(0, run("count=3;action=plan;provider=lightsail"), out());
        List<String> planned = planned("ebpf-php");
        run("count=3;provider=lightsail");
        List<String> made = lightsail.requests().stream().map(LightsailFake.Request::operation).toList();
        assertTrue(made.contains("PutInstancePublicPorts"), made.toString());
        assertPlanCovers(planned, made, "CreateInstances", 3);
    }

    @Test
    void eachCloudAnswersWithTheProfilePlanUses() {
        for (Provider p : List.of(Provider.EC2, Provider.LIGHTSAIL)) {
            WorkshopSpec spec = WorkshopSpec.defaults(1, p);
            try (Cloud cloud = wiring().clouds().create(spec, ResourceRecorder.NONE)) {
                assertEquals(p, cloud.profile().provider(), p.id());
                assertEquals(Providers.profile(p).getClass(), cloud.profile().getClass(), p.id());
            }
        }
    }
}
