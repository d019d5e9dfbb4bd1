package org.workshopfleet.provision;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.workshopfleet.cloud.FakeHttpServer;
import org.workshopfleet.grafana.FakeGrafana;
import org.workshopfleet.grafana.GrafanaClient;
import org.workshopfleet.report.Handout;
import org.workshopfleet.spec.OsProfile;
import org.workshopfleet.ssh.LoopbackSshd;
import org.workshopfleet.ssh.SshKeyPair;
import org.workshopfleet.ssh.SshLogin;

/** {@link Verifier} on a loopback "machine" where only some of the workshop's pieces exist. */
class VerifierTest {

    static final Path DASHBOARD = Path.of("src/test/resources/dashboards/test-dashboard.json");

    @TempDir
    Path dir;

    @Test
    void parsesCheckLines() {
        List<Verifier.Check> checks = Verifier.parse("noise\nCHECK bpftool ok bpftool v7.1.0\nCHECK phpinfo fail curl: (7) refused\nCHECK x ok\n");
        assertEquals(List.of(new Verifier.Check("bpftool", true, "bpftool v7.1.0"),
                new Verifier.Check("phpinfo", false, "curl: (7) refused"), new Verifier.Check("x", true, "")), checks);
    }

    @Test
    void reportsEachCheckOnARealMachine() throws Exception {
        LoopbackSshd.assumeAvailable();
        SshKeyPair login = SshKeyPair.generate("login");
        TestMachines.Box box = TestMachines.start(dir.resolve("m1"), login, "done");
        Path bin = dir.resolve("m1/bin");
        // Stand-ins for two tools, so the matrix has passes and failures.
        for (String tool : new String[] {"bpftool", "ebpf_exporter"}) {
            Files.writeString(bin.resolve(tool), "#!/bin/sh\necho '" + tool + " v9.9 (stand-in)'\n");
            Files.setPosixFilePermissions(bin.resolve(tool), PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        try (LoopbackSshd sshd = box.sshd(); FakeGrafana grafana = new FakeGrafana("gpw", 0, 0);
             FakePrometheus prometheus = new FakePrometheus(Map.of("rate(x", SERIES, "up", SERIES))) {
            grafana.datasourceUrl(prometheus.endpoint());
            new GrafanaClient(URI.create("http://127.0.0.1:" + grafana.port()), "gpw", Duration.ofMillis(10))
                    .installDashboards(List.of(DASHBOARD), Duration.ofSeconds(5));
            MachineLayout layout = new MachineLayout("/opt/workshop-fleet", "/var/lib/workshop-fleet", grafana.port(),
                    "true");
            Verifier v = new Verifier(new SshLogin(LoopbackSshd.user(), login), layout, List.of(DASHBOARD),
                    Duration.ofSeconds(10), LoopbackSshd.user(), sha256(bin.resolve("ebpf_exporter")), OsProfile.DEBIAN_12);
            Map<String, Verifier.Check> checks = v.verify(new Verifier.Target("m1", box.sshd().target(), "gpw", "not-the-password"))
                    .stream().collect(Collectors.toMap(Verifier.Check::name, c -> c));
            assertTrue(checks.get("ssh").ok());
            assertTrue(checks.get("bpftool").ok(), checks.toString());
            assertTrue(checks.get("ebpf_exporter").ok() && checks.get("ebpf_exporter").detail().contains("v9.9"));
            assertTrue(checks.get("grafana_dashboard").ok(), checks.get("grafana_dashboard").toString());
            assertEquals(new Verifier.Check("grafana_panels", true, "2 panels return data"), checks.get("grafana_panels"));
            assertEquals(new Verifier.Check("grafana_login", true, "admin logs in to Grafana with the card's password"),
                    checks.get("grafana_login"));
            assertFalse(checks.get("phpinfo").ok());
            assertFalse(checks.get("prometheus_ready").ok());
            assertFalse(checks.get("exporter_branch").ok());
            assertFalse(checks.get("attendee_login").ok(), "the sshd refuses passwords");
            for (String name : new String[] {"apache_dtrace", "mem_php", "bpftrace", "prometheus_ebpf_target", "grafana_health",
                    "terminal_https", "grafana_https"}) {
                assertTrue(checks.containsKey(name), name + " missing from " + checks.keySet());
            }
            // The deep rows: the OS profile's PHP module reaches the script; each row fails with its reason here.
            assertEquals(new Verifier.Check("usdt_probes", false, OsProfile.DEBIAN_12.phpModulePath()
                    + " does not exist (is libapache2-mod-php installed?)"), checks.get("usdt_probes"));
            assertFalse(checks.get("usdt_fires").ok());
            assertTrue(checks.get("attendee_make").detail().endsWith("/ebpf_exporter/examples does not exist"),
                    checks.get("attendee_make").toString());
            assertEquals("not run: the attendee's build failed (attendee_make)", checks.get("exporter_php").detail());
            assertFalse(checks.get("prometheus_php").ok());
            assertFalse(checks.toString().contains("not-the-password") || checks.toString().contains("gpw"), "no secret in details");
        }
    }

    @Test
    void namesTheEmptyPanelsAndARefusedGrafanaPassword() throws Exception {
        LoopbackSshd.assumeAvailable();
        SshKeyPair login = SshKeyPair.generate("login");
        TestMachines.Box box = TestMachines.start(dir.resolve("m1"), login, "done");
        try (LoopbackSshd sshd = box.sshd(); FakeGrafana grafana = new FakeGrafana("gpw", 0, 0);
             FakePrometheus prometheus = new FakePrometheus(Map.of("up", SERIES))) {
            grafana.datasourceUrl(prometheus.endpoint());
            new GrafanaClient(URI.create("http://127.0.0.1:" + grafana.port()), "gpw", Duration.ofMillis(10))
                    .installDashboards(List.of(DASHBOARD), Duration.ofSeconds(5));
            MachineLayout layout = new MachineLayout("/opt/workshop-fleet", "/var/lib/workshop-fleet", grafana.port(),
                    "true");
            Verifier v = new Verifier(new SshLogin(LoopbackSshd.user(), login), layout, List.of(DASHBOARD),
                    Duration.ofSeconds(10), LoopbackSshd.user(), "", OsProfile.DEBIAN_12);
            Map<String, Verifier.Check> checks = v.verify(new Verifier.Target("m1", box.sshd().target(), "gpw", null))
                    .stream().collect(Collectors.toMap(Verifier.Check::name, c -> c));
            assertEquals(new Verifier.Check("grafana_panels", false, "1 of 2 panels return no data: 'Requests' (no data)"),
                    checks.get("grafana_panels"));
            assertTrue(checks.get("grafana_login").ok());

            Map<String, Verifier.Check> wrong = v.verify(new Verifier.Target("m1", box.sshd().target(), "not-gpw", null))
                    .stream().collect(Collectors.toMap(Verifier.Check::name, c -> c));
            assertEquals(new Verifier.Check("grafana_login", false, "Grafana refuses the card's password for admin (HTTP 401)"),
                    wrong.get("grafana_login"));
            assertFalse(wrong.get("grafana_panels").ok());
            assertFalse(wrong.toString().contains("not-gpw"), "no secret in details");
        }
    }

    @Test
    void emptyPanelsGetASecondLookOneStepLater() throws Exception {
        LoopbackSshd.assumeAvailable();
        SshKeyPair login = SshKeyPair.generate("login");
        TestMachines.Box box = TestMachines.start(dir.resolve("m1"), login, "done");
        java.util.concurrent.atomic.AtomicLong firstAsked = new java.util.concurrent.atomic.AtomicLong();
        // Data only from 10 s after the first query on: the second look, a step later, finds it.
        try (LoopbackSshd sshd = box.sshd(); FakeGrafana grafana = new FakeGrafana("gpw", 0, 0);
             FakePrometheus prometheus = new FakePrometheus(form -> {
                 firstAsked.compareAndSet(0, System.nanoTime());
                 return System.nanoTime() - firstAsked.get() > 10_000_000_000L ? SERIES : "[]";
             })) {
            grafana.datasourceUrl(prometheus.endpoint());
            new GrafanaClient(URI.create("http://127.0.0.1:" + grafana.port()), "gpw", Duration.ofMillis(10))
                    .installDashboards(List.of(DASHBOARD), Duration.ofSeconds(5));
            MachineLayout layout = new MachineLayout("/opt/workshop-fleet", "/var/lib/workshop-fleet", grafana.port(),
                    "true");
            Verifier v = new Verifier(new SshLogin(LoopbackSshd.user(), login), layout, List.of(DASHBOARD),
                    Duration.ofSeconds(10), LoopbackSshd.user(), "", OsProfile.DEBIAN_12);
            Verifier.Check panels = v.verify(new Verifier.Target("m1", box.sshd().target(), "gpw", null)).stream()
                    .filter(c -> c.name().equals("grafana_panels")).findFirst().orElseThrow();
            assertEquals(new Verifier.Check("grafana_panels", true, "2 panels return data"), panels);
        }
    }

    @Test
    void theCardsGrafanaUserIsTheOneVerifyLogsInAs() {
        assertEquals(Handout.GRAFANA_USER, GrafanaClient.ADMIN_USER);
    }

    /** A Prometheus range/instant query API on loopback answering by expression, the same series for every match. */
    private static final class FakePrometheus implements AutoCloseable {
        private final FakeHttpServer server;

        FakePrometheus(Map<String, String> resultsByExprPart) {
            this(form -> resultsByExprPart.entrySet().stream().filter(e -> form.contains("query=" + e.getKey()))
                    .map(Map.Entry::getValue).findFirst().orElse("[]"));
        }

        /** @param answer the result array for a query's decoded form */
        FakePrometheus(java.util.function.Function<String, String> answer) {
            server = FakeHttpServer.start("fake-prometheus", 2, ex -> {
                String form = java.net.URLDecoder.decode(new String(ex.getRequestBody().readAllBytes(),
                        java.nio.charset.StandardCharsets.UTF_8), java.nio.charset.StandardCharsets.UTF_8);
                String result = answer.apply(form);
                FakeHttpServer.reply(ex, 200, Map.of("Content-Type", "application/json"),
                        ("{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":" + result + "}}")
                                .getBytes(java.nio.charset.StandardCharsets.UTF_8));
            });
        }

        URI endpoint() {
            return server.endpoint();
        }

        @Override
        public void close() {
            server.close();
        }
    }

    private static final String SERIES = "[{\"metric\":{},\"values\":[[1700000000,\"1\"],[1700000015,\"2\"]]}]";

    @Test
    void theExporterRunsOnlyWhenItsHashIsTheRecordedOne() throws Exception {
        LoopbackSshd.assumeAvailable();
        SshKeyPair login = SshKeyPair.generate("login");
        TestMachines.Box box = TestMachines.start(dir.resolve("m1"), login, "done");
        Path exporter = dir.resolve("m1/bin/ebpf_exporter");
        Path ran = dir.resolve("ran");
        // The exporter runs as root: this stand-in leaves a marker whenever anything executes it.
        Files.writeString(exporter, "#!/bin/sh\ntouch '" + ran + "'\necho 'ebpf_exporter, version 2.4.2'\n");
        Files.setPosixFilePermissions(exporter, PosixFilePermissions.fromString("rwxr-xr-x"));
        String recorded = sha256(exporter);
        try (LoopbackSshd sshd = box.sshd(); FakeGrafana grafana = new FakeGrafana("gpw", 0, 0)) {
            MachineLayout layout = new MachineLayout("/opt/workshop-fleet", "/var/lib/workshop-fleet", grafana.port(),
                    "true");
            Verifier.Check none = exporterCheck(login, layout, box, "");
            assertFalse(none.ok());
            assertTrue(none.detail().contains("no recorded SHA-256"), none.detail());
            Verifier.Check other = exporterCheck(login, layout, box, "0".repeat(64));
            assertFalse(other.ok());
            assertTrue(other.detail().contains("has SHA-256 " + recorded + ", not the recorded one: not run"),
                    other.detail());
            assertFalse(Files.exists(ran), "an exporter that does not match was executed");
            Verifier.Check same = exporterCheck(login, layout, box, recorded);
            assertTrue(same.ok() && same.detail().contains("version 2.4.2"), same.toString());
            assertTrue(Files.exists(ran));
        }
    }

    private static Verifier.Check exporterCheck(SshKeyPair login, MachineLayout layout, TestMachines.Box box,
                                                String recorded) {
        Verifier v = new Verifier(new SshLogin(LoopbackSshd.user(), login), layout, List.of(), Duration.ofSeconds(10),
                LoopbackSshd.user(), recorded, OsProfile.DEBIAN_12);
        return v.verify(new Verifier.Target("m1", box.sshd().target(), "gpw", null)).stream()
                .filter(c -> c.name().equals("ebpf_exporter")).findFirst().orElseThrow();
    }

    private static String sha256(Path file) throws Exception {
        return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                .digest(Files.readAllBytes(file)));
    }

    @Test
    void anUnreachableMachineFailsTheSshCheckOnly() throws Exception {
        SshKeyPair login = SshKeyPair.generate("login");
        Verifier v = new Verifier(new SshLogin("ubuntu", login), MachineLayout.STANDARD, List.of(), Duration.ofSeconds(2), "ubuntu",
                "", OsProfile.DEBIAN_12);
        List<Verifier.Check> checks = v.verify(new Verifier.Target("m9",
                new org.workshopfleet.ssh.SshTarget("127.0.0.1", LoopbackSshd.freePort(), login.publicKeyNoComment()), "x", "y"));
        assertEquals(1, checks.size());
        assertEquals("ssh", checks.get(0).name());
        assertFalse(checks.get(0).ok());
    }
}
