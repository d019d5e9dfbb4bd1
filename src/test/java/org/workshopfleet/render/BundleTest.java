package org.workshopfleet.render;

import org.workshopfleet.spec.OsProfile;
import org.workshopfleet.error.FleetException;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.workshopfleet.spec.Provider;
import org.workshopfleet.spec.SourceLocations;
import org.workshopfleet.spec.WorkshopSpec;
import org.workshopfleet.tls.TlsMaterial;

class BundleTest {

    private final Renderer renderer = new Renderer(Path.of(""));

    @Test
    void holdsScriptsConfigurationSamplesAndExercisesWithTheirModes() {
        Bundle b = renderer.bundle(Machines.debian());
        assertEquals("ebpf-php-02", b.machineName());
        assertEquals("/opt/workshop-fleet", Bundle.REMOTE_ROOT);
        Map<String, Integer> modes = b.files().stream().collect(Collectors.toMap(BundleFile::path, BundleFile::mode));
        for (String p : List.of("scripts/lib.sh", "scripts/01-packages.sh", "scripts/02-apache-php.sh",
                "scripts/03-ebpf-exporter.sh", "scripts/04-prometheus.sh", "scripts/05-grafana.sh",
                "scripts/06-attendee.sh", "scripts/06-web-terminal.sh", "scripts/07-login.sh",
                "scripts/08-grafana-admin.sh", "scripts/09-https.sh", "scripts/seal.sh")) {
            assertEquals(0755, modes.get(p), p);
        }
        for (String p : List.of("fleet.env", "files/apache2/workshop-fleet.conf", "files/prometheus/prometheus.yml",
                "files/prometheus/prometheus.service", "files/grafana/datasource.yaml",
                "files/grafana/10-workshop-fleet.conf", "files/login/sshd-login.conf",
                "files/web/workshop-fleet-ssl.conf", "php/index.html",
                "php/phpinfo.php", "php/mem.php", "php/exception.php", "php/error.php", "php/path1/a.php",
                "php/path2/a.php", "php/test2.php", "bt/memc.bt", "bt/php-compile.bt")) {
            assertEquals(0644, modes.get(p), p);
        }
        assertEquals(0600, modes.get("files/grafana/workshop-fleet.env"));
        assertEquals(0600, modes.get("files/login/ubuntu.chpasswd"));
        assertTrue(b.files().stream().noneMatch(f -> f.path().endsWith(".ftl")), "templates are rendered, not shipped");
        assertEquals(List.of("01-packages", "02-apache-php", "03-ebpf-exporter", "04-prometheus", "05-grafana",
                "06-attendee", "06-web-terminal", "07-login", "08-grafana-admin", "09-https"), b.steps().stream().map(SetupStep::name).toList());
    }

    @Test
    void aMachineWithItsCertificateGetsItAndItsKeyOnlyRootMayReadAndOnlyTheHttpsStepChanges() {
        TlsMaterial tls = TlsMaterial.selfSigned("203.0.113.7", Duration.ofHours(1));
        Bundle without = renderer.bundle(Machines.debian());
        Bundle with = renderer.bundle(Machines.debian().withTls(tls));
        assertTrue(without.file(Renderer.TLS_CERTIFICATE).isEmpty() && without.file(Renderer.TLS_KEY).isEmpty(),
                "no certificate before the address is known");
        BundleFile cert = with.file("files/web/tls.crt").orElseThrow();
        BundleFile key = with.file("files/web/tls.key").orElseThrow();
        assertEquals(0644, cert.mode());
        assertEquals(0600, key.mode());
        assertTrue(key.secret());
        assertEquals(tls.certificatePem(), new String(cert.content(), StandardCharsets.US_ASCII));
        assertEquals(tls.keyPem(), new String(key.content(), StandardCharsets.US_ASCII));
        assertFalse(with.toString().contains("PRIVATE KEY") || key.toString().contains("PRIVATE KEY"));
        for (int i = 0; i < with.steps().size(); i++) {
            SetupStep a = without.steps().get(i);
            SetupStep b = with.steps().get(i);
            assertEquals(a.name(), b.name());
            assertEquals(!a.name().equals("09-https"), a.contentHash().equals(b.contentHash()), a.name());
        }
    }

