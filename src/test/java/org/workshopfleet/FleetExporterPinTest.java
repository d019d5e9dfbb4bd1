package org.workshopfleet;

import org.workshopfleet.command.Wiring;
import org.workshopfleet.command.CidrDetector;
import org.workshopfleet.command.MachineRendering;
import org.workshopfleet.command.Plan;
import org.workshopfleet.spec.Cidr;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.workshopfleet.bake.ImageBaker;
import org.workshopfleet.bake.ImageMode;
import org.workshopfleet.cloud.UserDataFormat;
import org.workshopfleet.provision.MachineLayout;
import org.workshopfleet.provision.ProvisionListener;
import org.workshopfleet.provision.Runner;
import org.workshopfleet.provision.TestMachines;
import org.workshopfleet.render.Bundle;
import org.workshopfleet.render.BundleFile;
import org.workshopfleet.render.MachineModel;
import org.workshopfleet.render.SetupStep;
import org.workshopfleet.spec.Provider;
import org.workshopfleet.spec.WorkshopSpec;
import org.workshopfleet.ssh.LoopbackSshd;
import org.workshopfleet.state.Ledger;
import org.workshopfleet.state.Secrets;
import org.workshopfleet.state.StateFolder;

/**
 * {@code up} sends every machine the exporter hash it must verify before running the binary: the facilitator's pin, or
 * else the hash the ledger recorded from the workshop's first machine, the same in every machine's {@code fleet.env}.
 */
class FleetExporterPinTest {

    private static final String RECORDED = "c".repeat(64);
    private static final String PINNED = "d".repeat(64);

    @TempDir
    Path dir;
    private final RecordingCloud.State cloud = new RecordingCloud.State();
    /** Each machine's rendered fleet.env line for the exporter hash, by machine name. */
    private final Map<String, String> sent = new TreeMap<>();

    @Test
    void laterMachinesReceiveTheHashTheLedgerRecorded() throws Exception {
        ledger().putSetting(Runner.EBPF_SETTING, RECORDED);
        up(spec(3));
        assertEquals(Map.of("ebpf-php-01", RECORDED, "ebpf-php-02", RECORDED, "ebpf-php-03", RECORDED), sent);
    }

    @Test
    void withNothingRecordedOrPinnedTheFirstMachinesGetNoPin() throws Exception {
        up(spec(2));
        assertEquals(Map.of("ebpf-php-01", "", "ebpf-php-02", ""), sent);
    }

    @Test
    void aPinGivenNowWinsOverTheRecordedHash() throws Exception {
        ledger().putSetting(Runner.EBPF_SETTING, RECORDED);
        WorkshopSpec spec = spec(2);
        up(spec.withSources(spec.sources().withEbpfExporterSha256(PINNED)));
        assertEquals(Map.of("ebpf-php-01", PINNED, "ebpf-php-02", PINNED), sent);
    }

    /** plan writes what up would send: the recorded hash in every bundle's fleet.env and in sources.properties. */
    @Test
    void planShowsTheHashTheLedgerRecordedAsUpWouldSendIt() throws Exception {
        ledger().putSetting(Runner.EBPF_SETTING, RECORDED);
        WorkshopSpec spec = spec(2);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Wiring noCloud = new Wiring((s, rec) -> {
            throw new AssertionError("plan must not create a cloud");
        }, s -> { }, () -> {
            throw new AssertionError("tests never detect a public address");
        }, null, ProvisionListener.NONE, Clock.systemUTC(), "ubuntu", 22, MachineLayout.STANDARD,
                Duration.ofSeconds(1), Duration.ofSeconds(1));
        assertEquals(0, new Fleet(spec, Path.of("").toAbsolutePath(), noCloud,
                new PrintStream(out, true, StandardCharsets.UTF_8)).plan(), out.toString(StandardCharsets.UTF_8));

        Path plan = spec.stateDir().resolve("plan");
        for (String m : List.of("ebpf-php-01", "ebpf-php-02")) {
            String env = Files.readString(plan.resolve(m).resolve("bundle/fleet.env"));
            assertEquals(List.of(RECORDED), env.lines().filter(l -> l.startsWith("EBPF_EXPORTER_SHA256="))
                    .map(l -> l.replaceAll("^EBPF_EXPORTER_SHA256=|'", "")).toList(), env);
        }
        String sources = Files.readString(plan.resolve(Plan.SOURCES_FILE));
        assertTrue(sources.contains(RECORDED), sources);
    }

