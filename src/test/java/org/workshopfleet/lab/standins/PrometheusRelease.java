package org.workshopfleet.lab.standins;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;

/**
 * Stand-in for the Prometheus 3.1.0 GitHub release: {@code prometheus-3.1.0.linux-amd64.tar.gz} with the real
 * tarball layout ({@code prometheus-3.1.0.linux-amd64/} holding {@code prometheus}, {@code promtool},
 * {@code prometheus.yml}, {@code LICENSE}, {@code NOTICE}) and a {@code sha256sums.txt} in promu's format
 * ({@code <hex>  <file>}), placed at the release download path.
 *
 * <p>The binaries are Debian's real {@code prometheus} package (2.42), not 3.1.0: the real release cannot be
 * downloaded here. 2.42 accepts every flag the workshop's unit uses; {@code --enable-feature=promql-experimental-functions}
 * only logs "Unknown option for --enable-feature" (the feature arrived in 2.44). The upstream
 * {@code npm_licenses.tar.bz2} is left out. The archive is deterministic (fixed owner and mtime, gzip without a
 * timestamp), so its SHA-256 is stable for given source binaries.
 */
public final class PrometheusRelease {

    /** URL path of the tarball on the artifact server, as on github.com. */
    public static final String TARBALL_PATH =
            "/prometheus/prometheus/releases/download/v3.1.0/prometheus-3.1.0.linux-amd64.tar.gz";
    /** URL path of the release's checksum list. */
    public static final String SHA256SUMS_PATH = "/prometheus/prometheus/releases/download/v3.1.0/sha256sums.txt";

    static final String TOP_DIRECTORY = "prometheus-3.1.0.linux-amd64";
    private static final String TARBALL_NAME = TOP_DIRECTORY + ".tar.gz";
    /** 2025-01-02T00:00:00Z, the 3.1.0 release day. */
    private static final long RELEASE_EPOCH = 1_735_776_000L;

    private final Path sourceBin;
    private final Path license;
    private final Path notice;
    private final Path exampleConfig;

    /** Uses Debian's {@code prometheus} package files. */
    public PrometheusRelease() {
        this(Path.of("/usr/bin"), Path.of("/usr/share/common-licenses/Apache-2.0"),
                Path.of("/usr/share/doc/prometheus/NOTICE"),
                Path.of("/usr/share/doc/prometheus/examples/prometheus.yml"));
    }

    PrometheusRelease(Path sourceBin, Path license, Path notice, Path exampleConfig) {
        this.sourceBin = sourceBin;
        this.license = license;
        this.notice = notice;
        this.exampleConfig = exampleConfig;
    }

    /**
     * Writes the tarball and {@code sha256sums.txt} under {@code serveRoot} (reusing a tarball built from the same
     * source binaries) and returns the tarball's SHA-256.
     *
     * @param serveRoot the artifact server's root
     * @param scratch   a directory for staging
     */
    public String build(Path serveRoot, Path scratch) throws IOException {
        for (Path required : new Path[] {sourceBin.resolve("prometheus"), sourceBin.resolve("promtool"), license,
                notice, exampleConfig}) {
            if (!Files.isRegularFile(required)) {
                throw new IllegalStateException("Prometheus stand-in needs " + required
                        + ": install the Debian packages prometheus and base-files");
            }
        }
        Path releaseDir = serveRoot.resolve(TARBALL_PATH.substring(1)).getParent();
        Files.createDirectories(releaseDir);
        Path tarball = releaseDir.resolve(TARBALL_NAME);
        Path stampFile = scratch.resolve("prometheus-tarball.stamp");
        String stamp = stamp();
        if (!(Files.isRegularFile(tarball) && Files.isRegularFile(stampFile)
                && Files.readString(stampFile).equals(stamp))) {
            writeTarball(tarball, scratch);
            Files.writeString(stampFile, stamp);
        }
        String sha256 = Sha256.of(tarball);
        Files.writeString(releaseDir.resolve("sha256sums.txt"), sha256 + "  " + TARBALL_NAME + "\n",
                StandardCharsets.UTF_8);
        return sha256;
    }

    private String stamp() throws IOException {
        StringBuilder s = new StringBuilder("v1");
        for (String name : new String[] {"prometheus", "promtool"}) {
            Path p = sourceBin.resolve(name);
            s.append(' ').append(name).append(':').append(Files.size(p)).append(':')
                    .append(Files.getLastModifiedTime(p).toMillis());
        }
        return s.toString();
    }

    private void writeTarball(Path tarball, Path scratch) throws IOException {
        Path stage = scratch.resolve("prometheus-stage");
        Tree.delete(stage);
        Path top = Files.createDirectories(stage.resolve(TOP_DIRECTORY));
        copy(sourceBin.resolve("prometheus"), top.resolve("prometheus"), "rwxr-xr-x");
        copy(sourceBin.resolve("promtool"), top.resolve("promtool"), "rwxr-xr-x");
        copy(exampleConfig, top.resolve("prometheus.yml"), "rw-r--r--");
        copy(license, top.resolve("LICENSE"), "rw-r--r--");
        copy(notice, top.resolve("NOTICE"), "rw-r--r--");
        Files.setPosixFilePermissions(top, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path tar = scratch.resolve(TARBALL_NAME.replace(".gz", ""));
        ExternalCommand.in(stage, "tar", "--sort=name", "--owner=0", "--group=0", "--numeric-owner",
                "--mtime=@" + RELEASE_EPOCH, "--format=gnu", "-cf", tar.toString(), TOP_DIRECTORY).run();
        Path partial = tarball.resolveSibling(TARBALL_NAME + ".partial");
        // Level 1: the stand-in is rebuilt by tests; size does not matter, time does.
        try (InputStream in = Files.newInputStream(tar);
             OutputStream out = new GZIPOutputStream(Files.newOutputStream(partial), 1 << 16) {
                 {
                     def.setLevel(Deflater.BEST_SPEED);
                 }
             }) {
            in.transferTo(out);
        }
        Files.move(partial, tarball, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        Files.delete(tar);
        Tree.delete(stage);
    }

    private static void copy(Path from, Path to, String mode) throws IOException {
        Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING);
        Files.setPosixFilePermissions(to, PosixFilePermissions.fromString(mode));
    }
}
