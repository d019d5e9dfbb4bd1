package org.workshopfleet.security;

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
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.workshopfleet.command.CloudFactory;
import org.workshopfleet.cli.Main;
import org.workshopfleet.command.Wiring;
import org.workshopfleet.cloud.ec2.AmiCatalog;
import org.workshopfleet.cloud.ec2.Ec2Cloud;
import org.workshopfleet.concurrent.Waiter;
import org.workshopfleet.cloud.ec2.fake.Ec2Fake;
import org.workshopfleet.cloud.ec2.fake.RecordedCall;
import org.workshopfleet.faults.LoopbackInstances;
import org.workshopfleet.faults.TinyWorkshop;
import org.workshopfleet.provision.MachineLayout;
import org.workshopfleet.provision.ProvisionListener;
import org.workshopfleet.provision.TestMachines;
import org.workshopfleet.ssh.LoopbackSshd;
import org.workshopfleet.state.Secrets;
import org.workshopfleet.state.StateFolder;
import software.amazon.awssdk.services.ec2.Ec2Client;

/**
 * The security checks at the level of the command: {@code plan}, {@code up} (a failing step and a dropped SSH
 * connection, then a re-run), {@code verify}, {@code handout}, {@code allow-ip} and {@code teardown} through
 * {@link Main#run}, against an {@link Ec2Fake} whose instances are real loopback SSH machines. Everything the run
 * wrote (stdout, stderr, library logging on System.err, every file of the state folder, every request the cloud
 * received) is scanned for every secret the workshop holds; only the secrets folder, the handout and the plan folder
 * may hold them. Also: private file modes, git-ignore, ingress never wider than asked, IMDSv2 on every launch, and a
 * machine presenting a host key other than the pinned one.
 */
class SecretsNeverLeakTest {

    static final String CIDR = "203.0.113.7/32";
    static final String LATER_CIDR = "198.51.100.0/24";

    @TempDir
    Path dir;
    Ec2Fake fake;
    LoopbackInstances machines;
    final TinyWorkshop tiny = new TinyWorkshop();
    final List<Ec2Client> clients = new ArrayList<>();
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final ByteArrayOutputStream err = new ByteArrayOutputStream();
    final ByteArrayOutputStream systemErr = new ByteArrayOutputStream();
    PrintStream realErr;
    int port;
    Path project;
    Path stateDir;

    @BeforeEach
    void start() throws IOException {
        LoopbackSshd.assumeAvailable();
        port = LoopbackSshd.freePort();
        stateDir = dir.resolve("workshops/ebpf-php");
        project = dir.resolve("project");
        Files.createDirectories(project.resolve("security-groups"));
        Files.copy(Path.of("security-groups/workshop.json"), project.resolve("security-groups/workshop.json"));
        fake = Ec2Fake.start();
        machines = new LoopbackInstances(dir.resolve("machines"), port,
                new Secrets(new StateFolder(stateDir), "ebpf-php").loginKey());
        fake.backend(machines);
        // Library logging (sshj, the AWS SDK) goes to System.err: capture it as well.
        realErr = System.err;
        System.setErr(new PrintStream(new TeeStream(systemErr, realErr), true, StandardCharsets.UTF_8));
    }

    @AfterEach
    void stop() {
        if (realErr != null) {
            System.setErr(realErr);
        }
        if (machines != null) {
            machines.close();
        }
        clients.forEach(Ec2Client::close);
        if (fake != null) {
            fake.close();
        }
    }