    @Test
    void theBakeBuildersObservedHashIsRecordedForTheMachinesOfItsImage() throws Exception {
        LoopbackSshd.assumeAvailable();
        WorkshopSpec spec = spec(2);
        Secrets secrets = new Secrets(new StateFolder(spec.stateDir()), spec.name());
        int b = ImageBaker.BUILDER_ATTENDEE;
        int port = LoopbackSshd.freePort();
        // The builder is a loopback sshd machine; the attendees' address answers nothing (they fail at ssh).
        TestMachines.Box builder = TestMachines.start(dir.resolve("builder"), secrets.loginKey(), "done",
                secrets.hostKey(b), "127.0.0.2", port);
        try {
            cloud.address = n -> n == b ? "127.0.0.2" : "127.0.0.1";
            Path project = Files.createDirectories(dir.resolve("project/security-groups")).getParent();
            Files.copy(Path.of("security-groups/workshop.json"),
                    project.resolve("security-groups/workshop.json"));
            Wiring wiring = new Wiring((s, rec) -> new RecordingCloud(cloud, rec), s -> { }, () -> {
                throw new AssertionError("tests never detect a public address");
            }, null, ProvisionListener.NONE, Clock.systemUTC(), LoopbackSshd.user(), port, MachineLayout.STANDARD,
                    Duration.ofSeconds(20), Duration.ofSeconds(20), root -> OBSERVING_IMAGE_STEP);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            new Fleet(spec, project, wiring, new PrintStream(out, true, StandardCharsets.UTF_8)).up(true, ImageMode.BAKE);
            String printed = out.toString(StandardCharsets.UTF_8);
            assertTrue(cloud.calls.stream().anyMatch(c -> c.startsWith("captureImage")),
                    printed);
            assertEquals(RECORDED, ledger().setting(Runner.EBPF_SETTING), printed);
        } finally {
            builder.sshd().close();
        }
    }

    /** One image step that records an observed exporter hash as 03-ebpf-exporter does unpinned, and a seal. */
    private static final MachineRendering OBSERVING_IMAGE_STEP = new MachineRendering() {
        @Override
        public String userData(MachineModel m, UserDataFormat f) {
            return "#cloud-config\nhostname: " + m.hostname() + "\n";
        }

        @Override
        public Bundle bundle(MachineModel m) {
            String step = "# phase: image\nset -euo pipefail\nmkdir -p /var/lib/workshop-fleet/observed\necho " + RECORDED
                    + " > /var/lib/workshop-fleet/observed/ebpf_exporter.sha256\n";
            String path = "scripts/01-exporter.sh";
            return new Bundle(m.hostname(), List.of(
                    new BundleFile(path, step.getBytes(StandardCharsets.UTF_8), 0755),
                    new BundleFile("scripts/seal.sh", "echo sealed\n".getBytes(StandardCharsets.UTF_8), 0755),
                    new BundleFile("scripts/lib.sh", "true\n".getBytes(StandardCharsets.UTF_8), 0644)),
                    List.of(new SetupStep("01-exporter", path, TestMachines.sha256(step))));
        }
    };

    private WorkshopSpec spec(int count) {
        return WorkshopSpec.defaults(count, Provider.LAB).withStateRoot(dir.resolve("workshops")).withCidr(Cidr.parse("203.0.113.7/32"));
    }

    private Ledger ledger() {
        WorkshopSpec spec = spec(1);
        return Ledger.open(new StateFolder(spec.stateDir()), spec.name(), spec.provider().id(), spec.region(),
                Clock.systemUTC());
    }

    /** up against a stand-in cloud where nothing answers SSH: every machine is rendered, then fails at ssh. */
    private void up(WorkshopSpec spec) throws java.io.IOException {
        CidrDetector noDetect = () -> {
            throw new AssertionError("tests never detect a public address");
        };
        Wiring wiring = new Wiring((s, rec) -> new RecordingCloud(cloud, rec), s -> { }, noDetect, null,
                ProvisionListener.NONE, Clock.systemUTC(), LoopbackSshd.user(), LoopbackSshd.freePort(),
                MachineLayout.STANDARD, Duration.ofSeconds(2), Duration.ofSeconds(3)).withRendering(root -> {
                    MachineRendering real = Wiring.TEMPLATES.apply(root);
                    return new MachineRendering() {
                        @Override
                        public String userData(MachineModel m, UserDataFormat f) {
                            return real.userData(m, f);
                        }

                        @Override
                        public Bundle bundle(MachineModel m) {
                            Bundle b = real.bundle(m);
                            String env = new String(b.file("fleet.env").orElseThrow().content(), StandardCharsets.UTF_8);
                            List<String> line = env.lines().filter(l -> l.startsWith("EBPF_EXPORTER_SHA256=")).toList();
                            assertEquals(1, line.size(), env);
                            synchronized (sent) {
                                sent.put(m.machineName(), line.get(0).replaceAll("^EBPF_EXPORTER_SHA256=|'", ""));
                            }
                            return b;
                        }
                    };
                });
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        new Fleet(spec, Path.of("").toAbsolutePath(), wiring, new PrintStream(out, true, StandardCharsets.UTF_8)).up(true);
    }
}
