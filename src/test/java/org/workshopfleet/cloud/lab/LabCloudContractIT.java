package org.workshopfleet.cloud.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.workshopfleet.cloud.Cloud;
import org.workshopfleet.cloud.CloudContract;
import org.workshopfleet.cloud.LaunchConfig;
import org.workshopfleet.cloud.Machine;
import org.workshopfleet.cloud.MachineState;
import org.workshopfleet.cloud.RecordedResources;
import org.workshopfleet.cloud.ResourceKind;
import org.workshopfleet.cloud.ResourceRecorder;
import org.workshopfleet.spec.Provider;
import org.workshopfleet.spec.SourceLocations;
import org.workshopfleet.spec.WorkshopSpec;
import org.workshopfleet.ssh.SshKeyPair;

/**
 * The {@link CloudContract} for the lab: real Debian 12 machines on this host, seen from outside through their nspawn
 * processes and the host objects named for them. Each test has a workshop of its own, so the host may be shared with
 * other lab runs; what only the lab does (addresses on its bridge, the host put back as it was) is tested here too.
 */
class LabCloudContractIT extends CloudContract {

    private static final LabPaths PATHS = LabPaths.standard();
    private static final SshKeyPair LOGIN = SshKeyPair.generate("login");
    private HostState before;

    @BeforeAll
    static void prerequisites() {
        LabPrerequisites.require();
    }

    @BeforeEach
    void captureHost() {
        before = HostState.capture(PATHS);
    }

    /** Whatever a test left (a failure halfway) goes, so the next test and the host start clean. */
    @AfterEach
    void sweep() {
        try (Cloud cloud = cloud(config, ResourceRecorder.NONE)) {
            cloud.teardown(List.of());
        }
    }

    @Override
    protected String workshopName() {
        return "itc-" + HexFormat.of().toHexDigits((short) ThreadLocalRandom.current().nextInt());
    }

    @Override
    protected int fleetSize() {
        return 2;
    }

    @Override
    protected LaunchConfig config(String workshop, int fleetSize) {
        return LabCloud.config(new WorkshopSpec(workshop, fleetSize, Provider.LAB, null, null, null, null, false, null, 8,
                Path.of("workshops"), SourceLocations.defaults()));
    }

    @Override
    protected Cloud cloud(LaunchConfig config, ResourceRecorder recorder) {
        return new LabCloud(config, recorder);
    }

    @Override
    protected String userData(LaunchConfig config, int attendee) {
        return LabUserData.cloudConfig(SshKeyPair.generate("h" + attendee), LOGIN, "");
    }

    @Override
    protected Duration bootTimeout() {
        return Duration.ofMinutes(4);
    }

    @Override
    protected ResourceKind machineKind() {
        return ResourceKind.LAB_MACHINE;
    }

    /** Lab machines are reachable from the host only and carry no tags; the host has no limit to read. */
    @Override
    protected Set<Capability> capabilities() {
        return EnumSet.of(Capability.IMAGES);
    }

    /** The machines whose nspawn process runs: {@code --machine=wf-<workshop>-NN}. */
    @Override
    protected Set<String> liveMachines(String workshop) {
        Pattern machine = Pattern.compile("--machine=" + LabMachines.PREFIX + "(" + Pattern.quote(workshop) + "-\\d+)\\b");
        Set<String> out = new TreeSet<>();
        HostState.capture(PATHS).nspawns().lines().forEach(line -> {
            Matcher m = machine.matcher(line);
            if (m.find()) {
                out.add(m.group(1));
            }
        });
        return out;
    }

    /** Network namespaces, mounts, machine records and folders named {@code wf-<workshop>-…}. */
    @Override
    protected Set<String> sharedResources(String workshop) {
        String ours = LabMachines.PREFIX + workshop + "-";
        HostState host = HostState.capture(PATHS);
        Set<String> out = new TreeSet<>();
        Stream.of(host.netns(), host.links(), host.mounts()).flatMap(String::lines).filter(l -> l.contains(ours))
                .forEach(out::add);
        Stream.of(host.records().split("[\\[\\], ]+")).filter(t -> t.contains(ours)).forEach(t -> out.add("record " + t));
        return out;
    }

    @Test
    void machinesBootInTheBackgroundOnTheLabBridgeAndTheHostIsPutBackAfterTeardown() {
        RecordedResources recorder = new RecordedResources();
        Cloud cloud = newCloud(recorder);
        cloud.prepare(context());

        List<Machine> created = cloud.createNodes(context(), requests(1, 2));

        for (int i = 0; i < 2; i++) {
            Machine m = created.get(i);
            assertEquals(config.machineName(i + 1), m.id());
            assertEquals(i + 1, m.attendee());
            assertEquals(MachineState.PENDING, m.state(), "createNodes returns while the machines boot: " + m);
        }
        List<Machine> booted = cloud.awaitRunning(created.stream().map(Machine::id).toList(), bootTimeout());
        booted.forEach(m -> assertTrue(m.publicIp().startsWith("10.231."), m.toString()));
        // A machine it never made is reported terminated, at once.
        List<Machine> running = cloud.awaitRunning(List.of(config.machineName(1), config.machineName(2),
                config.machineName(3)), Duration.ofSeconds(5));
        assertEquals(List.of(MachineState.RUNNING, MachineState.RUNNING, MachineState.TERMINATED),
                running.stream().map(Machine::state).toList());

        cloud.teardown(recorder.live());

        HostState.assertRestored(before, HostState.capture(PATHS), LabMachines.PREFIX + config.machineName(1),
                LabMachines.PREFIX + config.machineName(2));
    }
}
