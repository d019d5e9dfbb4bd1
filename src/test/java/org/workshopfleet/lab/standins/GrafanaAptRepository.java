package org.workshopfleet.lab.standins;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.zip.GZIPOutputStream;

/**
 * Stand-in for Grafana's apt repository (apt.grafana.com): a signed repository in the real layout
 * ({@code dists/stable/{InRelease,Release,Release.gpg}}, {@code dists/stable/main/binary-amd64/Packages[.gz]},
 * {@code pool/main/g/grafana/}) plus the armored key as {@code gpg-full.key}, so that the real recipe works against it:
 * download the key, check its fingerprint, {@code deb [signed-by=/etc/apt/keyrings/grafana.asc] <repo> stable main},
 * {@code apt-get install grafana}.
 *
 * <p>The one package, {@code grafana}, is built here with {@code dpkg-deb} and installs like Grafana's deb
 * (unit {@code grafana-server.service}, {@code /etc/default/grafana-server}, {@code /etc/grafana/grafana.ini},
 * provisioning directories, a {@code grafana} system user created by postinst, service not started), but its program
 * is the Python Grafana HTTP API stand-in from {@code src/test/resources/standins/grafana/grafana}. It is signed with a
 * throwaway key ({@link SigningKey}), whose fingerprint replaces Grafana's in {@code SourceLocations}.
 *
 * <p>The same repository also serves a second package, {@code ttyd} ({@link #TTYD_DEB_PATH}): Debian 12 has none, and
 * the machines install ttyd with the same {@code apt-get install ttyd} as on Ubuntu 22.04, once this repository is
 * configured. Its program is the Python ttyd stand-in from {@code src/test/resources/standins/ttyd/ttyd} (see its
 * docstring and docs/lab.md for where it differs from ttyd).
 */
public final class GrafanaAptRepository {

    /** Version of the stand-in package; also what its {@code /api/health} reports. */
    public static final String VERSION = "12.3.0";
    /** Where the repository sits on the artifact server. */
    public static final String PATH = "/grafana-apt";
    /** URL path of the armored public key. */
    public static final String KEY_PATH = PATH + "/gpg-full.key";
    /** URL path of the package file. */
    public static final String DEB_PATH = PATH + "/pool/main/g/grafana/grafana_" + VERSION + "_amd64.deb";

    /** Version of the ttyd stand-in package: ttyd 1.6.3, as Ubuntu 22.04 has it. */
    public static final String TTYD_VERSION = "1.6.3-1+standin";
    /** URL path of the ttyd stand-in package file. */
    public static final String TTYD_DEB_PATH = PATH + "/pool/main/t/ttyd/ttyd_" + TTYD_VERSION + "_amd64.deb";

    private static final String TTYD_CONTROL = """
            Package: ttyd
            Version: %s
            Architecture: amd64
            Maintainer: workshop-fleet tests <standins@workshop-fleet.invalid>
            Installed-Size: %d
            Depends: python3
            Section: web
            Priority: optional
            Description: ttyd stand-in (workshop-fleet tests), not ttyd
             A small Python implementation of ttyd 1.6.3's command line, page and
             websocket protocol, for Debian 12 lab machines (Debian has no ttyd).
            """;

    private static final String CONTROL = """
            Package: grafana
            Version: %s
            Architecture: amd64
            Maintainer: workshop-fleet tests <standins@workshop-fleet.invalid>
            Installed-Size: %d
            Depends: adduser, python3, python3-yaml
            Section: default
            Priority: optional
            Homepage: https://grafana.com
            Description: Grafana HTTP API stand-in (workshop-fleet tests), not Grafana
             Installs like Grafana OSS's deb (grafana-server.service, /etc/grafana,
             /var/lib/grafana, user grafana) but runs a small Python implementation of
             the Grafana HTTP API subset that workshop-fleet's provisioner uses.
            """;

    private GrafanaAptRepository() {
    }

