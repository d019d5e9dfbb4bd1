package org.workshopfleet.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.workshopfleet.cli.Main;
import org.workshopfleet.cloud.lab.HostState;
import org.workshopfleet.cloud.lab.LabMachines;
import org.workshopfleet.cloud.lab.LabNetwork;
import org.workshopfleet.cloud.lab.LabPaths;
import org.workshopfleet.cloud.lab.LabPrerequisites;
import org.workshopfleet.command.CloudsByProvider;
import org.workshopfleet.command.ReadinessCheck;
import org.workshopfleet.command.Wiring;
import org.workshopfleet.lab.standins.StandIns;
import org.workshopfleet.provision.MachineLayout;
import org.workshopfleet.provision.ProvisionListener;
import org.workshopfleet.ssh.Remote;
import org.workshopfleet.ssh.SshLogin;
import org.workshopfleet.ssh.SshTarget;
import org.workshopfleet.state.Ledger;
import org.workshopfleet.state.LedgerData;
import org.workshopfleet.state.MachineRecord;
import org.workshopfleet.state.Secrets;
import org.workshopfleet.state.StateFolder;

/**
 * Spares and {@code replace} end to end on real lab machines, with the real readiness checks ({@link
 * ReadinessCheck#VERIFIER}) and the stand-ins reached through {@code -Dsources}, every command through
 * {@link Main#run}: {@code up -Dcount=1 -Dspares=1} verifies both machines; seat 1's Grafana is stopped and disabled,
 * which {@code verify} catches; {@code replace -Dseat=1} moves the seat onto the spare and prints its new card,
 * {@code verify} passes again, a new spare exists; then seat 1's new machine loses Apache's {@code USE_ZEND_DTRACE}, and
 * the next {@code up} heals the seat onto the spare (the broken machine destroyed, a new spare made, every seat
 * verified); {@code teardown} leaves the host as it was.
 */
class SparesOnLabIT {

    private static final Path PROJECT = Path.of("").toAbsolutePath();
    /** Per run, so two checkouts on one host never share a lab scope. */
    private static final String RUN = String.format(java.util.Locale.ROOT, "%04x",
            new java.security.SecureRandom().nextInt(0x10000));

    @TempDir
    Path tmp;

    @Test
    void upWithASpareThenReplaceABrokenSeatOntoIt() throws Exception {
        LabPrerequisites.require("ssh-keyscan");
        String name = "e2e-spare-" + RUN;
        HostState before = HostState.capture(LabPaths.standard());
        LabMachines network = new LabMachines(name);
        network.ensureNetwork();
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(buffer, true, StandardCharsets.UTF_8);
        try (StandIns standIns = StandIns.start(InetAddress.getByName(LabNetwork.HOST_ADDRESS), tmp.resolve("standins"))) {
            Path sourcesFile = standIns.writeSourcesFile(tmp.resolve("sources.properties"));
            Map<String, String> props = new HashMap<>(Map.of("name", name, "count", "1", "spares", "1",
                    "provider", "lab", "parallelism", "8", "stateDir", tmp.resolve("workshops").toString(),
                    "projectRoot", PROJECT.toString(), "sources", sourcesFile.toString(), "yes", ""));
            Wiring wiring = new Wiring(new CloudsByProvider(PROJECT), s -> { }, () -> LabNetwork.SUBNET, null,
                    ProvisionListener.NONE, Clock.systemUTC(), SshLogin.MACHINE_USER, 22, MachineLayout.STANDARD,
                    Duration.ofMinutes(5), Duration.ofMinutes(10), Wiring.TEMPLATES, ReadinessCheck.VERIFIER);
            Function<Map<String, String>, Integer> command = extra -> {
                Map<String, String> all = new HashMap<>(props);
                all.putAll(extra);
                return Main.run(all, Map.of(), out, out, wiring);
            };
            StateFolder folder = new StateFolder(tmp.resolve("workshops").resolve(name));

            assertEquals(0, command.apply(Map.of("action", "up")), () -> "up failed:\n" + buffer);
            assertTrue(buffer.toString(StandardCharsets.UTF_8).contains("ready: all 1 seat(s) verified, 1 verified spare(s)"),
                    buffer::toString);
            MachineRecord seat1 = seat(folder, name, 1);
            MachineRecord spare = spares(folder, name).get(0);

            breakGrafana(folder, name, seat1);
            buffer.reset();
            assertEquals(1, command.apply(Map.of("action", "verify")), () -> "verify missed the broken seat:\n" + buffer);

            buffer.reset();
            long t0 = System.nanoTime();
            assertEquals(0, command.apply(Map.of("action", "replace", "seat", "1")), () -> "replace failed:\n" + buffer);
            long replaceSeconds = (System.nanoTime() - t0) / 1_000_000_000;
            String replaced = buffer.toString(StandardCharsets.UTF_8);
            assertTrue(replaced.contains("new card for seat 01: machine " + spare.name()), replaced);
            Matcher card = Pattern.compile("replace: seat 01 verified on \\S+ in (\\d+) s").matcher(replaced);
            assertTrue(card.find(), replaced);
            System.out.println("figure: replace onto a spare, command to verified new card: " + card.group(1)
                    + " s; the whole replace (new spare provisioned and verified included): " + replaceSeconds + " s");
            assertEquals(spare.name(), seat(folder, name, 1).name(), "seat 1 is on the spare's machine");
            List<MachineRecord> spares = spares(folder, name);
            assertEquals(1, spares.size(), "a new spare keeps the count");
            assertNotEquals(spare.name(), spares.get(0).name());
            assertTrue(ledger(folder, name).machines().values().stream().noneMatch(r -> r.name().equals(seat1.name())),
                    "the broken machine is gone from the ledger");

            buffer.reset();
            assertEquals(0, command.apply(Map.of("action", "verify")), () -> "verify after replace failed:\n" + buffer);
            assertTrue(buffer.toString(StandardCharsets.UTF_8).contains("verify: all 2 machine(s) pass every check"),
                    buffer::toString);

            // Heal onto a spare, on the fleet as replace left it: seat 1's machine (the former spare) loses Apache's
            // USE_ZEND_DTRACE, and the next up's readiness checks catch it and move the seat onto the spare.
            MachineRecord broken = seat(folder, name, 1);
            MachineRecord healSpare = spares(folder, name).get(0);
            breakZendDtrace(folder, name, broken);
            buffer.reset();
            assertEquals(0, command.apply(Map.of("action", "up")), () -> "the healing up failed:\n" + buffer);
            String healed = buffer.toString(StandardCharsets.UTF_8);
            assertTrue(healed.contains("heal: seat 01 on " + broken.name() + " fails "), healed);
            assertTrue(healed.contains("heal: seat 01 healed on " + healSpare.name() + " (every check passed)"), healed);
            assertTrue(healed.contains("ready: all 1 seat(s) verified, 1 verified spare(s)"), healed);
            assertEquals(healSpare.name(), seat(folder, name, 1).name(), "seat 1 moved onto the former spare");
            assertTrue(ledger(folder, name).machines().values().stream().noneMatch(r -> r.name().equals(broken.name())),
                    "the broken machine left the ledger");
            assertTrue(new LabMachines(name).list().stream().noneMatch(m -> m.name().endsWith(broken.name())),
                    "the broken machine was destroyed on the host");
            List<MachineRecord> afterHeal = spares(folder, name);
            assertEquals(1, afterHeal.size(), "a new spare keeps the count");
            assertTrue(List.of(broken.name(), healSpare.name(), spare.name(), seat1.name())
                    .stream().noneMatch(n -> n.equals(afterHeal.get(0).name())), "the spare is a new machine");

            assertEquals(0, command.apply(Map.of("action", "teardown")), () -> "teardown failed:\n" + buffer);
        } finally {
            System.out.println(buffer.toString(StandardCharsets.UTF_8));
            new LabMachines(name).destroyAll();
            network.destroyAll();
        }
        HostState.assertRestored(before, HostState.capture(LabPaths.standard()), "wf-" + name + "-");
    }