    int run(String... kv) {
        Map<String, String> props = new HashMap<>(Map.of("count", "2", "cidr", CIDR, "yes", "",
                "stateDir", dir.resolve("workshops").toString(), "projectRoot", project.toString()));
        for (String s : kv) {
            int eq = s.indexOf('=');
            props.put(s.substring(0, eq), s.substring(eq + 1));
        }
        CloudFactory clouds = (spec, recorder) -> {
            Ec2Client client = fake.client();
            clients.add(client);
            return new Ec2Cloud(client, Ec2Cloud.config(spec), recorder, AmiCatalog.load(Path.of("ami.properties")), Waiter.fast());
        };
        Wiring wiring = new Wiring(clouds, s -> { }, () -> {
            throw new AssertionError("no address detection in tests");
        }, null, ProvisionListener.NONE, Clock.systemUTC(), LoopbackSshd.user(), port, MachineLayout.STANDARD,
                Duration.ofSeconds(15), Duration.ofSeconds(30), root -> tiny);
        return Main.run(props, Map.of(), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), wiring);
    }

    @Test
    void noSecretOutsideTheSecretsHandoutAndPlanFolders() throws IOException {
        assertEquals(0, run("action=plan"), out.toString(StandardCharsets.UTF_8));
        tiny.failing.add(2);
        tiny.dropping.add(1);
        assertEquals(1, run("action=up"), out.toString(StandardCharsets.UTF_8));
        tiny.failing.clear();
        assertEquals(0, run("action=up"), out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8));
        assertEquals(1, run("action=verify"), "the loopback machines have no workshop software: checks fail, with details");
        assertEquals(0, run("action=handout"));
        assertEquals(0, run("action=allow-ip", "cidr=" + LATER_CIDR));
        Map<String, String> secrets = secrets();
        assertEquals(0, run("action=teardown"));
        String stdout = out.toString(StandardCharsets.UTF_8);
        assertTrue(stdout.contains("FAILED") && stdout.contains("all 2 machine(s) ready"), "the flow ran: " + stdout);

        List<String> leaks = new ArrayList<>();
        scan("stdout", stdout, secrets, leaks);
        scan("stderr", err.toString(StandardCharsets.UTF_8), secrets, leaks);
        scan("System.err (library logging)", systemErr.toString(StandardCharsets.UTF_8), secrets, leaks);
        int scanned = 0;
        try (Stream<Path> walk = Files.walk(stateDir)) {
            for (Path p : walk.filter(Files::isRegularFile).toList()) {
                Path rel = stateDir.relativize(p);
                String top = rel.getName(0).toString();
                if (top.equals("secrets") || top.equals("handout") || top.equals("plan")) {
                    continue;
                }
                scan(rel.toString(), Files.readString(p, StandardCharsets.ISO_8859_1), secrets, leaks);
                scanned++;
            }
        }
        for (RecordedCall c : fake.calls()) {
            Map<String, String> params = new LinkedHashMap<>(c.params());
            params.remove("UserData"); // by design, user data carries the machine its own host key, which the tool pins
            scan("EC2 request " + c.operation(), params.toString(), secrets, leaks);
        }
        assertEquals(List.of(), leaks, "secrets found outside secrets/, handout/, plan/");
        assertTrue(scanned >= 3, "ledger and logs were scanned: " + scanned);
        assertTrue(Files.readString(stateDir.resolve("logs/ebpf-php-02.log")).contains("step 03 fails on purpose"),
                "the logs that were scanned are the real ones");
    }

    @Test
    void stateIsPrivateAndGitIgnored() throws IOException {
        assertEquals(0, run("action=plan"));
        assertEquals(0, run("action=up"), out.toString(StandardCharsets.UTF_8));
        assertEquals(0, run("action=handout"));
        List<String> open = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(stateDir)) {
            for (Path p : walk.toList()) {
                Set<PosixFilePermission> perms = Files.getPosixFilePermissions(p);
                String mode = PosixFilePermissions.toString(perms);
                boolean gitignore = p.getFileName().toString().equals(".gitignore");
                if (Files.isDirectory(p) ? !mode.equals("rwx------") : !gitignore && !mode.equals("rw-------")) {
                    open.add(stateDir.relativize(p) + " " + mode);
                }
            }
        }
        assertEquals(List.of(), open, "state files 0600, folders 0700");
        assertEquals("*", Files.readString(stateDir.resolve(".gitignore")).trim(), "the state folder ignores itself");
        assertTrue(Files.readAllLines(Path.of(".gitignore")).contains("workshops/"), "the repository ignores workshops/");
        assertEquals(0, run("action=teardown"));
    }

    @Test
    void ingressNeverWiderThanAskedAndImdsV2OnEveryLaunch() {
        assertEquals(0, run("action=up"), out.toString(StandardCharsets.UTF_8));
        assertEquals(0, run("action=up", "count=3"), out.toString(StandardCharsets.UTF_8));
        String group = "workshop-fleet-ebpf-php";
        assertEquals(List.of("tcp 22-22 " + CIDR, "tcp 3000-3000 " + CIDR, "tcp 443-443 " + CIDR, "tcp 80-80 " + CIDR),
                fake.ingress(group).stream().sorted().toList());
        assertEquals(0, run("action=allow-ip", "cidr=" + LATER_CIDR));
        assertEquals(List.of("tcp 22-22 " + LATER_CIDR, "tcp 3000-3000 " + LATER_CIDR, "tcp 443-443 " + LATER_CIDR,
                "tcp 80-80 " + LATER_CIDR),
                fake.ingress(group).stream().sorted().toList());
        for (RecordedCall c : fake.calls("AuthorizeSecurityGroupIngress")) {
            c.params().forEach((k, v) -> {
                if (k.endsWith("CidrIp")) {
                    assertTrue(v.equals(CIDR) || v.equals(LATER_CIDR), "ingress only from what was asked: " + k + "=" + v);
                }
                if (k.endsWith("CidrIpv6")) {
                    throw new AssertionError("no IPv6 ingress was asked for: " + k + "=" + v);
                }
            });
        }
        List<RecordedCall> launches = fake.calls("RunInstances");
        assertEquals(3, launches.stream().filter(c -> !c.failed()).count());
        for (RecordedCall c : launches) {
            assertEquals("required", c.param("MetadataOptions.HttpTokens"), "IMDSv2 on " + c.params().keySet());
        }
        fake.instances().forEach(i -> assertEquals("required", i.httpTokens(), i.id()));
        assertEquals(0, run("action=teardown"));
    }

    @Test
    void aMachinePresentingAnotherHostKeyFailsAloneAndIsNotTouched() throws IOException {
        machines.impostors(2);
        assertEquals(1, run("action=up"));
        String text = out.toString(StandardCharsets.UTF_8);
        String row2 = text.lines().filter(l -> l.startsWith("ebpf-php-02 ")).reduce((a, b) -> b).orElse("");
        assertTrue(row2.contains("FAILED") && row2.contains("does not match the pinned key"), text);
        assertTrue(text.lines().anyMatch(l -> l.startsWith("ebpf-php-01 ") && l.contains("ready")), text);
        TestMachines.Box impostor = machines.boxOf(2);
        assertNotNull(impostor);
        assertFalse(Files.exists(impostor.bundleRoot()), "nothing uploaded to the impostor");
        assertEquals(List.of(), impostor.runs(), "no step ran on the impostor");
        assertEquals(List.of("01", "02", "03"), machines.boxOf(1).runs(), "the genuine machine was provisioned");
        assertEquals(0, run("action=teardown"));
    }

    /** Every secret of the workshop, by what it is; keys by each base64 line of their private part. */
    private Map<String, String> secrets() {
        Secrets s = new Secrets(new StateFolder(stateDir), "ebpf-php");
        Map<String, String> out = new LinkedHashMap<>();
        addKey(out, "login private key", s.loginKey().privateKeyOpenSsh());
        for (int n = 1; n <= 2; n++) {
            addKey(out, "host private key " + n, s.hostKey(n).privateKeyOpenSsh());
            out.put("grafana password " + n, s.grafanaPassword(n));
            out.put("ssh password " + n, s.sshPassword(n));
        }
        out.put("AWS secret key", "fake-secret-for-the-ec2-stand-in");
        return out;
    }

    private static void addKey(Map<String, String> out, String what, String pem) {
        int i = 0;
        for (String line : pem.split("\n")) {
            if (!line.startsWith("-----") && line.length() >= 20) {
                out.put(what + " line " + (++i), line.trim());
            }
        }
    }

    private static void scan(String where, String text, Map<String, String> secrets, List<String> leaks) {
        secrets.forEach((what, value) -> {
            if (text.contains(value)) {
                leaks.add(what + " in " + where);
            }
        });
    }

    /** Writes to two streams (the captured copy and the real stderr). */
    private static final class TeeStream extends java.io.OutputStream {
        private final java.io.OutputStream a;
        private final java.io.OutputStream b;

        TeeStream(java.io.OutputStream a, java.io.OutputStream b) {
            this.a = a;
            this.b = b;
        }

        @Override
        public synchronized void write(int c) throws IOException {
            a.write(c);
            b.write(c);
        }

        @Override
        public synchronized void write(byte[] buf, int off, int len) throws IOException {
            a.write(buf, off, len);
            b.write(buf, off, len);
        }
    }
}