    @Test
    void addingTheCertificateToTheBundleRenderedBeforeGivesWhatRenderingWithItGives() {
        MachineModel machine = Machines.debian();
        TlsMaterial tls = TlsMaterial.selfSigned("203.0.113.7", Duration.ofHours(1));
        TlsMaterial renewed = TlsMaterial.selfSigned("203.0.113.8", Duration.ofHours(1));
        Bundle rendered = renderer.bundle(machine);
        Bundle full = renderer.bundle(machine.withTls(tls));

        Bundle added = renderer.withTls(rendered, tls);
        assertArrayEquals(full.toTar(), added.toTar(), "the same files, modes and contents");
        assertEquals(full.steps(), added.steps(), "the same steps and hashes");
        Bundle replaced = renderer.withTls(full, renewed);
        assertArrayEquals(renderer.bundle(machine.withTls(renewed)).toTar(), replaced.toTar(),
                "a bundle that held a certificate gets the new one in its place");
        assertEquals(renderer.bundle(machine.withTls(renewed)).steps(), replaced.steps());
    }

    @Test
    void exercisesNameThePhpModuleOfTheMachinesOs() {
        String debian = text(renderer.bundle(Machines.debian()), "bt/php-compile.bt");
        String ubuntu = text(renderer.bundle(Machines.ubuntu()), "bt/php-compile.bt");
        assertTrue(debian.contains("usdt:/usr/lib/apache2/modules/libphp8.2.so:php:compile__file__return"), debian);
        assertTrue(ubuntu.contains("usdt:/usr/lib/apache2/modules/libphp8.1.so:php:compile__file__return"), ubuntu);
        String memc = text(renderer.bundle(Machines.ubuntu()), "bt/memc.bt");
        assertTrue(memc.contains("uprobe:/usr/lib/x86_64-linux-gnu/libmemcached.so.11:memcached_set"));
        assertTrue(memc.contains("str(arg1, arg2)") && memc.contains("str(arg3, arg4)") && memc.contains("arg5"));
        assertTrue(text(renderer.bundle(Machines.ubuntu()), "fleet.env").contains("\nFLEET_OS=ubuntu-22.04\n"));
        assertTrue(text(renderer.bundle(Machines.debian()), "fleet.env").contains("\nFLEET_OS=debian-12\n"));
    }

    @Test
    void fleetEnvGivesTheScriptsExactlyTheSourceLocations(@TempDir Path dir) throws IOException {
        SourceLocations odd = SourceLocations.defaults().withEbpfExporterSha256("it's $HOME `x` \"q\" \\ end");
        WorkshopSpec spec = WorkshopSpec.defaults(3, Provider.LAB).withSources(odd);
        MachineModel m = new MachineModel(spec, 1, "ebpf-php-01", OsProfile.DEBIAN_12, Machines.HOST_KEY,
                Machines.LOGIN_KEY.publicKeyLine(), "GrafanaPw2345abcd", "SshPw2345abcdefg", Machines.EXPIRES);
        Path env = dir.resolve("fleet.env");
        Files.write(env, renderer.bundle(m).file("fleet.env").orElseThrow().content());
        StringBuilder print = new StringBuilder("set -euo pipefail; . \"$1\"");
        odd.asEnvironment().keySet().forEach(k -> print.append("; printf '%s\\0' \"$").append(k).append('"'));
        ExternalTool.Result r = ExternalTool.BASH.run(dir, "-c", print.toString(), "bash", env.toString());
        assertTrue(r.ok(), r.output());
        assertEquals(List.copyOf(odd.asEnvironment().values()), List.of(r.output().split("\0", -1)).subList(0, odd.asEnvironment().size()));
    }

