package org.workshopfleet.render;

import org.workshopfleet.spec.OsProfile;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The rendered configuration, checked by the programs that will read it (promtool, systemd, sshd, PyYAML). */
class RenderedConfigTest {

    private static final ExternalTool SSHD = new ExternalTool("/usr/sbin/sshd", "openssh-server");

    private final Renderer renderer = new Renderer(Path.of(""));

    private static String text(Bundle b, String path) {
        return new String(b.file(path).orElseThrow(() -> new AssertionError("no " + path)).content(), StandardCharsets.UTF_8);
    }

    @ParameterizedTest
    @EnumSource(OsProfile.class)
    void prometheusConfigPassesPromtoolAndIsTheWorkshops(OsProfile os, @TempDir Path dir) throws IOException {
        String yml = text(renderer.bundle(Machines.model(os)), "files/prometheus/prometheus.yml");
        Path file = dir.resolve("prometheus.yml");
        Files.writeString(file, yml);
        ExternalTool.Result check = ExternalTool.PROMTOOL.run(dir, "check", "config", file.toString());
        assertTrue(check.ok(), check.output());

        JsonNode y = Yaml.parse(yml);
        assertEquals("15s", y.path("global").path("scrape_interval").asText());
        assertEquals("30s", y.path("global").path("evaluation_interval").asText());
        assertEquals(1, y.path("scrape_configs").size());
        JsonNode job = y.path("scrape_configs").get(0);
        assertEquals("ebpf", job.path("job_name").asText());
        assertEquals("localhost:9435", job.path("static_configs").get(0).path("targets").get(0).asText());
        JsonNode relabel = job.path("metric_relabel_configs").get(0);
        assertEquals("drop", relabel.path("action").asText());
        assertEquals("[\"__name__\"]", relabel.path("source_labels").toString());
        assertEquals("^(promhttp_|go_|process_|prometheus_|http_).+$", relabel.path("regex").asText());
    }

    @Test
    void promtoolCatchesABrokenConfig(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("prometheus.yml");
        Files.writeString(file, "global:\n  scrape_interval: 15 seconds\n");
        assertFalse(ExternalTool.PROMTOOL.run(dir, "check", "config", file.toString()).ok());
    }

    @Test
    void prometheusUnitHasExactlyTheWorkshopFlagsAndPassesSystemd(@TempDir Path dir) throws IOException {
        String unit = text(renderer.bundle(Machines.debian()), "files/prometheus/prometheus.service");
        String exec = unit.lines().filter(l -> l.startsWith("ExecStart=")).findFirst().orElseThrow();
        assertEquals(List.of("ExecStart=/usr/local/prometheus/prometheus",
                "--config.file=/usr/local/prometheus/prometheus.yml", "--web.listen-address=127.0.0.1:9090",
                "--storage.tsdb.path=data/",
                "--storage.tsdb.retention.time=40d",
                "--query.timeout=10s", "--web.read-timeout=30s", "--query.lookback-delta=30m",
                "--enable-feature=promql-experimental-functions"), Arrays.asList(exec.split(" ")));
        for (String line : List.of("User=nobody", "WorkingDirectory=/usr/local/prometheus", "After=network-online.target",
                "WantedBy=multi-user.target")) {
            assertTrue(unit.lines().anyMatch(line::equals), line);
        }
        Files.writeString(dir.resolve("prometheus.service"), unit);
        // Expected on a test host: Prometheus is not installed here, and the workshop runs it as nobody.
        SystemdVerify.assertClean(dir, List.of("prometheus.service"), List.of(
                "Command /usr/local/prometheus/prometheus is not executable: No such file or directory",
                "Special user nobody configured"));
    }

