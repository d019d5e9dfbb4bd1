package org.workshopfleet.faults;

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
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.workshopfleet.CloudFactory;
import org.workshopfleet.Main;
import org.workshopfleet.Wiring;
import org.workshopfleet.cloud.ec2.fake.Ec2Fake;
import org.workshopfleet.cloud.ec2.fake.RecordedCall;
import org.workshopfleet.cloud.lightsail.LightsailCloud;
import org.workshopfleet.cloud.lightsail.fake.LightsailFake;
import org.workshopfleet.provision.MachineLayout;
import org.workshopfleet.provision.ProvisionListener;
import org.workshopfleet.spec.Provider;
import org.workshopfleet.ssh.LoopbackSshd;

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

    Wiring wiring() {
        int closedPort;
        try {
            closedPort = LoopbackSshd.freePort();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        CloudFactory clouds = (spec, recorder) -> spec.provider() == Provider.LIGHTSAIL
                ? new LightsailCloud(lightsail.newClient(), spec, recorder, LightsailCampaign.QUICK)
                : ec2.cloudFactory(Path.of("ami.properties"), clients).create(spec, recorder);
        return new Wiring(clouds, s -> { }, () -> {
            throw new AssertionError("no address detection in tests");
        }, null, ProvisionListener.NONE, Clock.systemUTC(), LoopbackSshd.user(), closedPort,
                MachineLayout.STANDARD, Duration.ofSeconds(1), Duration.ofSeconds(10), root -> new TinyWorkshop());
    }

    @Test
    void probe() {
        run("count=3");
        System.out.println("EC2: " + ec2.calls().stream().map(RecordedCall::operation).toList());
        System.out.println("SQ: " + ec2.quotas().calls());
        run("count=3;provider=lightsail;name=ls");
        System.out.println("LS: " + lightsail.requests().stream().map(LightsailFake.Request::operation).toList());
        System.out.println(out.toString(StandardCharsets.UTF_8));
    }
}