    @Test
    void tarUnpacksWithGnuTarToTheSameFilesAndModes(@TempDir Path dir) throws IOException {
        Bundle b = renderer.bundle(Machines.debian());
        Path tar = dir.resolve("bundle.tar");
        Files.write(tar, b.toTar());
        Path out = Files.createDirectories(dir.resolve("out"));
        ExternalTool.Result r = ExternalTool.TAR.run(out, "--warning=all", "-xpf", tar.toString());
        assertTrue(r.ok() && r.output().isBlank(), "GNU tar: " + r.output());
        Map<String, BundleFile> expected = new TreeMap<>();
        b.files().forEach(f -> expected.put(f.path(), f));
        Map<String, Path> unpacked = new TreeMap<>();
        try (Stream<Path> s = Files.walk(out)) {
            s.filter(Files::isRegularFile).forEach(p -> unpacked.put(out.relativize(p).toString(), p));
        }
        assertEquals(expected.keySet(), unpacked.keySet());
        for (BundleFile f : b.files()) {
            Path p = unpacked.get(f.path());
            assertArrayEquals(f.content(), Files.readAllBytes(p), f.path());
            assertEquals(f.mode(), mode(Files.getPosixFilePermissions(p)), f.path());
        }
        ExternalTool.Result list = ExternalTool.TAR.run(out, "-tvf", tar.toString());
        assertTrue(list.output().lines().allMatch(l -> l.contains(" root/root ")), list.output());
        assertTrue(list.output().contains("-rw------- root/root") && list.output().contains("files/login/ubuntu.chpasswd"));
        assertArrayEquals(b.toTar(), renderer.bundle(Machines.debian()).toTar(), "same model, same bytes");
    }

    @Test
    void ustarHandlesLongPathsAndRejectsImpossibleOnes(@TempDir Path dir) throws IOException {
        String longPath = "php/" + "d".repeat(90) + "/" + "e".repeat(60) + "/page.php";
        Bundle b = new Bundle("m", List.of(new BundleFile(longPath, "x".getBytes(StandardCharsets.UTF_8), 0644)), List.of());
        Path tar = dir.resolve("long.tar");
        Files.write(tar, b.toTar());
        ExternalTool.Result r = ExternalTool.TAR.run(dir, "-tf", tar.toString());
        assertTrue(r.ok(), r.output());
        assertTrue(r.output().lines().anyMatch(longPath::equals), r.output());
        Bundle impossible = new Bundle("m", List.of(new BundleFile("x".repeat(120), new byte[0], 0644)), List.of());
        assertThrows(IllegalArgumentException.class, impossible::toTar);
    }

    @Test
    void secondRenderGivesIdenticalHashes() {
        assertEquals(renderer.bundle(Machines.debian()).steps(), renderer.bundle(Machines.debian()).steps());
        assertNotEquals(renderer.bundle(Machines.debian()).steps(), renderer.bundle(Machines.ubuntu()).steps(),
                "fleet.env differs by OS, so every step's hash does");
    }

    @Test
    void aChangedTemplateChangesOnlyTheStepThatInstallsIt(@TempDir Path root) throws IOException {
        ProjectCopy.of(root);
        Map<String, String> before = hashes(new Renderer(root).bundle(Machines.debian()));
        append(root.resolve("templates/prometheus/prometheus.yml.ftl"), "# changed\n");
        Map<String, String> afterPrometheus = hashes(new Renderer(root).bundle(Machines.debian()));
        assertEquals(Set.of("04-prometheus"), changed(before, afterPrometheus));

        append(root.resolve("scripts/php/test2.php"), "// changed\n");
        Map<String, String> afterPage = hashes(new Renderer(root).bundle(Machines.debian()));
        assertEquals(Set.of("02-apache-php", "06-attendee"), changed(afterPrometheus, afterPage),
                "the sample pages go to /var/www/html (02) and ~ubuntu/php (06)");

        append(root.resolve("scripts/lib.sh"), "# changed\n");
        assertEquals(before.keySet(), changed(afterPage, hashes(new Renderer(root).bundle(Machines.debian()))),
                "every step sources lib.sh");
    }

