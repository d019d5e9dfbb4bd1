package org.workshopfleet.cloud.ec2;

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
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.workshopfleet.cli.Main;
import org.workshopfleet.cloud.CloudScenario;
import org.workshopfleet.cloud.LaunchConfig;
import org.workshopfleet.cloud.LaunchContext;
import org.workshopfleet.cloud.Machine;
import org.workshopfleet.cloud.RecordedResources;
import org.workshopfleet.command.Wiring;
import org.workshopfleet.provision.MachineLayout;
import org.workshopfleet.provision.ProvisionListener;
import org.workshopfleet.spec.Provider;
import org.workshopfleet.spec.WorkshopSpec;
import org.workshopfleet.ssh.SshKeyPair;
import org.workshopfleet.state.Ledger;
import org.workshopfleet.state.StateFolder;

/**
 * {@code status} of a 200-machine EC2 fleet (on the stand-in, throttling on, no SSH): the cloud is asked in a number of
 * calls that does not grow with the fleet (one paged {@code DescribeInstances}), and the totals line names them all.
 */
class Ec2StatusAtScaleTest {

    static final int MACHINES = 200;

    @TempDir
    Path dir;

    @Test
    void statusOf200MachinesAsksTheCloudOnceAndSumsThemUp() throws IOException {
        try (FleetFixture fx = new FleetFixture(WorkshopSpec.defaults(MACHINES, Provider.EC2))) {
            Path stateRoot = dir.resolve("workshops");
            Ledger ledger = Ledger.open(new StateFolder(stateRoot.resolve(fx.spec.name())), fx.spec.name(), "ec2",
                    fx.spec.region(), Clock.systemUTC());
            // The fleet is made without EC2's launch pacing (its 105 s are not what this test is about), then the
            // stand-in throttles again, with full buckets, for status.
            fx.fake.throttling(false);
            LaunchConfig config = Ec2Cloud.config(fx.spec);
            LaunchContext context = CloudScenario.context(SshKeyPair.generate("facilitator@test").publicKeyLine(),
                    FleetFixture.CIDR, FleetFixture.EXPIRES);
            Ec2Cloud maker = new Ec2Cloud(fx.client(), config, new RecordedResources(),
                    AmiCatalog.load(Path.of("ami.properties")), org.workshopfleet.concurrent.Waiter.fast(), null,
                    RequestBucket.unlimited());
            maker.prepare(context);
            for (Machine m : maker.createNodes(context, fx.requests(1, MACHINES))) {
                ledger.updateMachineSoon(m.attendee(), m.name(), r -> r.launched(m.id(), m.instanceType(), m.launchedAt()));
            }
            ledger.updateMachine(1, config.machineName(1), r -> r); // waits for the disk, and so for every change before
            fx.fake.throttling(true);
            int before = fx.fake.calls().size();

            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            Files.createDirectories(dir.resolve("project"));
            int code = Main.run(Map.of("action", "status", "count", String.valueOf(MACHINES),
                            "stateDir", stateRoot.toString(), "projectRoot", dir.resolve("project").toString()),
                    Map.of("AWS_REGION", fx.spec.region()), new PrintStream(out, true, StandardCharsets.UTF_8),
                    new PrintStream(err, true, StandardCharsets.UTF_8), wiring(fx));

            String printed = out.toString(StandardCharsets.UTF_8);
            assertEquals(0, code, err.toString(StandardCharsets.UTF_8));
            List<String> asked = new ArrayList<>();
            fx.fake.calls().subList(before, fx.fake.calls().size()).forEach(c -> asked.add(c.operation()));
            assertEquals(List.of("DescribeInstances"), asked, "one paged DescribeInstances for the whole fleet");
            assertTrue(printed.contains("Total: " + MACHINES + " machines"), printed);
            assertTrue(printed.contains(MACHINES + " in the cloud"), printed);
            assertTrue(printed.contains(config.machineName(MACHINES)), "every machine has its row");
        }
    }

    private static Wiring wiring(FleetFixture fx) {
        List<AutoCloseable> clients = new ArrayList<>();
        return new Wiring(fx.fake.cloudFactory(Path.of("ami.properties"), clients), s -> { }, () -> {
            throw new AssertionError("status detects no address");
        }, null, ProvisionListener.NONE, Clock.systemUTC(), "nobody", 1, MachineLayout.STANDARD,
                Duration.ofSeconds(1), Duration.ofSeconds(10), root -> {
                    throw new AssertionError("status renders nothing");
                });
    }
}
