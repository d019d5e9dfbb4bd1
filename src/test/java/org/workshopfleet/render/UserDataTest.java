package org.workshopfleet.render;

import org.workshopfleet.error.FleetException;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.workshopfleet.cloud.UserDataFormat;
import org.workshopfleet.ssh.SshKeyPair;

class UserDataTest {

    private final Renderer renderer = new Renderer(Path.of(""));

    @Test
    void cloudConfigIsWhatCloudInitNeeds() {
        MachineModel m = Machines.ubuntu();
        String text = renderer.userData(m, UserDataFormat.CLOUD_CONFIG);
        assertTrue(text.startsWith("#cloud-config\n"));
        assertTrue(text.getBytes(StandardCharsets.UTF_8).length < Renderer.USER_DATA_LIMIT);
        JsonNode y = Yaml.parse(text);

        assertEquals(m.hostname(), y.path("hostname").asText());
        SshKeyPair delivered = SshKeyPair.parsePrivateKey(y.path("ssh_keys").path("ed25519_private").asText());
        assertEquals(Machines.HOST_KEY.fingerprint(), delivered.fingerprint(), "pinned host key");
        assertEquals(Machines.HOST_KEY.publicKeyLine(), y.path("ssh_keys").path("ed25519_public").asText());

        JsonNode users = y.path("users");
        assertEquals("default", users.get(0).asText(), "default first, or cloud-init does not create ubuntu");
        JsonNode ubuntu = users.get(1);
        assertEquals("ubuntu", ubuntu.path("name").asText());
        assertEquals("ALL=(ALL) NOPASSWD:ALL", ubuntu.path("sudo").asText());
        assertEquals("/bin/bash", ubuntu.path("shell").asText());
        assertEquals(Machines.LOGIN_KEY.publicKeyLine(), ubuntu.path("ssh_authorized_keys").get(0).asText());

        Map<String, String> files = writeFiles(y);
        String timer = files.get("/etc/systemd/system/workshop-fleet-expiry.timer");
        assertTrue(timer.contains("\nOnCalendar=2026-11-26 04:30:00 UTC\n"), timer);
        assertTrue(files.get("/etc/systemd/system/workshop-fleet-expiry.service")
                .contains("\nExecStart=/usr/bin/systemctl --no-block poweroff\n"));
        assertTrue(y.path("runcmd").toString().contains("\"enable\",\"--now\",\"workshop-fleet-expiry.timer\""),
                y.path("runcmd").toString());

        assertFalse(text.contains(m.grafanaPassword()) || text.contains(m.sshPassword()),
                "passwords go in the bundle, not in user data readable from instance metadata");
    }

    @Test
    void expiryUnitsPassSystemdAnalyze(@TempDir Path dir) throws IOException {
        Map<String, String> files = writeFiles(Yaml.parse(renderer.userData(Machines.ubuntu(), UserDataFormat.CLOUD_CONFIG)));
        for (Map.Entry<String, String> f : files.entrySet()) {
            Files.writeString(dir.resolve(Path.of(f.getKey()).getFileName()), f.getValue());
        }
        SystemdVerify.assertClean(dir, List.of("workshop-fleet-expiry.timer", "workshop-fleet-expiry.service"), List.of());
    }