    @Test
    void everyBundleReferenceOfAStepIsADeclaredInput() {
        Bundle b = renderer.bundle(Machines.debian());
        java.util.regex.Pattern ref = java.util.regex.Pattern.compile("\\$BUNDLE_DIR/([A-Za-z0-9_./-]+)");
        for (SetupStep s : b.steps()) {
            String script = text(b, s.script());
            List<String> inputs = Renderer.declaredInputs(s.script(), script);
            java.util.regex.Matcher m = ref.matcher(script);
            while (m.find()) {
                String used = m.group(1).replaceAll("/+$", "");
                if (used.equals("fleet.env")) {
                    continue;
                }
                assertTrue(inputs.stream().anyMatch(i -> i.endsWith("/") ? (used + "/").startsWith(i) : used.equals(i)),
                        s.script() + " reads $BUNDLE_DIR/" + used + " but its '# inputs:' line does not declare it");
                assertTrue(b.files().stream().anyMatch(f -> f.path().equals(used) || f.path().startsWith(used + "/")),
                        s.script() + " reads $BUNDLE_DIR/" + used + ", which the bundle does not have");
            }
        }
    }

    @Test
    void undeclaredInputIsAOneLineError(@TempDir Path root) throws IOException {
        ProjectCopy.of(root);
        Path step = root.resolve("scripts/04-prometheus.sh");
        Files.writeString(step, Files.readString(step).replace("# inputs: files/prometheus/", "# inputs: files/nope.yml"));
        FleetException e = assertThrows(FleetException.class, () -> new Renderer(root).bundle(Machines.debian()));
        assertEquals("scripts/04-prometheus.sh declares input 'files/nope.yml' but the bundle has no such file:"
                + " fix its '# inputs:' line", e.getMessage());
    }

    @Test
    void secretsStayOutOfToStrings() {
        MachineModel m = Machines.debian();
        Bundle b = renderer.bundle(m);
        String all = m + " " + b;
        assertFalse(all.contains(m.grafanaPassword()) || all.contains(m.sshPassword()), all);
        assertFalse(all.contains("PRIVATE KEY"));
    }

    @Test
    void unusableModelValuesAreRefusedWithoutEchoingSecrets() {
        WorkshopSpec spec = WorkshopSpec.defaults(3, Provider.LAB);
        FleetException pw = assertThrows(FleetException.class, () -> new MachineModel(spec, 1, "ebpf-php-01",
                OsProfile.DEBIAN_12, Machines.HOST_KEY, Machines.LOGIN_KEY.publicKeyLine(), "it's'secret\"x", "SshPw2345abcdefg",
                Machines.EXPIRES));
        assertFalse(pw.getMessage().contains("secret"));
        assertThrows(FleetException.class, () -> new MachineModel(spec, 1, "Bad_Host", OsProfile.DEBIAN_12,
                Machines.HOST_KEY, Machines.LOGIN_KEY.publicKeyLine(), "GrafanaPw2345abcd", "SshPw2345abcdefg", Machines.EXPIRES));
        assertThrows(FleetException.class, () -> new MachineModel(spec, 1, "ebpf-php-01", OsProfile.DEBIAN_12,
                Machines.HOST_KEY, "ssh-ed25519 AAAA\n- evil", "GrafanaPw2345abcd", "SshPw2345abcdefg", Machines.EXPIRES));
    }

    /** A link anywhere under the shipped folders would be read through into the bundle: refused, naming it. */
    @ParameterizedTest
    @ValueSource(strings = {"scripts/php/creds.php", "scripts/bt/creds.bt", "templates/prometheus/creds.ftl",
        "dashboards/creds.json", "scripts/php/path1/deeper.php", "scripts/99-creds.sh"})
    void aSymlinkInTheShippedFoldersIsRefused(String link, @TempDir Path root) throws IOException {
        ProjectCopy.of(root.resolve("project"));
        Path secret = Files.writeString(root.resolve("credentials"), "aws_secret_access_key = s3cr3tValueXyz\n");
        Files.createSymbolicLink(root.resolve("project").resolve(link), secret);
        FleetException e = assertThrows(FleetException.class, () -> new Renderer(root.resolve("project")).bundle(Machines.debian()));
        assertEquals(link + " is a symbolic link (to " + secret + "): machines get only regular files from the project;"
                + " replace the link with the file itself or remove it", e.getMessage());
    }

