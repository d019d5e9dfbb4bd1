package org.workshopfleet.lab.standins;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.workshopfleet.lab.standins.StandIns.Artifact;
import org.workshopfleet.spec.SourceLocations;
import org.workshopfleet.spec.SourcesFile;

import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The artifact server and every stand-in it serves, on loopback: downloads and their advertised SHA-256, tampering,
 * the Prometheus tarball's layout, the ebpf_exporter stand-in, the git remote, the signed apt repository.
 */
class StandInsTest {

    /** Kept between runs so the Prometheus tarball is built once (it is rebuilt when Debian's binary changes). */
    private static final Path WORK = Path.of("target/standins-test");
    private static StandIns standIns;
    private static final HttpClient HTTP = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL).build();

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() throws IOException {
        standIns = StandIns.start(InetAddress.getLoopbackAddress(), WORK);
    }

    @AfterAll
    static void stop() {
        if (standIns != null) {
            standIns.close();
        }
    }

    @Test
    void sourcesPointAtTheStandInsWithRealShapedUrls() {
        SourceLocations s = standIns.sources();
        String base = standIns.baseUri().toString();
        assertTrue(base.matches("http://127\\.0\\.0\\.1:\\d+"), base);
        assertEquals(base, s.releaseBase());
        assertEquals(base + "/grafana-apt", s.grafanaAptRepo());
        assertEquals(base + "/grafana-apt/gpg-full.key", s.grafanaAptKeyUrl());
        assertEquals(base + "/egmc/ebpf_exporter.git", s.attendeeGitRemote());
        assertEquals("ebpf-php-sample", s.attendeeGitBranch());
        assertTrue(s.prometheusSha256().matches("[0-9a-f]{64}"));
        assertNotEquals(SourceLocations.PROMETHEUS_3_1_0_AMD64_SHA256, s.prometheusSha256(),
                "the stand-in tarball is not the real release");
        assertTrue(s.ebpfExporterSha256().matches("[0-9a-f]{64}"));
        assertTrue(s.grafanaKeyFingerprint().matches("[0-9A-F]{40}"));
    }

    /** The file a rehearsal passes as {@code -Dsources} reads back to exactly these sources, every key given. */
    @Test
    void theSourcesFileReadsBackToTheseSources() throws IOException {
        Path file = standIns.writeSourcesFile(tmp.resolve("rehearsal/sources.properties"));
        assertEquals(standIns.sources(), SourcesFile.load(file));
        String text = Files.readString(file);
        assertTrue(text.contains("\nreleaseBase=" + standIns.baseUri() + "\n"), text);
        assertTrue(text.contains("\nebpfExporterSha256=" + standIns.sources().ebpfExporterSha256() + "\n"), text);
    }

    @Test
    void downloadsMatchTheAdvertisedChecksumsAndSha256sumsTxt() throws Exception {
        SourceLocations s = standIns.sources();
        Path tarball = download(s.releaseBase() + PrometheusRelease.TARBALL_PATH);
        assertEquals(s.prometheusSha256(), Sha256.of(tarball));
        String sums = new String(fetch(s.releaseBase() + PrometheusRelease.SHA256SUMS_PATH).body(), StandardCharsets.UTF_8);
        assertEquals(s.prometheusSha256() + "  prometheus-3.1.0.linux-amd64.tar.gz\n", sums);
        Path exporter = download(s.releaseBase() + EbpfExporterRelease.BINARY_PATH);
        assertEquals(s.ebpfExporterSha256(), Sha256.of(exporter));
        assertEquals(404, fetch(s.releaseBase() + "/cloudflare/ebpf_exporter/releases/download/v2.4.2/sha256sums.txt")
                .statusCode(), "ebpf_exporter v2.4.2 publishes no checksum list");
    }

    @Test
    void releaseDownloadsRedirectLikeGithub() throws Exception {
        String url = standIns.sources().releaseBase() + EbpfExporterRelease.BINARY_PATH;
        HttpResponse<byte[]> first = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url)).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(302, first.statusCode(), "a client must follow redirects (curl -L)");
        assertEquals(standIns.baseUri() + ArtifactServer.RELEASE_ASSETS + EbpfExporterRelease.BINARY_PATH,
                first.headers().firstValue("Location").orElse(""));
        assertEquals(200, fetch(url).statusCode());
        assertEquals(200, fetch(standIns.sources().grafanaAptKeyUrl()).statusCode(), "only release downloads redirect");
    }

    @Test
    void tamperedDownloadsDoNotMatchTheirPin() throws Exception {
        SourceLocations s = standIns.sources();
        String url = s.releaseBase() + EbpfExporterRelease.BINARY_PATH;
        long size = Files.size(download(url));
        standIns.tamper(Artifact.EBPF_EXPORTER, true);
        try {
            Path tampered = download(url);
            assertEquals(size, Files.size(tampered), "same length, different bytes");
            assertNotEquals(s.ebpfExporterSha256(), Sha256.of(tampered));
        } finally {
            standIns.tamper(Artifact.EBPF_EXPORTER, false);
        }
        assertEquals(s.ebpfExporterSha256(), Sha256.of(download(url)), "untampered again");

        standIns.tamper(Artifact.PROMETHEUS_TARBALL, true);
        try {
            assertNotEquals(s.prometheusSha256(), Sha256.of(download(s.releaseBase() + PrometheusRelease.TARBALL_PATH)));
        } finally {
            standIns.tamper(Artifact.PROMETHEUS_TARBALL, false);
        }
    }

    @Test
    void serverAnswersOnlyFilesInsideItsRoot() throws Exception {
        String base = standIns.sources().releaseBase();
        assertEquals(404, fetch(base + "/prometheus/prometheus/releases/download/v3.1.0/missing.tar.gz").statusCode());
        assertEquals(404, fetch(base + "/prometheus/prometheus/releases/download/v3.1.0").statusCode(), "directory");
        assertEquals(404, fetch(base + "/..%2F..%2Fpom.xml").statusCode(), "no escape from the root");
        HttpResponse<Void> head = HTTP.send(HttpRequest.newBuilder(URI.create(base + GrafanaAptRepository.KEY_PATH))
                .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.discarding());
        assertEquals(200, head.statusCode());
        assertEquals(Files.size(WORK.resolve("www/grafana-apt/gpg-full.key")),
                head.headers().firstValueAsLong("Content-Length").orElse(-1));
        HttpResponse<byte[]> post = HTTP.send(HttpRequest.newBuilder(URI.create(base + EbpfExporterRelease.BINARY_PATH))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(405, post.statusCode());
        assertTrue(standIns.requests().stream().anyMatch(r -> r.startsWith("POST ") && r.endsWith(" 405")));
    }

    @Test
    void prometheusTarballHasTheReleaseLayoutAndRuns() throws Exception {
        Path tarball = download(standIns.sources().releaseBase() + PrometheusRelease.TARBALL_PATH);
        String listing = ExternalCommand.in(tmp, "tar", "-tzf", tarball.toString()).run();
        assertEquals(List.of("prometheus-3.1.0.linux-amd64/", "prometheus-3.1.0.linux-amd64/LICENSE",
                        "prometheus-3.1.0.linux-amd64/NOTICE", "prometheus-3.1.0.linux-amd64/prometheus",
                        "prometheus-3.1.0.linux-amd64/prometheus.yml", "prometheus-3.1.0.linux-amd64/promtool"),
                listing.lines().sorted().toList());
        Path unpacked = Files.createDirectories(tmp.resolve("usr-local"));
        ExternalCommand.in(unpacked, "tar", "-xzf", tarball.toString()).run();
        Path top = unpacked.resolve("prometheus-3.1.0.linux-amd64");
        assertTrue(ExternalCommand.in(top, top.resolve("prometheus").toString(), "--version").run()
                .startsWith("prometheus, version "));
        assertTrue(ExternalCommand.in(top, top.resolve("promtool").toString(), "check", "config", "prometheus.yml").run()
                .contains("SUCCESS"));
    }

    @Test
    void ebpfExporterStandInAnswersVersionAndServesThePhpMetrics() throws Exception {
        Path exporter = download(standIns.sources().releaseBase() + EbpfExporterRelease.BINARY_PATH);
        Files.setPosixFilePermissions(exporter, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        String version = ExternalCommand.in(tmp, exporter.toString(), "--version").run();
        assertTrue(version.startsWith("ebpf_exporter, version v2.4.2 "), version);

        Path configDir = Files.createDirectories(tmp.resolve("examples"));
        Files.write(configDir.resolve("php.yaml"), new StandInResource("attendee/php.yaml").bytes());
        RecordedBpftrace bpftrace = RecordedBpftrace.install(tmp.resolve("bpftrace"));
        // Like the real exporter, it refuses to start without the BPF object (the attendee's make builds it).
        Path noObjectLog = tmp.resolve("no-object.log");
        ProcessBuilder noObject = new ProcessBuilder(exporter.toString(), "--config.dir=" + configDir,
                "--config.names=php").redirectErrorStream(true).redirectOutput(noObjectLog.toFile());
        noObject.environment().putAll(bpftrace.environment());
        assertEquals(1, noObject.start().waitFor());
        assertTrue(Files.readString(noObjectLog).contains("Error attaching exporter: error creating module from \""
                + configDir.resolve("php.bpf.o") + "\" for config \"php\": failed to open BPF object"), Files.readString(noObjectLog));
        assertEquals("", bpftrace.arguments(), "nothing was attached");

        RecordedBpftrace.writeObject(configDir);
        Path log = tmp.resolve("exporter.log");
        ProcessBuilder builder = new ProcessBuilder(exporter.toString(), "--config.dir=" + configDir, "--config.names=php",
                "--web.listen-address=127.0.0.1:0").redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().putAll(bpftrace.environment());
        Process process = builder.start();
        try {
            String address = ProcessLog.await(process, log, Pattern.compile("Listening on ([0-9.]+:[0-9]+)"));
            // bpftrace attaches where the object's sections say: the PHP module it names, the PHP example's probes.
            String program = bpftrace.arguments();
            for (String probe : new String[] {"compile__file__entry", "exception__thrown", "exception__caught",
                    "request__startup", "request__shutdown"}) {
                assertTrue(program.contains("usdt:" + RecordedBpftrace.PHP_LIB + ":php:" + probe + " "), program);
            }
            assertTrue(program.contains("uprobe:/usr/lib/x86_64-linux-gnu/libmemcached.so.11:memcached_set "), program);
            Thread.sleep(500); // a few rounds of the recorded counts
            HttpResponse<byte[]> metrics = fetch("http://" + address + "/metrics");
            assertEquals(200, metrics.statusCode());
            assertEquals("text/plain; version=0.0.4; charset=utf-8",
                    metrics.headers().firstValue("Content-Type").orElse(""));
            String text = new String(metrics.body(), StandardCharsets.UTF_8);
            for (String family : new String[] {"ebpf_exporter_php_compile_file_total counter",
                    "ebpf_exporter_php_exception_thrown_total counter", "ebpf_exporter_php_exception_caught_total counter",
                    "ebpf_exporter_php_request_time_sec histogram", "ebpf_exporter_memcached_set_val_length histogram"}) {
                assertTrue(text.contains("\n# TYPE " + family + "\n"), family);
            }
            assertTrue(text.contains("\n# HELP ebpf_exporter_php_request_time_sec PHP request duration from"
                    + " request__startup to request__shutdown\n"), "help from php.yaml");
            // One round of the recorded pages, times the round number the scrape saw.
            long rounds = value(text, "ebpf_exporter_php_request_time_sec_count{request_method=\"GET\",request_uri=\"/mem.php\"}");
            assertTrue(rounds >= 1, text);
            // exp2 buckets 0..27 of microseconds (le = 2^k * 1e-06), cumulative: mem.php took 20480 us, key 15.
            String mem = "ebpf_exporter_php_request_time_sec_bucket{request_method=\"GET\",request_uri=\"/mem.php\",le=";
            assertEquals(0, value(text, mem + "\"1e-06\"}"));
            assertEquals(0, value(text, mem + "\"0.016384\"}"));
            assertEquals(rounds, value(text, mem + "\"0.032768\"}"));
            assertEquals(rounds, value(text, mem + "\"134.217728\"}"), "the last bucket, k = 27");
            assertEquals(rounds, value(text, mem + "\"+Inf\"}"));
            assertEquals(29, text.lines().filter(l -> l.startsWith(mem)).count(), "28 buckets and +Inf");
            assertTrue(text.contains("ebpf_exporter_php_request_time_sec_sum{request_method=\"GET\",request_uri=\"/mem.php\"} "
                    + goFloat(rounds * 20480 * 1e-6) + "\n"), "sum: key bucket_max+1, in microseconds, times 1e-06\n" + text);
            // memcached_set value lengths 1..5000: 904 in (4096, 8192], all 5000 by le=8192; no sum key in php.bpf.c.
            assertEquals(rounds * 4096, value(text, "ebpf_exporter_memcached_set_val_length_bucket{le=\"4096\"}"));
            assertEquals(rounds * 5000, value(text, "ebpf_exporter_memcached_set_val_length_bucket{le=\"8192\"}"));
            assertEquals(rounds * 5000, value(text, "ebpf_exporter_memcached_set_val_length_bucket{le=\"4.194304e+06\"}"));
            assertEquals(0, value(text, "ebpf_exporter_memcached_set_val_length_sum"));
            // Compiled files counted by directory, as php.bpf.c cuts them.
            assertEquals(rounds * 3, value(text, "ebpf_exporter_php_compile_file_total{filename=\"/var/www/html\"}"));
            assertEquals(rounds, value(text, "ebpf_exporter_php_compile_file_total{filename=\"/var/www/html/path1\"}"));
            assertEquals(rounds * 2, value(text, "ebpf_exporter_php_exception_thrown_total{class=\"Exception\"}"));
            assertEquals(rounds, value(text, "ebpf_exporter_php_exception_caught_total{class=\"RuntimeException\"}"));
            assertTrue(text.contains("ebpf_exporter_enabled_configs{name=\"php\"} 1\n"), text);
            // promtool parses the exposition; exit 3 would be lint only (e.g. "_sec" abbreviations), 1 a parse error.
            Path saved = tmp.resolve("metrics.txt");
            Files.write(saved, metrics.body());
            Process check = new ProcessBuilder("promtool", "check", "metrics")
                    .redirectInput(saved.toFile()).redirectErrorStream(true).start();
            String checkOut = new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int rc = check.waitFor();
            assertTrue(rc == 0 || (rc == 3 && !checkOut.contains("error")), "promtool: " + rc + " " + checkOut);
        } finally {
            process.destroy();
            process.waitFor();
        }
        assertTrue(Files.readString(log).contains("Detached in "), Files.readString(log));
        Process missing = new ProcessBuilder(exporter.toString(), "--config.dir=" + configDir, "--config.names=nope")
                .redirectErrorStream(true).start();
        assertEquals(1, missing.waitFor(), "a config name without <name>.yaml fails like the real exporter");
    }

    /** The value of the sample line that starts with {@code series} (labels included). */
    private static long value(String text, String series) {
        return text.lines().filter(l -> l.startsWith(series + " ")).findFirst()
                .map(l -> Long.parseLong(l.substring(series.length() + 1))).orElseThrow(() -> new AssertionError(
                        "no " + series + " in\n" + text));
    }

    /** Go's strconv.FormatFloat(x, 'g', -1, 64) for the values of this test (no exponent form). */
    private static String goFloat(double x) {
        return new java.math.BigDecimal(Double.toString(x)).stripTrailingZeros().toPlainString();
    }

    @Test
    void gitCloneOfTheBranchWorksOverDumbHttp() throws Exception {
        SourceLocations s = standIns.sources();
        Path clone = tmp.resolve("ebpf_exporter");
        ExternalCommand.in(tmp, "git", "clone", "-q", "-b", s.attendeeGitBranch(), s.attendeeGitRemote(), clone.toString())
                .withEnvironment(Map.of("GIT_CONFIG_GLOBAL", "/dev/null", "GIT_CONFIG_NOSYSTEM", "1",
                        "GIT_TERMINAL_PROMPT", "0")).run();
        assertEquals("ebpf-php-sample", ExternalCommand.in(clone, "git", "rev-parse", "--abbrev-ref", "HEAD").run().strip());
        assertTrue(Files.isRegularFile(clone.resolve("examples/php.bpf.c")));
        assertTrue(Files.readString(clone.resolve("examples/php.yaml")).contains("name: php_request_time_sec"));
        assertTrue(Files.isRegularFile(clone.resolve("examples/Makefile")));
        assertTrue(standIns.requests().stream().anyMatch(r -> r.startsWith("GET /egmc/ebpf_exporter.git/info/refs")));
    }

    /**
     * The clone keeps the real branch's shape: examples/Makefile includes ../Makefile.libbpf, whose rule git-clones
     * libbpf while libbpf/dest/usr/lib/libbpf.so.1.4.2 is missing, and is done once that file exists.
     */
    @Test
    void attendeeMakefileClonesLibbpfUnlessItWasBuiltBeforehand() throws Exception {
        SourceLocations s = standIns.sources();
        Path clone = tmp.resolve("ebpf_exporter");
        ExternalCommand.in(tmp, "git", "clone", "-q", "-b", s.attendeeGitBranch(), s.attendeeGitRemote(), clone.toString())
                .withEnvironment(Map.of("GIT_CONFIG_GLOBAL", "/dev/null", "GIT_CONFIG_NOSYSTEM", "1",
                        "GIT_TERMINAL_PROMPT", "0")).run();
        assertTrue(Files.readString(clone.resolve("examples/Makefile")).contains("include ../Makefile.libbpf"));
        Path examples = clone.resolve("examples");
        // A dry run; MAKE=: because make runs the rule's recursive $(MAKE) lines even with -n.
        String fresh = ExternalCommand.in(examples, "make", "-n", "MAKE=:", "php.bpf.o").run();
        assertTrue(fresh.contains("git clone --branch v1.4.2 --depth 1 https://github.com/libbpf/libbpf.git " + clone
                + "/libbpf"), fresh);
        assertTrue(fresh.contains("-I" + clone + "/libbpf/dest/usr/include"), fresh);

        Path archive = download(s.releaseBase() + LibbpfSourceArchive.ARCHIVE_PATH);
        Path libbpf = Files.createDirectories(clone.resolve("libbpf"));
        ExternalCommand.in(tmp, "tar", "-xzf", archive.toString(), "-C", libbpf.toString(), "--strip-components=1").run();
        ExternalCommand.in(libbpf.resolve("src"), "make", "LIBSUBDIR=lib", "DESTDIR=" + libbpf.resolve("dest"),
                "install", "install_uapi_headers").run();
        String built = ExternalCommand.in(examples, "make", "-n", "MAKE=:", "php.bpf.o").run();
        assertFalse(built.contains("git clone"), built);
        assertTrue(built.contains("-I" + clone + "/libbpf/dest/usr/include"), built);
    }

    /** The stand-in archive has GitHub's layout and installs a real libbpf where libbpf 1.4.2's build would. */
    @Test
    void libbpfSourceArchiveInstallsHeadersAndLibraryAsVersion142() throws Exception {
        SourceLocations s = standIns.sources();
        String url = s.releaseBase() + LibbpfSourceArchive.ARCHIVE_PATH;
        Path archive = download(url);
        assertEquals(s.libbpfSha256(), Sha256.of(archive));
        assertNotEquals(SourceLocations.LIBBPF_1_4_2_SOURCE_SHA256, s.libbpfSha256(), "the stand-in is not the real archive");
        standIns.tamper(Artifact.LIBBPF_SOURCE, true);
        try {
            assertNotEquals(s.libbpfSha256(), Sha256.of(download(url)));
        } finally {
            standIns.tamper(Artifact.LIBBPF_SOURCE, false);
        }
        String listing = ExternalCommand.in(tmp, "tar", "-tzf", archive.toString()).run();
        assertTrue(listing.lines().allMatch(l -> l.startsWith("libbpf-1.4.2/")), listing);
        Path src = Files.createDirectories(tmp.resolve("src"));
        ExternalCommand.in(tmp, "tar", "-xzf", archive.toString(), "-C", src.toString(), "--strip-components=1").run();
        Path dest = tmp.resolve("dest");
        ExternalCommand.in(src.resolve("src"), "make", "LIBSUBDIR=lib", "DESTDIR=" + dest, "install",
                "install_uapi_headers").run();
        Path library = dest.resolve("usr/lib/libbpf.so.1.4.2");
        assertTrue(Files.readString(dest.resolve("usr/include/bpf/usdt.bpf.h")).contains("BPF_USDT"));
        assertTrue(Files.isRegularFile(dest.resolve("usr/include/bpf/libbpf.h")));
        assertTrue(Files.readString(dest.resolve("usr/include/linux/bpf.h")).contains("enum bpf_cmd"));
        assertEquals("libbpf.so.1.4.2", Files.readSymbolicLink(dest.resolve("usr/lib/libbpf.so.1")).toString());
        byte[] magic = java.util.Arrays.copyOf(Files.readAllBytes(library), 4);
        assertEquals("\u007fELF", new String(magic, StandardCharsets.ISO_8859_1), "an ELF shared library");
    }

    @Test
    void aptRepositoryIsSignedByTheAdvertisedKey() throws Exception {
        SourceLocations s = standIns.sources();
        Path key = download(s.grafanaAptKeyUrl());
        String shown = ExternalCommand.in(tmp, "gpg", "--homedir", tmp.toString(), "--batch", "--with-colons",
                "--show-keys", key.toString()).run();
        assertTrue(shown.lines().anyMatch(l -> l.equals("fpr:::::::::" + s.grafanaKeyFingerprint() + ":")), shown);
        Path keyring = tmp.resolve("grafana.gpg");
        ExternalCommand.in(tmp, "gpg", "--homedir", tmp.toString(), "--batch", "--yes", "--dearmor", "--output",
                keyring.toString(), key.toString()).run();

        Path inRelease = download(s.grafanaAptRepo() + "/dists/stable/InRelease");
        ExternalCommand.in(tmp, "gpgv", "--keyring", keyring.toString(), inRelease.toString()).run();
        Path release = download(s.grafanaAptRepo() + "/dists/stable/Release");
        Path signature = download(s.grafanaAptRepo() + "/dists/stable/Release.gpg");
        ExternalCommand.in(tmp, "gpgv", "--keyring", keyring.toString(), signature.toString(), release.toString()).run();

        Files.writeString(release, Files.readString(release).replace("Suite: stable", "Suite: stablE"));
        try {
            ExternalCommand.in(tmp, "gpgv", "--keyring", keyring.toString(), signature.toString(), release.toString()).run();
            fail("gpgv accepted an altered Release file");
        } catch (IllegalStateException expected) {
            assertTrue(expected.getMessage().contains("BAD signature"), expected.getMessage());
        }

        String releaseText = Files.readString(download(s.grafanaAptRepo() + "/dists/stable/Release"));
        Path packages = download(s.grafanaAptRepo() + "/dists/stable/main/binary-amd64/Packages");
        assertTrue(releaseText.contains(Sha256.of(packages) + " " + String.format("%16d", Files.size(packages))
                + " main/binary-amd64/Packages\n"), releaseText);
        String index = Files.readString(packages);
        assertTrue(index.startsWith("Package: grafana\n"), index);
        Matcher filename = Pattern.compile("(?m)^Filename: (.+)$").matcher(index);
        Matcher sha = Pattern.compile("(?m)^SHA256: (.+)$").matcher(index);
        assertTrue(filename.find() && sha.find(), index);
        assertEquals(sha.group(1), Sha256.of(download(s.grafanaAptRepo() + "/" + filename.group(1))));
    }

    @Test
    void grafanaPackageInstallsLikeTheRealDeb() throws Exception {
        Path deb = download(standIns.sources().grafanaAptRepo() + "/pool/main/g/grafana/grafana_"
                + GrafanaAptRepository.VERSION + "_amd64.deb");
        String contents = ExternalCommand.in(tmp, "dpkg-deb", "--contents", deb.toString()).run();
        for (String path : new String[] {"./usr/share/grafana/bin/grafana", "./usr/sbin/grafana-server",
                "./usr/sbin/grafana-cli", "./lib/systemd/system/grafana-server.service", "./etc/default/grafana-server",
                "./etc/grafana/grafana.ini"}) {
            assertTrue(contents.lines().anyMatch(l -> l.endsWith(" " + path)), path + " in\n" + contents);
        }
        assertTrue(contents.lines().allMatch(l -> l.contains(" root/root ")), "owned by root in the archive");
        assertEquals("grafana\n", ExternalCommand.in(tmp, "dpkg-deb", "--field", deb.toString(), "Package").run());
        Path control = tmp.resolve("control");
        ExternalCommand.in(tmp, "dpkg-deb", "--control", deb.toString(), control.toString()).run();
        String postinst = Files.readString(control.resolve("postinst"));
        assertTrue(postinst.contains("adduser --system"));
        assertTrue(postinst.contains("NOT starting on installation"));
        assertTrue(!postinst.contains("systemctl start grafana-server\n") || postinst.contains("echo \" sudo /bin/systemctl start"),
                "postinst does not start the service on a fresh install");
        Path unit = tmp.resolve("unit");
        ExternalCommand.in(tmp, "dpkg-deb", "--extract", deb.toString(), unit.toString()).run();
        String service = Files.readString(unit.resolve("lib/systemd/system/grafana-server.service"));
        for (String line : new String[] {"User=grafana", "Type=simple", "EnvironmentFile=/etc/default/grafana-server",
                "Restart=on-failure", "WorkingDirectory=/usr/share/grafana"}) {
            assertTrue(service.lines().anyMatch(line::equals), line);
        }
        assertTrue(Files.readString(control.resolve("conffiles")).contains("/etc/grafana/grafana.ini"));
    }

    /**
     * apt itself accepts the repository: {@code apt-get update} verifies InRelease against the key given in
     * {@code signed-by}, and {@code apt-get download} checks the package's hash. Needs root (apt's lock files).
     */
    @Test
    void aptGetUpdateAndDownloadAcceptTheRepository() throws Exception {
        boolean root = "root".equals(System.getProperty("user.name"));
        if ("true".equals(System.getenv("CI"))) {
            assertTrue(root, "CI must run this test as root");
        }
        assumeTrue(root, "apt-get update needs root");
        SourceLocations s = standIns.sources();
        Path apt = Files.createDirectories(tmp.resolve("apt"));
        Path keyFile = apt.resolve("grafana.asc");
        Files.copy(download(s.grafanaAptKeyUrl()), keyFile);
        Path list = apt.resolve("grafana.list");
        Files.writeString(list, "deb [signed-by=" + keyFile + "] " + s.grafanaAptRepo() + " stable main\n");
        Files.createDirectories(apt.resolve("lists/partial"));
        Files.createDirectories(apt.resolve("cache/archives/partial"));
        String[] options = {"-o", "Dir::Etc::sourcelist=" + list, "-o", "Dir::Etc::sourceparts=-",
                "-o", "Dir::State::Lists=" + apt.resolve("lists"), "-o", "Dir::Cache=" + apt.resolve("cache"),
                "-o", "APT::Get::List-Cleanup=0", "-o", "APT::Sandbox::User=root", "-o", "Debug::NoLocking=1"};
        String update = ExternalCommand.in(apt, concat(new String[] {"apt-get", "update"}, options)).run();
        assertTrue(update.contains(s.grafanaAptRepo() + " stable InRelease"), update);
        Path downloads = Files.createDirectories(tmp.resolve("downloads"));
        ExternalCommand.in(downloads, concat(new String[] {"apt-get", "download", "grafana"}, options)).run();
        assertTrue(Files.isRegularFile(downloads.resolve("grafana_" + GrafanaAptRepository.VERSION + "_amd64.deb")));

        standIns.tamper(Artifact.GRAFANA_DEB, true);
        try {
            Files.delete(downloads.resolve("grafana_" + GrafanaAptRepository.VERSION + "_amd64.deb"));
            ExternalCommand.in(downloads, concat(new String[] {"apt-get", "download", "grafana"}, options)).run();
            fail("apt-get downloaded a package whose hash does not match the signed index");
        } catch (IllegalStateException expected) {
            assertTrue(expected.getMessage().contains("Hash Sum mismatch")
                    || expected.getMessage().contains("Hashes of expected file"), expected.getMessage());
        } finally {
            standIns.tamper(Artifact.GRAFANA_DEB, false);
        }
    }

    // --- helpers -------------------------------------------------------------------------------------------------

    private static String[] concat(String[] a, String[] b) {
        String[] all = new String[a.length + b.length];
        System.arraycopy(a, 0, all, 0, a.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    private static HttpResponse<byte[]> fetch(String url) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60)).build(),
                HttpResponse.BodyHandlers.ofByteArray());
    }

    private Path download(String url) throws Exception {
        HttpResponse<Path> response = HTTP.send(HttpRequest.newBuilder(URI.create(url)).build(),
                HttpResponse.BodyHandlers.ofFile(Files.createTempFile(tmp, "download", ".bin")));
        assertEquals(200, response.statusCode(), url);
        return response.body();
    }

}