    @ParameterizedTest
    @EnumSource(OsProfile.class)
    void dropInsPassSystemd(OsProfile os, @TempDir Path dir) throws IOException {
        Bundle b = renderer.bundle(Machines.model(os));
        // Stand-in base units: the real ones come with the apache2 and grafana packages, not installed on test hosts.
        Files.writeString(dir.resolve("apache2.service"),
                "[Unit]\nDescription=stand-in\n[Service]\nType=forking\nExecStart=/bin/true\n");
        Files.writeString(dir.resolve("grafana-server.service"),
                "[Unit]\nDescription=stand-in\n[Service]\nType=simple\nExecStart=/bin/true\n");
        Files.createDirectories(dir.resolve("apache2.service.d"));
        Files.createDirectories(dir.resolve("grafana-server.service.d"));
        String apache = text(b, "files/apache2/workshop-fleet.conf");
        Files.writeString(dir.resolve("apache2.service.d/workshop-fleet.conf"), apache);
        Files.writeString(dir.resolve("grafana-server.service.d/10-workshop-fleet.conf"),
                text(b, "files/grafana/10-workshop-fleet.conf"));
        // EnvironmentFile= must exist for verify to be meaningful about its path; point at the rendered one.
        SystemdVerify.assertClean(dir, List.of("apache2.service", "grafana-server.service"), List.of());

        assertTrue(apache.contains("[Service]\nEnvironment=APACHE_STARTED_BY_SYSTEMD=true USE_ZEND_DTRACE=1\n"), apache);
        String grafana = text(b, "files/grafana/10-workshop-fleet.conf");
        assertTrue(grafana.contains("[Service]\nEnvironmentFile=/etc/grafana/workshop-fleet.env\n"), grafana);
        assertEquals("GF_SECURITY_ADMIN_PASSWORD=GrafanaPw2345abcd\n", text(b, "files/grafana/workshop-fleet.env"));
        assertEquals(0600, b.file("files/grafana/workshop-fleet.env").orElseThrow().mode());
    }

    @Test
    void systemdVerifyCatchesAMistake(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("x.service"), "[Unit]\nDescription=x\n[Service]\nExecStart=/bin/true\nEnviroment=A=1\n");
        assertThrows(AssertionError.class, () -> SystemdVerify.assertClean(dir, List.of("x.service"), List.of()));
    }

    @Test
    void datasourceIsTheContractedOne() {
        JsonNode y = Yaml.parse(text(renderer.bundle(Machines.debian()), "files/grafana/datasource.yaml"));
        assertEquals(1, y.path("apiVersion").asInt());
        JsonNode ds = y.path("datasources").get(0);
        assertEquals("Prometheus", ds.path("name").asText());
        assertEquals("prometheus", ds.path("type").asText());
        assertEquals("prometheus", ds.path("uid").asText());
        // Prometheus listens on 127.0.0.1 only: "localhost" may resolve to ::1, where nothing answers.
        assertEquals("http://127.0.0.1:9090", ds.path("url").asText());
        assertTrue(ds.path("isDefault").asBoolean());
        assertEquals(1, y.path("datasources").size());
    }

    @Test
    void passwordLoginIsForUbuntuOnlyEvenAfterUbuntusCloudImageSettings(@TempDir Path dir) throws IOException {
        Bundle b = renderer.bundle(Machines.ubuntu());
        assertEquals("ubuntu:SshPw2345abcdefg\n", text(b, "files/login/ubuntu.chpasswd"));
        assertEquals(0600, b.file("files/login/ubuntu.chpasswd").orElseThrow().mode());
        Path dropDir = Files.createDirectories(dir.resolve("sshd_config.d"));
        Files.writeString(dropDir.resolve("50-workshop-fleet-login.conf"), text(b, "files/login/sshd-login.conf"));
        // Ubuntu's cloud images turn password logins off in 60-cloudimg-settings.conf, read after ours.
        Files.writeString(dropDir.resolve("60-cloudimg-settings.conf"), "PasswordAuthentication no\n");
        Path main = dir.resolve("sshd_config");
        Files.writeString(main, "Include " + dropDir + "/*.conf\nKbdInteractiveAuthentication no\nUsePAM yes\n");
        Path hostKey = dir.resolve("host_ed25519");
        Files.writeString(hostKey, Machines.HOST_KEY.privateKeyOpenSsh());
        Files.setPosixFilePermissions(hostKey, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        assertEquals("yes", sshdSetting(main, hostKey, "ubuntu", "passwordauthentication"));
        assertEquals("no", sshdSetting(main, hostKey, "admin", "passwordauthentication"));
        assertEquals("no", sshdSetting(main, hostKey, "admin", "kbdinteractiveauthentication"),
                "settings after our drop-in must not be scoped to its Match block");
    }

    private static String sshdSetting(Path config, Path hostKey, String user, String key) {
        ExternalTool.Result r = SSHD.run(null, null, Map.of(), "-T", "-f", config.toString(), "-h", hostKey.toString(),
                "-C", "user=" + user + ",host=attendee.example,addr=192.0.2.10");
        assertTrue(r.ok(), r.output());
        return r.output().lines().filter(l -> l.startsWith(key + " ")).map(l -> l.substring(key.length() + 1))
                .findFirst().orElseThrow(() -> new AssertionError("sshd -T printed no " + key));
    }
}
