package org.workshopfleet.faults;

import org.workshopfleet.spec.Cidr;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.workshopfleet.Fleet;
import org.workshopfleet.command.Wiring;
import org.workshopfleet.cloud.lightsail.LightsailCloud;
import org.workshopfleet.cloud.lightsail.fake.LightsailFake;
import org.workshopfleet.provision.MachineLayout;
import org.workshopfleet.provision.ProvisionListener;
import org.workshopfleet.provision.TestMachines;
import org.workshopfleet.spec.Provider;
import org.workshopfleet.spec.WorkshopSpec;
import org.workshopfleet.ssh.LoopbackSshd;
import org.workshopfleet.state.Ledger;
import org.workshopfleet.state.MachinePhase;
import org.workshopfleet.state.MachineRecord;
import org.workshopfleet.state.Secrets;
import org.workshopfleet.state.StateFolder;

/**
 * A Lightsail machine answers with its image's own host key until its launch script has installed the pinned one
 * ({@link LoopbackInstances}): up waits through that without sending anything to the image's sshd, and refuses a
 * machine that still shows another key when the wait for SSH ends, without uploading anything.
 */
class LightsailBootHostKeyTest {

    /** sshd's lines (LogLevel VERBOSE) for a login attempt of any kind. */
    private static final Pattern AUTH_LINE = Pattern.compile(
            "Accepted |Failed |Postponed |authenticating user|Invalid user|userauth|Authentication");

    @TempDir
    Path dir;

    private LightsailFake fake;
    private LoopbackInstances machines;
    private WorkshopSpec spec;
    private ByteArrayOutputStream out;

    @BeforeEach
    void start() throws IOException {
        LoopbackSshd.assumeAvailable();
        spec = WorkshopSpec.defaults(1, Provider.LIGHTSAIL).withStateRoot(dir.resolve("workshops"))
                .withCidr(Cidr.parse(LightsailCampaign.CIDR));
        fake = LightsailFake.start(spec.region());
        machines = new LoopbackInstances(dir.resolve("machines"), LoopbackSshd.freePort(),
                new Secrets(new StateFolder(spec.stateDir()), spec.name()).loginKey());
        fake.backend(machines);
        Files.createDirectories(dir.resolve("project/security-groups"));
        Files.copy(Path.of("security-groups/workshop.json"), dir.resolve("project/security-groups/workshop.json"));
    }

    @AfterEach
    void stop() {
        if (machines != null) {
            machines.close();
        }
        if (fake != null) {
            fake.close();
        }
    }

    private int up(Duration sshTimeout) {
        Wiring wiring = new Wiring((s, recorder) -> new LightsailCloud(fake.newClient(), LightsailCloud.config(s), recorder,
                LightsailCampaign.QUICK), s -> { }, () -> {
                    throw new AssertionError("no address detection in tests");
                }, null, ProvisionListener.NONE, Clock.systemUTC(), LoopbackSshd.user(), machines.port(), MachineLayout.STANDARD,
                sshTimeout, Duration.ofSeconds(30), root -> new TinyWorkshop());
        out = new ByteArrayOutputStream();
        return new Fleet(spec, dir.resolve("project"), wiring, new PrintStream(out, true, StandardCharsets.UTF_8))
                .up(true);
    }

    private MachineRecord record() {
        return Ledger.open(new StateFolder(spec.stateDir()), spec.name(), "lightsail", spec.region(), Clock.systemUTC())
                .snapshot().machines().get(1);
    }

    private static void assertNoLoginAttempt(Path sshdLog) throws IOException {
        String log = Files.readString(sshdLog);
        assertTrue(log.contains("Connection from"), "up did contact this sshd: " + log);
        assertFalse(AUTH_LINE.matcher(log).find(), "nothing beyond the key exchange was sent to it: " + log);
    }

    @Test
    void aMachineShowingItsImagesKeyUntilTheLaunchScriptRanIsProvisioned() throws IOException {
        machines.launchScriptTakes(Duration.ofSeconds(3));
        int code = up(Duration.ofSeconds(60));
        String text = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, code, text);
        assertEquals(MachinePhase.READY, record().phase(), record().toString());
        Path imageLog = machines.imageSshdLog(1);
        assertNotNull(imageLog, "the machine first answered with its image's host key");
        assertNoLoginAttempt(imageLog);
    }

    @Test
    void aMachineThatKeepsAnotherKeyIsRefusedWhenTheWaitEndsAndGetsNothing() throws IOException {
        machines.launchScriptTakes(Duration.ofMillis(500)).impostors(1);
        long t0 = System.nanoTime();
        int code = up(Duration.ofSeconds(6));
        long millis = (System.nanoTime() - t0) / 1_000_000;
        String text = out.toString(StandardCharsets.UTF_8);
        assertEquals(1, code, text);
        MachineRecord r = record();
        assertEquals(MachinePhase.FAILED, r.phase(), r.toString());
        assertEquals("ssh", r.step(), r.toString());
        assertTrue(r.error().contains("does not match the pinned key"), r.toString());
        assertTrue(millis >= 5000, "refused only when the wait for SSH ended, not at the first contact: " + millis + " ms");
        TestMachines.Box box = machines.boxOf(1);
        assertNotNull(box);
        assertFalse(Files.exists(box.bundleRoot()), "nothing was uploaded");
        assertNoLoginAttempt(machines.imageSshdLog(1));
        assertNoLoginAttempt(box.sshd().dir().resolve("sshd.log"));
    }
}
