package org.workshopfleet;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.workshopfleet.cloud.UserDataFormat;
import org.workshopfleet.provision.MachineLayout;
import org.workshopfleet.provision.ProvisionListener;
import org.workshopfleet.provision.Runner;
import org.workshopfleet.render.Bundle;
import org.workshopfleet.render.MachineModel;
import org.workshopfleet.spec.Provider;
import org.workshopfleet.spec.WorkshopSpec;
import org.workshopfleet.ssh.LoopbackSshd;
import org.workshopfleet.state.Ledger;
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

    private WorkshopSpec spec(int count) {
        return WorkshopSpec.defaults(count, Provider.LAB).withStateRoot(dir.resolve("workshops")).withCidr("203.0.113.7/32");
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
