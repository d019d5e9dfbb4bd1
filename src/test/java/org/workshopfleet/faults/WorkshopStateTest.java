package org.workshopfleet.faults;

import org.workshopfleet.error.ExitCode;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.workshopfleet.command.CloudFactory;
import org.workshopfleet.cli.Main;
import org.workshopfleet.command.Wiring;
import org.workshopfleet.cloud.ec2.fake.Ec2Fake;
import org.workshopfleet.cloud.lightsail.LightsailCloud;
import org.workshopfleet.cloud.lightsail.fake.LightsailFake;
import org.workshopfleet.provision.MachineLayout;
import org.workshopfleet.provision.ProvisionListener;
import org.workshopfleet.spec.Provider;
import org.workshopfleet.ssh.LoopbackSshd;
import org.workshopfleet.state.StateFolder;
import org.workshopfleet.state.WorkshopLock;

/**
 * The workshop's state against the command lifecycle, through the command ({@link Main#run}) with an EC2 fleet on an
 * {@link Ec2Fake} (and a {@link LightsailFake} for the wrong provider): the ledger decides where the fleet is, a
 * teardown that finds none of its machines says so, a second changing command is refused while one holds the
 * workshop, and damaged ledgers are one-line errors (teardown goes on by tag).
 */
class WorkshopStateTest {

    @TempDir
    Path dir;
    final Ec2Fake ec2 = Ec2Fake.start();
    final LightsailFake lightsail = LightsailFake.start("ap-northeast-1");
    final List<AutoCloseable> clients = new ArrayList<>();
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final ByteArrayOutputStream err = new ByteArrayOutputStream();
    Path project;
    Ec2Fake current;