    @Test
    void lightsailScriptDoesTheSameInShell(@TempDir Path dir) throws IOException {
        MachineModel m = Machines.ubuntu();
        String script = renderer.userData(m, UserDataFormat.SHELL_SCRIPT);
        assertTrue(script.startsWith("#!/bin/bash\n"));
        Path file = dir.resolve("launch.sh");
        Files.writeString(file, script);
        ExternalTool.Result syntax = ExternalTool.BASH.run(dir, "-n", file.toString());
        assertTrue(syntax.ok(), syntax.output());
        ExternalTool.Result lint = ExternalTool.SHELLCHECK.run(dir, file.toString());
        assertTrue(lint.ok(), lint.output());

        int begin = script.indexOf("-----BEGIN OPENSSH PRIVATE KEY-----");
        int end = script.indexOf("-----END OPENSSH PRIVATE KEY-----");
        assertTrue(begin > 0 && end > begin, "host key block");
        // privateKeyOpenSsh() has a random check word, so compare the key, not the text.
        assertEquals(Machines.HOST_KEY.fingerprint(),
                SshKeyPair.parsePrivateKey(script.substring(begin, end + 33)).fingerprint(), "pinned host key");
        assertTrue(script.contains("'" + Machines.LOGIN_KEY.publicKeyLine() + "'"));
        assertTrue(script.contains("hostnamectl set-hostname '" + m.hostname() + "'"));
        // The expiry units are the same text as in the cloud-config: shared through templates/cloud-init/expiry.ftl.
        Map<String, String> units = writeFiles(Yaml.parse(renderer.userData(m, UserDataFormat.CLOUD_CONFIG)));
        for (String unit : units.values()) {
            assertTrue(script.contains(unit), "launch script lacks the unit:\n" + unit);
        }
        assertTrue(script.contains("systemctl enable --now workshop-fleet-expiry.timer"));
    }

    @Test
    void oversizedUserDataIsRefusedNamingTheSize(@TempDir Path root) throws IOException {
        ProjectCopy.of(root);
        Path t = root.resolve("templates/cloud-init/user-data.yaml.ftl");
        Files.writeString(t, Files.readString(t) + ("# padding padding padding padding padding\n").repeat(400));
        FleetException e = assertThrows(FleetException.class,
                () -> new Renderer(root).userData(Machines.ubuntu(), UserDataFormat.CLOUD_CONFIG));
        assertTrue(e.getMessage().matches(".*user data for ebpf-php-02 is \\d+ bytes, over EC2's 16384-byte limit: trim"
                + " templates/cloud-init/user-data.yaml.ftl.*"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void missingAndMalformedTemplatesAreOneLineErrors(@TempDir Path root) throws IOException {
        ProjectCopy.of(root);
        Files.delete(root.resolve("templates/cloud-init/launch-script.sh.ftl"));
        FleetException missing = assertThrows(FleetException.class,
                () -> new Renderer(root).userData(Machines.ubuntu(), UserDataFormat.SHELL_SCRIPT));
        assertTrue(missing.getMessage().startsWith("template templates/cloud-init/launch-script.sh.ftl is missing"),
                missing.getMessage());

        Files.writeString(root.resolve("templates/prometheus/prometheus.yml.ftl"), "a: ${machineName\nb: <#if>\n");
        FleetException malformed = assertThrows(FleetException.class, () -> new Renderer(root).bundle(Machines.debian()));
        assertTrue(malformed.getMessage().startsWith("template templates/prometheus/prometheus.yml.ftl is malformed at line"),
                malformed.getMessage());

        Files.writeString(root.resolve("templates/prometheus/prometheus.yml.ftl"), "a: ${noSuchValue}\n");
        FleetException failed = assertThrows(FleetException.class, () -> new Renderer(root).bundle(Machines.debian()));
        assertTrue(failed.getMessage().contains("noSuchValue"), failed.getMessage());
        for (FleetException e : List.of(missing, malformed, failed)) {
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
        }
    }

    @Test
    void noProjectRootIsAOneLineError(@TempDir Path empty) {
        FleetException e = assertThrows(FleetException.class, () -> new Renderer(empty));
        assertTrue(e.getMessage().contains("run from the workshop-fleet project folder"));
    }

    /** cloud-init's write_files as path -> content. */
    static Map<String, String> writeFiles(JsonNode y) {
        Map<String, String> out = new java.util.LinkedHashMap<>();
        List<String> paths = new ArrayList<>();
        for (JsonNode f : y.path("write_files")) {
            paths.add(f.path("path").asText());
            out.put(f.path("path").asText(), f.path("content").asText());
        }
        assertEquals(2, paths.size(), "the expiry timer and its service");
        return out;
    }
}
