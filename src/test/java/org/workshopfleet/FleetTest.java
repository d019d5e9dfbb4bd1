package org.workshopfleet;

import org.workshopfleet.command.Wiring;
import org.workshopfleet.command.Prompt;
import org.workshopfleet.command.CidrDetector;
import org.workshopfleet.spec.Cidr;
import org.workshopfleet.cloud.CredentialsCheck;
import org.workshopfleet.error.FleetException;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.workshopfleet.provision.MachineLayout;
import org.workshopfleet.provision.ProvisionListener;
import org.workshopfleet.spec.Provider;
import org.workshopfleet.spec.WebEntry;
import org.workshopfleet.spec.WorkshopSpec;
import org.workshopfleet.cloud.IngressRule;
import org.workshopfleet.cloud.LaunchContext;
import org.workshopfleet.ssh.LoopbackSshd;
import org.workshopfleet.state.Ledger;
import org.workshopfleet.state.MachineRecord;
import org.workshopfleet.state.LedgerData;
import org.workshopfleet.state.MachinePhase;
import org.workshopfleet.state.StateFolder;

/** {@link Fleet} with a stand-in cloud: plan offline, up's launch/resume/grow/shrink bookkeeping, teardown. */
class FleetTest {

    @TempDir
    Path dir;
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final RecordingCloud.State cloud = new RecordingCloud.State();

    Wiring wiring(Prompt prompt, int sshPort) {
        CidrDetector noDetect = () -> {
            throw new AssertionError("tests never detect a public address");
        };
        CredentialsCheck noNetwork = spec -> { };
        return new Wiring((spec, rec) -> new RecordingCloud(cloud, rec), noNetwork, noDetect, prompt,
                org.workshopfleet.provision.ProvisionListener.NONE,
                Clock.systemUTC(), LoopbackSshd.user(), sshPort, MachineLayout.STANDARD, Duration.ofSeconds(2),
                Duration.ofSeconds(5));
    }

    WorkshopSpec spec(int count, Provider provider) {
        return WorkshopSpec.defaults(count, provider).withStateRoot(dir.resolve("workshops")).withCidr(Cidr.parse("203.0.113.7/32"));
    }

    Fleet fleet(WorkshopSpec spec, Prompt prompt, int sshPort) {
        return new Fleet(spec, Path.of("").toAbsolutePath(), wiring(prompt, sshPort),
                new PrintStream(out, true, StandardCharsets.UTF_8));
    }

