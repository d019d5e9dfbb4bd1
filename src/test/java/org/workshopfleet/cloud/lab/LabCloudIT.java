package org.workshopfleet.cloud.lab;

import org.workshopfleet.spec.Cidr;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.workshopfleet.cloud.CloudResource;
import org.workshopfleet.cloud.LaunchContext;
import org.workshopfleet.cloud.Machine;
import org.workshopfleet.cloud.MachineState;
import org.workshopfleet.cloud.NodeRequest;
import org.workshopfleet.cloud.ResourceKind;
import org.workshopfleet.cloud.ResourceRecorder;
import org.workshopfleet.spec.Provider;
import org.workshopfleet.spec.SourceLocations;
import org.workshopfleet.spec.WorkshopSpec;
import org.workshopfleet.ssh.SshKeyPair;

/**
 * The lab through the {@code Cloud} interface: create (booting in the background), each machine reported as it runs,
 * adopt on re-run, list, teardown, all recorded.
 */
class LabCloudIT {

    private static final LabPaths PATHS = LabPaths.standard();

    @BeforeAll
    static void prerequisites() {
        LabPrerequisites.require();
    }

    @Test
    void createsAdoptsListsAndTearsDownAWorkshop() {
        String name = "itc-" + HexFormat.of().toHexDigits((short) ThreadLocalRandom.current().nextInt());
        WorkshopSpec spec = new WorkshopSpec(name, 2, Provider.LAB, null, null, null, null, false, null, 8,
                Path.of("workshops"), SourceLocations.defaults());
        List<String> events = new ArrayList<>();
        ResourceRecorder recorder = new ResourceRecorder() {
            @Override
            public synchronized void created(CloudResource r) {
                events.add("created " + r.kind() + " " + r.id() + " #" + r.attendee());
            }

            @Override
            public synchronized void deleted(ResourceKind kind, String id) {
                events.add("deleted " + kind + " " + id);
            }
        };
        SshKeyPair login = SshKeyPair.generate("login");
        LaunchContext ctx = new LaunchContext(login.publicKeyLine(), Cidr.parse("192.0.2.7/32"), List.of(),
                Instant.now().plusSeconds(3600));
        List<NodeRequest> requests = List.of(1, 2).stream().map(i -> new NodeRequest(i, spec.machineName(i),
                LabUserData.cloudConfig(SshKeyPair.generate("h" + i), login, ""), Map.of())).toList();
        HostState before = HostState.capture(PATHS);
        LabCloud cloud = new LabCloud(LabCloud.config(spec), recorder);
        try {
            cloud.prepare(ctx);
            List<Machine> created = cloud.createNodes(ctx, requests);
            assertEquals(2, created.size());
            for (int i = 0; i < 2; i++) {
                Machine m = created.get(i);
                assertEquals(spec.machineName(i + 1), m.id());
                assertEquals(i + 1, m.attendee());
                assertEquals(MachineState.PENDING, m.state(), "createNodes returns while the machines boot: " + m);
            }
            // Each machine is reported as soon as it runs, on the waiting thread, once.
            List<Machine> reported = new ArrayList<>();
            List<Machine> booted = cloud.awaitRunning(created.stream().map(Machine::id).toList(), Duration.ofMinutes(4),
                    reported::add);
            assertEquals(2, reported.size(), reported.toString());
            for (int i = 0; i < 2; i++) {
                Machine m = booted.get(i);
                assertEquals(spec.machineName(i + 1), m.id());
                assertTrue(m.isRunningWithAddress(), m.toString());
                assertTrue(m.publicIp().startsWith("10.231."), m.publicIp());
                assertTrue(reported.contains(m), reported.toString());
            }
            created = booted;
            assertEquals(List.of("created LAB_MACHINE " + name + "-01 #1", "created LAB_MACHINE " + name + "-02 #2"),
                    events.stream().sorted().toList());
            // A second createNodes adopts the running machines: same addresses, nothing new recorded.
            List<Machine> again = cloud.createNodes(ctx, requests);
            assertEquals(created.stream().map(Machine::publicIp).toList(), again.stream().map(Machine::publicIp).toList());
            assertEquals(2, events.size());
            List<Machine> running = cloud.awaitRunning(List.of(name + "-01", name + "-02", name + "-03"),
                    Duration.ofSeconds(5));
            assertEquals(List.of(MachineState.RUNNING, MachineState.RUNNING, MachineState.TERMINATED),
                    running.stream().map(Machine::state).toList());
            assertEquals(2, cloud.listNodes().size());
        } finally {
            cloud.teardown(List.of(new CloudResource(ResourceKind.LAB_MACHINE, name + "-01", name + "-01", 1)));
        }
        assertTrue(cloud.listNodes().isEmpty());
        assertTrue(events.contains("deleted LAB_MACHINE " + name + "-01"), events.toString());
        assertTrue(events.contains("deleted LAB_MACHINE " + name + "-02"), events.toString());
        HostState.assertRestored(before, HostState.capture(PATHS), "wf-" + name + "-01", "wf-" + name + "-02");
    }
}