    /** What verify must catch: Grafana stopped and disabled on the seat's machine. */
    private static void breakGrafana(StateFolder folder, String name, MachineRecord r) throws Exception {
        Secrets secrets = new Secrets(folder, name);
        try (Remote remote = Remote.await(new SshTarget(r.publicIp(), 22, secrets.hostKey(r.attendee()).publicKeyNoComment()),
                new SshLogin(SshLogin.MACHINE_USER, secrets.loginKey()), Duration.ofSeconds(30))) {
            Remote.Result stopped = remote.exec("sudo systemctl disable --now grafana-server && systemctl is-active grafana-server"
                    + " || true");
            assertEquals("inactive", stopped.stdout().strip(), stopped.stderr());
        }
    }

    /**
     * What the readiness checks catch and up heals: apache2 without {@code USE_ZEND_DTRACE=1} (its drop-in edited,
     * daemon-reload, restart), as in {@link FleetOnLabIT}.
     */
    private static void breakZendDtrace(StateFolder folder, String name, MachineRecord r) throws Exception {
        Secrets secrets = new Secrets(folder, name);
        try (Remote remote = Remote.await(new SshTarget(r.publicIp(), 22, secrets.hostKey(r.attendee()).publicKeyNoComment()),
                new SshLogin(SshLogin.MACHINE_USER, secrets.loginKey()), Duration.ofSeconds(30))) {
            Remote.Result edit = remote.exec("sudo sh -c 'sed -i s/USE_ZEND_DTRACE=1// "
                    + "/etc/systemd/system/apache2.service.d/workshop-fleet.conf && systemctl daemon-reload"
                    + " && systemctl restart apache2 && tr \"\\0\" \"\\n\" < /proc/$(systemctl show -p MainPID --value apache2)/environ'");
            assertEquals(0, edit.exitCode(), edit.stderr());
            assertTrue(!edit.stdout().contains("USE_ZEND_DTRACE"), edit.stdout());
        }
    }

    private static LedgerData ledger(StateFolder folder, String name) {
        return Ledger.open(folder, name, "lab", "ap-northeast-1", Clock.systemUTC()).snapshot();
    }

    private static MachineRecord seat(StateFolder folder, String name, int seat) {
        return ledger(folder, name).machines().values().stream()
                .filter(r -> r.isLive() && !r.isSpare() && r.seatNumber() == seat).findFirst().orElseThrow();
    }

    private static List<MachineRecord> spares(StateFolder folder, String name) {
        return ledger(folder, name).machines().values().stream().filter(r -> r.isLive() && r.isSpare()).toList();
    }
}