    @BeforeEach
    void project() throws IOException {
        project = dir.resolve("project");
        Files.createDirectories(project.resolve("security-groups"));
        Files.copy(Path.of("security-groups/workshop.json"), project.resolve("security-groups/workshop.json"));
        current = ec2;
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
        err.reset();
        Map<String, String> p = new HashMap<>(Map.of("cidr", "203.0.113.7/32", "yes", "",
                "stateDir", dir.resolve("workshops").toString(), "projectRoot", project.toString()));
        for (String kv : props.split(";")) {
            if (!kv.isBlank()) {
                int eq = kv.indexOf('=');
                p.put(kv.substring(0, eq), kv.substring(eq + 1));
            }
        }
        return Main.run(p, Map.of("AWS_REGION", "ap-northeast-1"), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), wiring());
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
                : current.cloudFactory(Path.of("ami.properties"), clients).create(spec, recorder);
        // Nothing answers SSH: up launches the machine and fails it at "ssh" within a second.
        return new Wiring(clouds, s -> { }, () -> {
            throw new AssertionError("no address detection in tests");
        }, null, ProvisionListener.NONE, Clock.systemUTC(), LoopbackSshd.user(), closedPort,
                MachineLayout.STANDARD, Duration.ofSeconds(1), Duration.ofSeconds(10), root -> new TinyWorkshop());
    }

    String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    void assertOneLineError(String expected) {
        String e = err();
        assertTrue(e.startsWith("error: ") && e.indexOf('\n') == e.length() - 1, "one line: " + e);
        assertTrue(e.contains(expected), e);
    }

    long liveInstances() {
        return ec2.instances().stream().filter(i -> !i.state().equals("terminated") && !i.state().equals("shutting-down"))
                .count();
    }

    Path ledger() {
        return dir.resolve("workshops/ebpf-php/ledger.json");
    }

    String ledgerText() throws IOException {
        return Files.readString(ledger());
    }

    /** An EC2 fleet of one machine (failed at ssh: nothing answers), recorded in the ledger. */
    void ec2Fleet() throws IOException {
        assertEquals(1, run("count=1"), out() + err());
        assertEquals(1, liveInstances());
        assertTrue(ledgerText().contains("\"provider\" : \"ec2\""), ledgerText());
    }

    @Test
    void theExitCodeSaysWhetherAnythingMayExist() throws IOException {
        // Refused before any cloud call: 2, and EC2 never saw a launch.
        assertEquals(ExitCode.BAD_INPUT, run("count=1;instanceType=t3..micro"), err());
        assertEquals(0, ec2.calls("RunInstances").size());
        // EC2 launches the machine but answers the launch with an error: a cloud failure, 1, and the machine exists.
        ec2.faults().failAfterNext("RunInstances", "InternalError", 10);
        assertEquals(ExitCode.FAILURE, run("count=1"), out() + err());
        assertOneLineError("EC2");
        assertTrue(liveInstances() >= 1, "the failed launch left a machine: 2 would have said nothing was created");
        ec2.faults().clear();
        assertEquals(ExitCode.OK, run("action=teardown"), out() + err());
        assertEquals(0, liveInstances());
    }

    @Test
    void aReRunKeepsTheRecordedSeatNamesAndCertificateAndRefusesOthers() throws IOException {
        Path tls = Files.createDirectories(dir.resolve("tls"));
        org.workshopfleet.tls.TlsMaterial wildcard = org.workshopfleet.tls.TlsMaterial.selfSigned("*.example.org",
                Duration.ofDays(30));
        Files.writeString(tls.resolve("cert.pem"), wildcard.certificatePem());
        Files.writeString(tls.resolve("key.pem"), wildcard.keyPem());
        Files.copy(tls.resolve("cert.pem"), tls.resolve("other.pem"));
        String given = "tlsCert=" + tls.resolve("cert.pem") + ";tlsKey=" + tls.resolve("key.pem");
        assertEquals(ExitCode.FAILURE, run("count=1;hostnamePattern=seat{n}.example.org;" + given), out() + err());
        long launched = ec2.calls("RunInstances").size();

        // Without the options: the recorded names and certificate stay, and the cards and DNS records use them.
        assertEquals(ExitCode.FAILURE, run("count=1"), out() + err());
        assertTrue(ledgerText().contains("\"hostnamePattern\" : \"seat{n}.example.org\""), ledgerText());
        assertTrue(ledgerText().contains("\"tlsCert\" : \"" + tls.resolve("cert.pem").toAbsolutePath() + "\""),
                ledgerText());
        assertTrue(out().contains("seat01.example.org. 300 IN A "), "up prints the DNS records: " + out());
        String handout = out().lines().filter(l -> l.startsWith("handout: ")).findFirst().orElseThrow()
                .substring("handout: ".length()).split(" ")[0];
        assertTrue(Files.readString(Path.of(handout)).contains("https://seat01.example.org/terminal/"),
                "the card links the seat's name, not its address");

        // The same again is fine; another pattern or another certificate file is refused before any cloud call.
        assertEquals(ExitCode.OK, run("action=handout;hostnamePattern=seat{n}.example.org;" + given), out() + err());
        long before = ec2.calls("RunInstances").size();
        String ledger = ledgerText();
        assertEquals(ExitCode.BAD_INPUT, run("count=1;hostnamePattern=box{n}.example.org;" + given), out() + err());
        assertOneLineError("-DhostnamePattern=box{n}.example.org differs from what up recorded for the running"
                + " machines of workshop ebpf-php (seat{n}.example.org): pass the same or leave it out, or teardown"
                + " first to change it");
        assertEquals(ExitCode.BAD_INPUT, run("count=1;tlsCert=" + tls.resolve("other.pem") + ";tlsKey="
                + tls.resolve("key.pem")), out() + err());
        assertOneLineError("-DtlsCert=" + tls.resolve("other.pem").toAbsolutePath() + " differs from");
        assertEquals(before, ec2.calls("RunInstances").size(), "refused before launching");
        assertEquals(ledger, ledgerText(), "refused before the ledger changed");
        assertTrue(launched >= 1);
    }

    @Test
    void teardownOnAnotherProviderOrRegionIsRefusedAndTheFleetKeepsRunning() throws IOException {
        ec2Fleet();
        String before = ledgerText();
        int ec2Calls = ec2.calls().size();

        assertEquals(ExitCode.BAD_INPUT, run("action=teardown;provider=lightsail"));
        assertOneLineError("workshop ebpf-php runs on ec2 ap-northeast-1");
        assertTrue(err().contains("-Dprovider=ec2"), err());
        assertTrue(lightsail.requests().isEmpty(), "no call to the wrong cloud: " + lightsail.requests());
        assertEquals(ExitCode.BAD_INPUT, run("action=teardown;region=eu-west-1"));
        assertOneLineError("runs on ec2 ap-northeast-1");
        assertEquals(ExitCode.BAD_INPUT, run("action=status;provider=lightsail"));
        assertEquals(ExitCode.BAD_INPUT, run("action=up;count=1;provider=lightsail"));

        assertEquals(ec2Calls, ec2.calls().size(), "refused before any cloud call");
        assertEquals(1, liveInstances());
        assertEquals(before, ledgerText(), "ledger untouched");

        // Without -Dprovider/-Dregion (AWS_REGION is only a default) the ledger's provider and region are used.
        assertEquals(0, run("action=teardown"), err());
        assertTrue(out().contains("teardown of workshop ebpf-php on ec2 ap-northeast-1"), out());
        assertEquals(0, liveInstances());
    }

    @Test
    void aLightsailFleetIsNotTornDownAsEc2() throws IOException {
        lightsail.addInstance("ebpf-php-01", Map.of("Workshop", "ebpf-php", "ManagedBy", "workshop-fleet"));
        Path folder = dir.resolve("workshops/ebpf-php");
        Files.createDirectories(folder);
        Files.writeString(folder.resolve("ledger.json"), """
                {"formatVersion":1,"workshop":"ebpf-php","provider":"lightsail","region":"ap-northeast-1",
                 "createdAt":"2026-01-01T00:00:00Z",
                 "resources":[{"kind":"INSTANCE","id":"ebpf-php-01","name":"ebpf-php-01","attendee":1,
                               "createdAt":"2026-01-01T00:00:00Z"}]}
                """);
        assertEquals(ExitCode.BAD_INPUT, run("action=teardown;provider=ec2"));
        assertOneLineError("workshop ebpf-php runs on lightsail ap-northeast-1");
        assertTrue(ec2.calls().isEmpty(), ec2.calls().toString());
        assertTrue(lightsail.instance("ebpf-php-01").isPresent());
    }

    @Test
    void aTeardownThatFindsNoneOfTheLedgersMachinesSaysSoAndKeepsTheLedger() throws IOException {
        ec2Fleet();
        try (Ec2Fake otherAccount = Ec2Fake.start()) {
            current = otherAccount; // the credentials point at another account: nothing of the fleet is there
            assertEquals(ExitCode.BAD_INPUT, run("action=teardown"));
            assertOneLineError("the ledger lists 1 machine(s) but none was found on ec2 ap-northeast-1 by id or tag:"
                    + " check -Dprovider/-Dregion/credentials; ledger kept");
            assertFalse(out().contains("nothing of workshop"), out());
            assertFalse(ledgerText().contains("closedAt"), ledgerText());
            assertTrue(otherAccount.calls("TerminateInstances").isEmpty());
        }
        assertEquals(1, liveInstances());
        current = ec2;
        assertEquals(0, run("action=teardown"), err());
        assertEquals(0, liveInstances());
        assertTrue(ledgerText().contains("closedAt"));
    }

    @Test
    void aTeardownStoppedAfterItDestroyedTheMachinesFinishesWhenRunAgain() throws IOException {
        ec2Fleet();
        // As a teardown killed after its TerminateInstances left it: the machines are gone (here: not in this account),
        // the ledger still lists them, and records that a teardown of exactly these had begun.
        org.workshopfleet.state.Ledger.open(new StateFolder(ledger().getParent()), "ebpf-php", "ec2", "ap-northeast-1",
                Clock.systemUTC()).putSetting("tearingDown", ec2.instances().get(0).id());
        try (Ec2Fake otherAccount = Ec2Fake.start()) {
            current = otherAccount;
            assertEquals(0, run("action=teardown"), err());
            assertTrue(ledgerText().contains("closedAt"), ledgerText());
        }
    }

    @Test
    void aSecondChangingCommandIsRefusedWhileOneHoldsTheWorkshop() throws IOException {
        StateFolder folder = new StateFolder(dir.resolve("workshops/ebpf-php"));
        try (WorkshopLock held = WorkshopLock.acquire(folder, "ebpf-php", "up")) {
            for (String action : List.of("action=up;count=1", "action=teardown", "action=plan;count=1")) {
                assertEquals(ExitCode.BAD_INPUT, run(action), action);
                assertOneLineError("workshop ebpf-php is busy: pid " + ProcessHandle.current().pid()
                        + " running -Daction=up since ");
            }
            assertTrue(ec2.calls().isEmpty(), ec2.calls().toString());
            assertFalse(Files.exists(folder.secretsDir()), "no login key was made");
            assertFalse(Files.exists(folder.ledgerFile()), "no ledger was written");
        }
        assertEquals(0, run("action=plan;count=1"), err());
    }

    @Test
    void aLockOfAKilledCommandIsReleased() throws Exception {
        Path folder = dir.resolve("workshops/ebpf-php");
        Process holder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), LockHolder.class.getName(), folder.toString())
                .redirectErrorStream(true).start();
        try {
            String line = new java.io.BufferedReader(new java.io.InputStreamReader(holder.getInputStream(),
                    StandardCharsets.UTF_8)).readLine();
            assertEquals("locked", line);
            assertEquals(ExitCode.BAD_INPUT, run("action=up;count=1"));
            assertOneLineError("workshop ebpf-php is busy: pid " + holder.pid() + " running -Daction=teardown since ");
            assertTrue(ec2.calls().isEmpty());
        } finally {
            holder.destroyForcibly();
            holder.waitFor();
        }
        try (WorkshopLock again = WorkshopLock.acquire(new StateFolder(folder), "ebpf-php", "up")) {
            assertTrue(Files.exists(folder.resolve("fleet.lock")));
        }
    }

    /** Child JVM: takes the workshop's lock as a teardown would, says so, and waits to be killed. */
    public static final class LockHolder {
        public static void main(String[] args) throws InterruptedException {
            WorkshopLock.acquire(new StateFolder(Path.of(args[0])), "ebpf-php", "teardown");
            System.out.println("locked");
            System.out.flush();
            Thread.sleep(120_000);
        }
    }

    @Test
    void teardownMovesAnUnreadableLedgerAsideAndGoesOnByTagWhileOtherActionsRefuse() throws IOException {
        ec2Fleet();
        Files.writeString(ledger(), "{ \"workshop\": \"ebpf-php\", \"resources\": [ {");
        for (String action : List.of("action=status", "action=allow-ip;cidr=198.51.100.0/24", "action=extend",
                "action=up;count=1", "action=handout")) {
            assertEquals(ExitCode.BAD_INPUT, run(action), action);
            assertOneLineError("is unreadable");
            assertTrue(err().contains("restore it from ledger.json.bak"), err());
        }
        assertEquals(1, liveInstances());

        assertEquals(0, run("action=teardown"), err());
        assertTrue(out().contains("is unreadable: moved aside to ledger.json.corrupt-"), out());
        assertEquals(0, liveInstances(), "found by tag");
        try (Stream<Path> files = Files.list(ledger().getParent())) {
            assertTrue(files.anyMatch(f -> f.getFileName().toString().startsWith("ledger.json.corrupt-")));
        }
        assertTrue(ledgerText().contains("closedAt"));
    }

    @Test
    void theBackupIsTheLastGoodLedgerAndCanBeRestored() throws IOException {
        ec2Fleet();
        String good = ledgerText();
        assertEquals(0, run("action=allow-ip;cidr=198.51.100.0/24"), err());
        Path bak = ledger().resolveSibling("ledger.json.bak");
        assertEquals(good, Files.readString(bak), "the ledger as the previous command left it");
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(bak)));
        String second = ledgerText();
        Files.writeString(ledger(), "garbage");
        Files.copy(bak, ledger(), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertEquals(0, run("action=status"), err());
        assertTrue(second.contains("198.51.100.0/24"));
    }

    @Test
    void aLedgerOfANewerFormatIsRefusedByEveryActionAndNeverRewritten() throws IOException {
        ec2Fleet();
        String newer = ledgerText().replace("\"formatVersion\" : 1", "\"formatVersion\" : 2");
        Files.writeString(ledger(), newer);
        for (String action : List.of("action=teardown", "action=status", "action=up;count=1", "action=extend")) {
            assertEquals(ExitCode.BAD_INPUT, run(action), action);
            assertOneLineError("was written by a newer workshop-fleet");
            assertTrue(err().contains("upgrade"), err());
        }
        assertArrayEquals(newer.getBytes(StandardCharsets.UTF_8), Files.readAllBytes(ledger()));
        assertEquals(1, liveInstances());
    }

    @Test
    void damagedStateIsOneLineBadInputBeforeAnyCloudCall() throws IOException {
        ec2Fleet();
        String good = ledgerText();
        int calls = ec2.calls().size();

        Files.writeString(ledger(), good.replace("\"workshop\" : \"ebpf-php\",", ""));
        assertEquals(ExitCode.BAD_INPUT, run("action=allow-ip;cidr=198.51.100.0/24"));
        assertOneLineError("is unreadable (no \"workshop\")");

        Files.writeString(ledger(), good.replaceAll("\"expiresAt\" : \"[^\"]*\"", "\"expiresAt\" : \"next tuesday\""));
        for (String action : List.of("action=up;count=1", "action=extend", "action=allow-ip;cidr=198.51.100.0/24")) {
            assertEquals(ExitCode.BAD_INPUT, run(action), action);
            assertOneLineError("the ledger's expiresAt 'next tuesday' is not a time: put an ISO-8601 instant");
        }
        assertEquals(calls, ec2.calls().size(), "no cloud call");

        Path file = dir.resolve("a-file");
        Files.writeString(file, "not a folder");
        assertEquals(ExitCode.BAD_INPUT, run("action=up;count=1;stateDir=" + file.resolve("workshops")));
        assertOneLineError("cannot write the state folder");
        assertTrue(err().contains("-DstateDir"), err());
        assertEquals(ExitCode.BAD_INPUT, run("action=up;count=1;stateDir=" + file));
        assertOneLineError("cannot write the state folder");
        assertEquals(calls, ec2.calls().size(), "no cloud call");
    }
}