    /**
     * Builds the package, the repository and its signatures under {@code serveRoot + PATH}.
     *
     * @return the signing key's fingerprint (what {@code SourceLocations.grafanaKeyFingerprint} must be)
     */
    static String build(Path serveRoot, Path scratch, SigningKey key) throws IOException {
        Path repo = serveRoot.resolve(PATH.substring(1));
        Tree.delete(repo);
        Path deb = repo.resolve(DEB_PATH.substring(PATH.length() + 1));
        Files.createDirectories(deb.getParent());
        buildDeb(scratch.resolve("grafana-deb"), deb);
        Path ttydDeb = repo.resolve(TTYD_DEB_PATH.substring(PATH.length() + 1));
        Files.createDirectories(ttydDeb.getParent());
        buildTtydDeb(scratch.resolve("ttyd-deb"), ttydDeb);

        Path binary = Files.createDirectories(repo.resolve("dists/stable/main/binary-amd64"));
        ExternalCommand.in(repo, "apt-ftparchive", "packages", "pool").runTo(binary.resolve("Packages"));
        gzip(binary.resolve("Packages"), binary.resolve("Packages.gz"));
        Path stable = repo.resolve("dists/stable");
        Path release = scratch.resolve("Release");
        ExternalCommand.in(stable, "apt-ftparchive",
                "-o", "APT::FTPArchive::Release::Origin=grafana-standin",
                "-o", "APT::FTPArchive::Release::Label=grafana-standin",
                "-o", "APT::FTPArchive::Release::Suite=stable",
                "-o", "APT::FTPArchive::Release::Codename=stable",
                "-o", "APT::FTPArchive::Release::Architectures=amd64",
                "-o", "APT::FTPArchive::Release::Components=main",
                "-o", "APT::FTPArchive::Release::Description=Grafana apt repository stand-in (workshop-fleet tests)",
                "release", ".").runTo(release);
        Files.move(release, stable.resolve("Release"), StandardCopyOption.REPLACE_EXISTING);
        key.signRelease(stable.resolve("Release"));
        key.exportPublic(repo.resolve("gpg-full.key"));
        return key.fingerprint();
    }

    private static void buildDeb(Path stage, Path deb) throws IOException {
        Tree.delete(stage);
        String exe = "rwxr-xr-x";
        String doc = "rw-r--r--";
        new StandInResource("grafana/grafana").copyTo(stage.resolve("usr/share/grafana/bin/grafana"), exe);
        new StandInResource("grafana/grafana.ini").copyTo(stage.resolve("usr/share/grafana/conf/sample.ini"), doc);
        new StandInResource("grafana/sample-datasources.yaml")
                .copyTo(stage.resolve("usr/share/grafana/conf/provisioning/datasources/sample.yaml"), doc);
        new StandInResource("grafana/sample-dashboards.yaml")
                .copyTo(stage.resolve("usr/share/grafana/conf/provisioning/dashboards/sample.yaml"), doc);
        new StandInResource("grafana/grafana-server.wrapper").copyTo(stage.resolve("usr/sbin/grafana-server"), exe);
        new StandInResource("grafana/grafana-cli.wrapper").copyTo(stage.resolve("usr/sbin/grafana-cli"), exe);
        new StandInResource("grafana/grafana-server.service")
                .copyTo(stage.resolve("lib/systemd/system/grafana-server.service"), doc);
        new StandInResource("grafana/grafana-server.default").copyTo(stage.resolve("etc/default/grafana-server"), doc);
        new StandInResource("grafana/grafana.ini").copyTo(stage.resolve("etc/grafana/grafana.ini"), "rw-r-----");
        new StandInResource("grafana/postinst").copyTo(stage.resolve("DEBIAN/postinst"), exe);
        new StandInResource("grafana/prerm").copyTo(stage.resolve("DEBIAN/prerm"), exe);
        Files.writeString(stage.resolve("DEBIAN/conffiles"), "/etc/default/grafana-server\n/etc/grafana/grafana.ini\n");
        pack(stage, CONTROL, VERSION, deb);
    }

    private static void buildTtydDeb(Path stage, Path deb) throws IOException {
        Tree.delete(stage);
        new StandInResource("ttyd/ttyd").copyTo(stage.resolve("usr/bin/ttyd"), "rwxr-xr-x");
        Files.createDirectories(stage.resolve("DEBIAN"));
        pack(stage, TTYD_CONTROL, TTYD_VERSION, deb);
    }

    /**
     * Writes {@code stage}'s {@code DEBIAN/control} from {@code control} (its version and the installed size in KiB of
     * the files staged so far), makes every folder 0755 and builds {@code deb} from the stage (reproducibly: owned by
     * root, one fixed date), then removes the stage.
     */
    private static void pack(Path stage, String control, String version, Path deb) throws IOException {
        long kib = 0;
        try (var files = Files.walk(stage)) {
            for (Path p : files.filter(Files::isRegularFile).toList()) {
                kib += (Files.size(p) + 1023) / 1024;
            }
        }
        Files.writeString(stage.resolve("DEBIAN/control"), control.formatted(version, kib), StandardCharsets.UTF_8);
        try (var dirs = Files.walk(stage)) {
            for (Path d : dirs.filter(Files::isDirectory).toList()) {
                Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxr-xr-x"));
            }
        }
        ExternalCommand.in(stage.getParent(), "dpkg-deb", "--root-owner-group", "-Zgzip", "--build",
                stage.toString(), deb.toString())
                .withEnvironment(Map.of("SOURCE_DATE_EPOCH", "1764028800")).run();
        Tree.delete(stage);
    }

    private static void gzip(Path from, Path to) throws IOException {
        try (InputStream in = Files.newInputStream(from); OutputStream out = new GZIPOutputStream(Files.newOutputStream(to))) {
            in.transferTo(out);
        }
    }
}