    String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void planWritesEveryMachinesFilesAndTheCloudCallsWithoutNetworkOrCredentials() throws IOException {
        // The cloud factory and credential check must never be used by plan.
        Wiring noCloud = new Wiring((s, r) -> {
            throw new AssertionError("plan must not create a cloud");
        }, s -> {
            throw new AssertionError("plan must not need credentials");
        }, () -> {
            throw new AssertionError("plan must not detect an address");
        }, null, ProvisionListener.NONE, Clock.systemUTC(), "ubuntu", 22, MachineLayout.STANDARD, Duration.ofSeconds(1),
                Duration.ofSeconds(1));
        WorkshopSpec spec = WorkshopSpec.defaults(3, Provider.EC2).withStateRoot(dir.resolve("workshops"));
        Fleet fleet = new Fleet(spec, Path.of("").toAbsolutePath(), noCloud, new PrintStream(out, true, StandardCharsets.UTF_8));
        assertEquals(0, fleet.plan());

        Path plan = dir.resolve("workshops/ebpf-php/plan");
        for (int n = 1; n <= 3; n++) {
            Path m = plan.resolve(String.format("ebpf-php-%02d", n));
            assertTrue(Files.readString(m.resolve("user-data")).startsWith("#cloud-config"), "user data of " + m);
            assertTrue(Files.isRegularFile(m.resolve("bundle/fleet.env")), "bundle of " + m);
            assertTrue(Files.isRegularFile(m.resolve("steps.txt")));
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(m.resolve("user-data"))));
        }
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(plan)));
        String calls = Files.readString(plan.resolve("cloud-calls.txt"));
        assertTrue(calls.indexOf("ImportKeyPair") < calls.indexOf("RunInstances")
                && calls.lastIndexOf("RunInstances") < calls.indexOf("DescribeInstances: poll"), calls);
        assertEquals(3, calls.lines().filter(l -> l.matches("\\d+\\. RunInstances: .*")).count(), calls);
        assertTrue(calls.contains("ebpf-php-03") && calls.contains("t3.medium"), calls);
        assertTrue(Files.readString(plan.resolve("cost.txt")).contains("$0.163/h for 3 machine(s)"),
                Files.readString(plan.resolve("cost.txt")));
        assertTrue(out().contains("ec2: 3 × t3.medium in ap-northeast-1 (fallback t3a.medium, t2.medium) ≈ $0.163/h (list price, "), out());
        assertTrue(out().contains("; ports 22/80/3000/443 from ") && out().contains("(at most $"), out());
        assertFalse(Files.exists(dir.resolve("workshops/ebpf-php/ledger.json")), "plan launches nothing");

        // Re-running replaces the plan rather than mixing old files in.
        Files.writeString(plan.resolve("stale.txt"), "old");
        assertEquals(0, fleet.plan());
        assertFalse(Files.exists(plan.resolve("stale.txt")));
    }

    @Test
    void upLaunchesRecordsAndReportsFailuresPerMachineThenResumesGrowsShrinksAndTearsDown() throws IOException {
        int closedPort = LoopbackSshd.freePort(); // nothing answers SSH: every machine fails at "ssh", quickly
        assertEquals(1, fleet(spec(2, Provider.LAB), null, closedPort).up(true), out());
        assertEquals(List.of("prepare 203.0.113.7/32", "listNodes", "createNodes [ebpf-php-01, ebpf-php-02]", "awaitRunning 2"),
                cloud.calls);
        assertTrue(cloud.requests.get(0).userData().startsWith("#cloud-config"));
        assertEquals("01", cloud.requests.get(0).tags().get("Attendee"));
        assertTrue(cloud.requests.get(0).tags().containsKey("ExpiresAt"));
        assertTrue(out().contains("ebpf-php-01") && out().contains("FAILED") && out().contains("ssh: no SSH login"), out());
        assertTrue(out().contains("ebpf-php-02 booting (waiting for SSH)") && out().contains("ebpf-php-02 FAILED at ssh"), out());

        Ledger ledger = Ledger.open(new StateFolder(dir.resolve("workshops/ebpf-php")), "ebpf-php", "lab", "x", Clock.systemUTC());
        LedgerData data = ledger.snapshot();
        assertEquals(2, data.machines().size());
        assertEquals(MachinePhase.FAILED, data.machines().get(1).phase());
        assertEquals("ssh", data.machines().get(1).step());
        assertEquals("m-1", data.machines().get(1).cloudId());
        assertEquals("127.0.0.1", data.machines().get(1).publicIp());
        assertEquals(3, ledger.liveResources().size(), "key pair and two machines recorded");
        assertEquals("203.0.113.7/32", ledger.setting(Fleet.SETTING_CIDR));
        String expiry = ledger.setting(Fleet.SETTING_EXPIRES_AT);
        Path secrets = dir.resolve("workshops/ebpf-php/secrets");
        try (Stream<Path> files = Files.list(secrets)) {
            for (Path f : files.toList()) {
                assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)), f.toString());
            }
        }

        // Grow to 3: only the new attendee is launched; expiry is kept.
        cloud.calls.clear();
        fleet(spec(3, Provider.LAB), null, closedPort).up(true);
        assertTrue(cloud.calls.contains("createNodes [ebpf-php-03]"), cloud.calls.toString());
        assertEquals(expiry, Ledger.open(new StateFolder(dir.resolve("workshops/ebpf-php")), "ebpf-php", "lab", "x",
                Clock.systemUTC()).setting(Fleet.SETTING_EXPIRES_AT));

        // Shrink to 1: the surplus is listed and needs confirmation; declining changes nothing.
        cloud.calls.clear();
        out.reset();
        FleetException declined = assertThrows(FleetException.class, () -> fleet(spec(1, Provider.LAB), q -> false, closedPort).up(false));
        assertTrue(declined.getMessage().contains("cancelled"));
        assertTrue(out().contains("would be destroyed: ebpf-php-02, ebpf-php-03"), out());
        assertTrue(cloud.calls.isEmpty(), cloud.calls.toString());
        fleet(spec(1, Provider.LAB), q -> true, closedPort).up(false);
        assertTrue(cloud.calls.contains("destroyNodes [m-2, m-3]"), cloud.calls.toString());
        data = Ledger.open(new StateFolder(dir.resolve("workshops/ebpf-php")), "ebpf-php", "lab", "x", Clock.systemUTC()).snapshot();
        assertEquals(List.of(1), List.copyOf(data.machines().keySet()));
        assertFalse(Files.exists(secrets.resolve("host-02_ed25519")), "a destroyed machine's secrets are forgotten");

        // Teardown twice: everything gone, ledger closed, second run harmless; one line per resource removed.
        for (int i = 0; i < 2; i++) {
            out.reset();
            assertEquals(0, fleet(spec(0, Provider.LAB), null, closedPort).teardown(true));
            if (i == 0) {
                assertTrue(out().contains("  machine ebpf-php-01 (m-1) destroyed\n"), out());
                assertTrue(out().contains("  key pair workshop key (key-1) removed\n"), out());
            } else {
                assertFalse(out().contains("machine ebpf-php-01"), "nothing to destroy the second time: " + out());
            }
            Ledger after = Ledger.open(new StateFolder(dir.resolve("workshops/ebpf-php")), "ebpf-php", "lab", "x", Clock.systemUTC());
            assertTrue(after.snapshot().isClosed());
            assertTrue(after.liveResources().isEmpty(), after.liveResources().toString());
            assertTrue(cloud.machines.isEmpty());
        }
    }

    @Test
    void statusShowsLedgerAndCloudState() throws IOException {
        int closedPort = LoopbackSshd.freePort();
        fleet(spec(1, Provider.LAB), null, closedPort).up(true);
        out.reset();
        assertEquals(0, fleet(spec(0, Provider.LAB), null, closedPort).status());
        assertTrue(out().contains("ebpf-php-01") && out().contains("failed") && out().contains("running"), out());
    }

    @Test
    void teardownNeedsConfirmationWithoutYes() {
        FleetException e = assertThrows(FleetException.class, () -> fleet(spec(0, Provider.LAB), null, 22).teardown(false));
        assertTrue(e.getMessage().contains("-Dyes"));
        assertTrue(cloud.calls.isEmpty());
    }

    @Test
    void allowIpReplacesTheIngressAndRemembersIt() throws IOException {
        int closedPort = LoopbackSshd.freePort();
        fleet(spec(1, Provider.LAB), null, closedPort).up(true);
        cloud.calls.clear();
        WorkshopSpec moved = spec(0, Provider.LAB).withCidr(Cidr.parse("198.51.100.0/24"));
        assertEquals(0, fleet(moved, null, closedPort).allowIp(true));
        assertEquals(List.of("replaceIngress -> 198.51.100.0/24"), cloud.calls);
        assertEquals("198.51.100.0/24", Ledger.open(new StateFolder(dir.resolve("workshops/ebpf-php")), "ebpf-php", "lab", "x",
                Clock.systemUTC()).setting(Fleet.SETTING_CIDR));
        cloud.calls.clear();
        // The same CIDR again still asks the cloud: it may hold rules the ledger does not know (another run's).
        assertEquals(0, fleet(moved, null, closedPort).allowIp(true));
        assertEquals(List.of("replaceIngress -> 198.51.100.0/24"), cloud.calls);
    }

    /**
     * -Daccess=anywhere with named seats: the confirmation line says what is open to the whole internet and what stays
     * on the CIDR, the cloud is asked for 443 as a world rule, up ends with the DNS records of the named machines and
     * records both settings; allow-ip (without -Daccess) moves the CIDR and keeps 443 open to everyone; handout (without
     * -DhostnamePattern) still names the seats.
     */
    @Test
    void accessAnywhereIsSaidKeptByAllowIpAndNamedSeatsGetTheirDnsRecords() throws IOException {
        int closedPort = LoopbackSshd.freePort();
        // The facilitator's own certificate: a real one naming the first seat (enough for the pre-check).
        org.workshopfleet.tls.TlsMaterial given = org.workshopfleet.tls.TlsMaterial.selfSigned("seat01.example.org",
                Duration.ofDays(2));
        Path cert = Files.writeString(dir.resolve("cert.pem"), given.certificatePem());
        Path key = Files.writeString(dir.resolve("key.pem"), given.keyPem());
        WebEntry web = new WebEntry(WebEntry.Access.ANYWHERE, cert, key, "seat{n}.example.org");
        assertEquals(1, fleet(spec(2, Provider.EC2).withWeb(web), null, closedPort).up(true), out());

        assertTrue(out().contains("; 443 (HTTPS: browser terminal and Grafana) open to the whole internet,"
                + " password-protected; 22/80/3000 only from 203.0.113.7/32"), out());
        assertEquals(List.of(443), cloud.ingressContexts.get(0).ingress().stream().filter(IngressRule::world)
                .map(IngressRule::port).toList());
        assertTrue(out().contains("; DNS records to create (zone-file form, TTL 300 s), one per machine:\n"
                + "seat01.example.org. 300 IN A 127.0.0.1\nseat02.example.org. 300 IN A 127.0.0.1\n"), out());
        Ledger ledger = Ledger.open(new StateFolder(dir.resolve("workshops/ebpf-php")), "ebpf-php", "ec2", "x",
                Clock.systemUTC());
        assertEquals("anywhere", ledger.setting("access"));
        assertEquals("seat{n}.example.org", ledger.setting("hostnamePattern"));
        assertEquals(cert.toAbsolutePath().toString(), ledger.setting("tlsCert"), "replace and heal serve it too");
        for (MachineRecord r : ledger.snapshot().machines().values()) {
            assertEquals(given.sha256(), r.tlsSha256(), r.name() + " serves the given certificate, and its card says so");
        }
        Path page = dir.resolve("workshops/ebpf-php/handout/index.html");
        assertTrue(Files.readString(page).contains("https://seat02.example.org/terminal/"));

        cloud.ingressContexts.clear();
        out.reset();
        WorkshopSpec moved = spec(0, Provider.EC2).withCidr(Cidr.parse("198.51.100.0/24"));
        assertEquals(0, fleet(moved, null, closedPort).allowIp(true));
        LaunchContext replaced = cloud.ingressContexts.get(0);
        assertEquals("198.51.100.0/24", replaced.cidr().toString());
        assertEquals(List.of(443), replaced.ingress().stream().filter(IngressRule::world).map(IngressRule::port).toList());
        assertTrue(out().contains("ingress now admits 198.51.100.0/24 only on 22/80/3000; 443 stays open to every"
                + " address (-Daccess=anywhere)"), out());

        Files.delete(page);
        assertEquals(0, fleet(spec(0, Provider.EC2), null, closedPort).handout());
        assertTrue(Files.readString(page).contains("https://seat01.example.org/terminal/"), "the ledger's names");
    }

    /** Without -Daccess=anywhere 443 follows the CIDR, and without -DhostnamePattern up prints no DNS records. */
    @Test
    void byDefault443FollowsTheCidrAndNoDnsRecordsArePrinted() throws IOException {
        fleet(spec(1, Provider.EC2), null, LoopbackSshd.freePort()).up(true);
        assertTrue(cloud.ingressContexts.get(0).ingress().stream().noneMatch(IngressRule::world));
        assertTrue(cloud.ingressContexts.get(0).ingress().stream().anyMatch(r -> r.port() == 443));
        assertFalse(out().contains("DNS records") || out().contains(" IN A "), out());
        assertTrue(out().contains("; ports 22/80/3000/443 from 203.0.113.7/32"), out());
    }

    /** plan with -Daccess=anywhere: the cloud calls name both sources per cloud, and the line says what is exposed. */
    @Test
    void planWithAccessAnywhereListsTheWorldRuleForEachCloud() throws IOException {
        WebEntry anywhere = new WebEntry(WebEntry.Access.ANYWHERE, null, null, null);
        assertEquals(0, fleet(spec(2, Provider.EC2).withWeb(anywhere), null, 22).plan());
        String ec2 = Files.readString(dir.resolve("workshops/ebpf-php/plan/cloud-calls.txt"));
        assertTrue(ec2.contains("AuthorizeSecurityGroupIngress: tcp/22, tcp/80, tcp/3000 from 203.0.113.7/32 only;"
                + " tcp/443 from 0.0.0.0/0 and ::/0 (every address)"), ec2);
        assertTrue(out().contains("; 443 (HTTPS: browser terminal and Grafana) open to the whole internet,"
                + " password-protected; 22/80/3000 only from 203.0.113.7/32"), out());

        assertEquals(0, fleet(spec(2, Provider.LIGHTSAIL).withWeb(anywhere), null, 22).plan());
        String lightsail = Files.readString(dir.resolve("workshops/ebpf-php/plan/cloud-calls.txt"));
        assertTrue(lightsail.contains("PutInstancePublicPorts: ebpf-php-02: tcp/22, tcp/80, tcp/3000 from"
                + " 203.0.113.7/32 only; tcp/443 from 0.0.0.0/0 (every address)"), lightsail);
    }
}