    @Test
    void aLinkedFolderIsRefusedItself(@TempDir Path root) throws IOException {
        ProjectCopy.of(root.resolve("project"));
        Path elsewhere = Files.createDirectories(root.resolve("home/.aws"));
        Files.writeString(elsewhere.resolve("credentials"), "secret\n");
        Files.createSymbolicLink(root.resolve("project/scripts/php/aws"), elsewhere);
        FleetException e = assertThrows(FleetException.class, () -> new Renderer(root.resolve("project")));
        assertTrue(e.getMessage().startsWith("scripts/php/aws is a symbolic link"), e.getMessage());
    }

    /**
     * FreeMarker's own messages quote the value an expression failed on; a template that misuses a secret must fail
     * naming the template, line, column and the expression as written, and nothing of the value.
     */
    @ParameterizedTest
    @ValueSource(strings = {"${sshPassword?number}", "${sshPassword?string(\"yes\", \"no\")}",
        "${grafanaPassword?string(\"0.00\")}", "<#assign n = sshPassword?number>", "${sshPassword?boolean}",
        "${hostKeyPrivate?number}", "${sshPassword?eval}", "<#if sshPassword>x</#if>", "${sshPassword + 1 - 2}",
        "${sshPassword?substring(99)}", "${sshPassword?keep_after(\"Nc\")?number}"})
    void aTemplateErrorNamesTheTemplateButNoValue(String broken, @TempDir Path root) throws IOException {
        ProjectCopy.of(root);
        append(root.resolve("templates/fleet.env.ftl"), "# broken\n" + broken + "\n");
        MachineModel m = new MachineModel(WorkshopSpec.defaults(3, Provider.LAB), 2, "ebpf-php-02", OsProfile.DEBIAN_12,
                Machines.HOST_KEY, Machines.LOGIN_KEY.publicKeyLine(), "Xq7mZk2Rt9wLpB4n", "Vh3sNc8Jd6yTe5Wu", Machines.EXPIRES);
        FleetException e = assertThrows(FleetException.class, () -> new Renderer(root).bundle(m));
        String message = e.getMessage() + " " + (e.getCause() == null ? "" : e.getCause().getMessage());
        assertTrue(message.startsWith("template templates/fleet.env.ftl failed at line "), message);
        assertTrue(message.matches("(?s).*line \\d+, column \\d+.*"), message);
        assertFalse(message.contains("\n"), "one line: " + message);
        for (String secret : List.of(m.sshPassword(), m.grafanaPassword(), m.hostKey().privateKeyOpenSsh())) {
            for (int i = 0; i + 5 <= secret.length(); i++) {
                String part = secret.substring(i, i + 5);
                if (!part.isBlank() && !part.contains("-----")) {
                    assertFalse(message.contains(part), "holds part of a secret (" + part + "): " + message);
                }
            }
        }
    }

    private static Map<String, String> hashes(Bundle b) {
        Map<String, String> m = new TreeMap<>();
        b.steps().forEach(s -> m.put(s.name(), s.contentHash()));
        return m;
    }

    private static Set<String> changed(Map<String, String> a, Map<String, String> b) {
        assertEquals(a.keySet(), b.keySet());
        return a.keySet().stream().filter(k -> !a.get(k).equals(b.get(k))).collect(Collectors.toCollection(java.util.TreeSet::new));
    }

    private static void append(Path p, String s) throws IOException {
        Files.writeString(p, Files.readString(p) + s);
    }

    private static String text(Bundle b, String path) {
        return new String(b.file(path).orElseThrow().content(), StandardCharsets.UTF_8);
    }

    private static int mode(Set<PosixFilePermission> perms) {
        int mode = 0;
        for (PosixFilePermission p : perms) {
            mode |= 1 << (8 - p.ordinal());
        }
        return mode;
    }
}
