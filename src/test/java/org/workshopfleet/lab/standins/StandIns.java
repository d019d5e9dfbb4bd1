package org.workshopfleet.lab.standins;

import org.workshopfleet.spec.SourceLocations;
import org.workshopfleet.spec.SourcesFile;

import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The lab's test stand-ins for everything a machine downloads from the internet, behind one artifact server:
 * <ul>
 *   <li>the Prometheus 3.1.0 release tarball and its {@code sha256sums.txt} ({@link PrometheusRelease}, built from
 *       Debian's real Prometheus binary),</li>
 *   <li>the ebpf_exporter v2.4.2 release binary ({@link EbpfExporterRelease}, a Python stand-in),</li>
 *   <li>Grafana's signed apt repository and key ({@link GrafanaAptRepository}, package {@code grafana} holding a
 *       Grafana HTTP API stand-in),</li>
 *   <li>the attendee sources' git remote ({@link AttendeeGitRemote}, git's dumb HTTP protocol),</li>
 *   <li>libbpf's v1.4.2 source archive at GitHub's archive path ({@link LibbpfSourceArchive}, installing Debian's
 *       libbpf where the real archive's build installs 1.4.2).</li>
 * </ul>
 * {@link #sources()} points a {@link SourceLocations} at them with real-shaped URLs, and carries the checksums and the
 * key fingerprint of these stand-in files instead of the real ones.
 */
public final class StandIns implements AutoCloseable {

    /** Files that {@link #tamper(Artifact, boolean)} can corrupt in transit. */
    public enum Artifact {
        /** {@code prometheus-3.1.0.linux-amd64.tar.gz}. */
        PROMETHEUS_TARBALL(PrometheusRelease.TARBALL_PATH),
        /** {@code ebpf_exporter.x86_64}. */
        EBPF_EXPORTER(EbpfExporterRelease.BINARY_PATH),
        /** The {@code grafana} package file in the apt repository. */
        GRAFANA_DEB(GrafanaAptRepository.DEB_PATH),
        /** libbpf's source archive {@code v1.4.2.tar.gz}. */
        LIBBPF_SOURCE(LibbpfSourceArchive.ARCHIVE_PATH);

        private final String urlPath;

        Artifact(String urlPath) {
            this.urlPath = urlPath;
        }

        /** Path on the artifact server. */
        public String urlPath() {
            return urlPath;
        }
    }

    private final ArtifactServer server;
    private final SourceLocations sources;

    private StandIns(ArtifactServer server, SourceLocations sources) {
        this.server = server;
        this.sources = sources;
    }

    /**
     * Builds every stand-in file under {@code workDir} (reusing the Prometheus tarball when Debian's binary is
     * unchanged) and starts the artifact server on {@code bind} at a free port.
     *
     * @param bind    {@code LabNetwork.HOST_ADDRESS} (10.231.0.1) for lab machines, loopback in unit tests
     * @param workDir a directory owned by the test, e.g. {@code target/standins}
     */
    public static StandIns start(InetAddress bind, Path workDir) throws IOException {
        return start(bind, 0, workDir);
    }

    /** As {@link #start(InetAddress, Path)} on a given port (0 = any free port). */
    public static StandIns start(InetAddress bind, int port, Path workDir) throws IOException {
        workDir = workDir.toAbsolutePath().normalize();
        Path root = Files.createDirectories(workDir.resolve("www"));
        Path scratch = Files.createDirectories(workDir.resolve("scratch"));
        String prometheusSha256 = new PrometheusRelease().build(root, scratch);
        String ebpfExporterSha256 = EbpfExporterRelease.build(root);
        AttendeeGitRemote.build(root, scratch);
        String libbpfSha256 = new LibbpfSourceArchive().build(root, scratch);
        String fingerprint;
        // The private key is only needed to sign; it is destroyed (and its gpg-agent stopped) right away.
        try (SigningKey key = SigningKey.generate()) {
            fingerprint = GrafanaAptRepository.build(root, scratch, key);
        }
        ArtifactServer server = ArtifactServer.start(bind, port, root);
        String base = server.baseUri().toString();
        SourceLocations sources = new SourceLocations(
                base,
                base + GrafanaAptRepository.PATH,
                base + GrafanaAptRepository.KEY_PATH,
                fingerprint,
                base + AttendeeGitRemote.PATH,
                AttendeeGitRemote.BRANCH,
                SourceLocations.defaults().ddebsRepo(),
                ebpfExporterSha256,
                prometheusSha256,
                libbpfSha256);
        return new StandIns(server, sources);
    }

    /**
     * Where machines download from: {@code releaseBase} is the server's base URL, the apt repository and key, the
     * git remote and branch are the stand-ins, {@code prometheusSha256}/{@code ebpfExporterSha256}/{@code libbpfSha256} are
     * the SHA-256 of the files served (not the real releases'), {@code grafanaKeyFingerprint} is the throwaway key's.
     * {@code ddebsRepo} keeps its default: the lab runs Debian, which needs no debug-symbol archive.
     */
    public SourceLocations sources() {
        return sources;
    }

    /**
     * Writes {@link #sources()} as a {@code -Dsources} file, so a test (or a rehearsal) reaches the stand-ins through
     * the command line as a facilitator reaches a mirror.
     *
     * @return {@code file}
     */
    public Path writeSourcesFile(Path file) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        return Files.writeString(file, SourcesFile.format(sources));
    }

    /** Base URL of the artifact server, e.g. {@code http://10.231.0.1:38211}. */
    public URI baseUri() {
        return server.baseUri();
    }

    /** Makes the server send {@code artifact} with altered bytes (same length), or correct bytes again. */
    public void tamper(Artifact artifact, boolean tampered) {
        server.tamper(artifact.urlPath(), tampered);
    }

    /** Requests served so far, {@code "METHOD /path STATUS"}, oldest first. */
    public List<String> requests() {
        return server.requests();
    }

    /** Stops the server; the built files stay in the work directory. */
    @Override
    public void close() {
        server.close();
    }
}
