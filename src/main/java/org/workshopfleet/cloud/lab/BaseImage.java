package org.workshopfleet.cloud.lab;

import org.workshopfleet.error.CloudFailure;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Properties;
import java.util.stream.Stream;

/**
 * The Debian 12 root file system every lab machine is a copy-on-write layer over: debootstrap's minbase plus systemd,
 * OpenSSH, cloud-init (NoCloud only, network left to the host), python3 and an {@code en_US.UTF-8} locale.
 *
 * <p>Built once and cached at {@code <cache>/base-<hash>/rootfs}, the hash covering the package lists and the recipe
 * version, so a changed list builds a new image. The build runs in a temporary folder renamed into place at the end,
 * under a lock file, so a crashed build is never used and two processes racing build it once.
 */
public final class BaseImage {

    /** Packages debootstrap installs on top of minbase. */
    public static final List<String> DEBOOTSTRAP_PACKAGES = List.of("systemd", "systemd-sysv", "openssh-server", "dbus",
            "iproute2", "sudo", "curl", "ca-certificates");
    /** Packages installed with apt afterwards (without recommends: the image stays lean). */
    public static final List<String> EXTRA_PACKAGES = List.of("cloud-init", "python3", "python3-yaml", "locales");
    /** Bump when the build steps below change in a way the package lists do not show. */
    private static final String RECIPE_VERSION = "4";
    private static final String SUITE = "bookworm";
    private static final String MIRROR = "http://deb.debian.org/debian";

    private final Path cacheDir;

    public BaseImage(LabPaths paths) {
        this.cacheDir = paths.cacheDir();
    }

    /** Short content hash naming the image folder. */
    public static String hash() {
        String recipe = String.join(",", DEBOOTSTRAP_PACKAGES) + "|" + String.join(",", EXTRA_PACKAGES) + "|" + SUITE
                + "|" + MIRROR + "|" + RECIPE_VERSION;
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(recipe.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d).substring(0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The image folder (holding {@code rootfs/} and {@code build.properties}) whether or not it is built yet. */
    public Path dir() {
        return cacheDir.resolve("base-" + hash());
    }

    /** The root file system, building it first if needed (about a minute with a nearby mirror). */
    public Path ensure() {
        Path dir = dir();
        if (Files.isRegularFile(dir.resolve("build.properties"))) {
            return dir.resolve("rootfs");
        }
        try (HostLock ignored = HostLock.acquire(cacheDir.resolve("base.lock"))) {
            if (!Files.isRegularFile(dir.resolve("build.properties"))) {
                build(dir);
            }
        }
        return dir.resolve("rootfs");
    }

    /** How long the cached image took to build, or {@code null} when it is not built. */
    public Duration buildTime() {
        Path props = dir().resolve("build.properties");
        if (!Files.isRegularFile(props)) {
            return null;
        }
        Properties p = new Properties();
        try (var in = Files.newInputStream(props)) {
            p.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Duration.ofMillis(Long.parseLong(p.getProperty("buildMillis")));
    }

    private void build(Path dir) {
        Instant start = Instant.now();
        Path tmp = cacheDir.resolve("base-" + hash() + ".tmp-" + ProcessHandle.current().pid());
        try {
            Files.createDirectories(cacheDir);
            removeStaleTemporaries();
            Files.createDirectories(tmp);
            Path rootfs = tmp.resolve("rootfs");
            Path log = tmp.resolve("build.log");
            step(log, "debootstrap", "--variant=minbase", "--include=" + String.join(",", DEBOOTSTRAP_PACKAGES), SUITE,
                    rootfs.toString(), MIRROR);
            Files.writeString(rootfs.resolve("etc/apt/sources.list"),
                    "deb " + MIRROR + " bookworm main\n"
                            + "deb " + MIRROR + " bookworm-updates main\n"
                            + "deb http://deb.debian.org/debian-security bookworm-security main\n");
            List<String> install = new ArrayList<>(List.of("chroot", rootfs.toString(), "apt-get", "install", "-y",
                    "--no-install-recommends"));
            install.addAll(EXTRA_PACKAGES);
            step(log, install.toArray(String[]::new));
            // Debian's locale-gen ignores its arguments and builds what /etc/locale.gen enables; cloud-init's locale
            // module then fails on en_US.UTF-8 (cloud-init status: error) unless it is enabled here.
            Path localeGen = rootfs.resolve("etc/locale.gen");
            Files.writeString(localeGen, Files.readString(localeGen)
                    .replaceFirst("(?m)^#\\s*en_US\\.UTF-8 UTF-8", "en_US.UTF-8 UTF-8"));
            step(log, "chroot", rootfs.toString(), "locale-gen");
            step(log, "chroot", rootfs.toString(), "apt-get", "clean");
            // Every machine gets its own identity: host keys from cloud-init (pinned or generated), a fresh machine id.
            try (Stream<Path> keys = Files.list(rootfs.resolve("etc/ssh"))) {
                for (Path k : keys.filter(k -> k.getFileName().toString().startsWith("ssh_host_")).toList()) {
                    Files.delete(k);
                }
            }
            Files.writeString(rootfs.resolve("etc/machine-id"), "");
            Files.deleteIfExists(rootfs.resolve("var/lib/dbus/machine-id"));
            // NoCloud only (no probing for other clouds); the host configures the machine's address before boot.
            Files.writeString(rootfs.resolve("etc/cloud/cloud.cfg.d/90-workshop-fleet-lab.cfg"),
                    "# workshop-fleet lab: seed from /var/lib/cloud/seed/nocloud, network set up by the host\n"
                            + "datasource_list: [ NoCloud, None ]\nnetwork: {config: disabled}\n"
                            // No nss-myhostname on minbase: without this, sudo warns "unable to resolve host".
                            + "manage_etc_hosts: true\n");
            Duration took = Duration.between(start, Instant.now());
            Properties p = new Properties();
            p.setProperty("hash", hash());
            p.setProperty("builtAt", Instant.now().toString());
            p.setProperty("buildMillis", Long.toString(took.toMillis()));
            p.setProperty("debootstrapPackages", String.join(",", DEBOOTSTRAP_PACKAGES));
            p.setProperty("extraPackages", String.join(",", EXTRA_PACKAGES));
            try (var out = Files.newOutputStream(tmp.resolve("build.properties"))) {
                p.store(out, "workshop-fleet lab base image");
            }
            Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
            removeUnusedOlderImages();
        } catch (IOException e) {
            throw new CloudFailure("lab: building the base image in " + tmp + " failed: " + e.getMessage());
        }
    }

    private static void step(Path log, String... command) {
        HostCommand.Result r = HostCommand.run(List.of(command), log, 1800);
        if (!r.ok()) {
            throw new CloudFailure("lab: base image step '" + command[0] + " " + command[1] + "' failed (exit "
                    + r.exitCode() + "); see " + log);
        }
    }

    /** Images of an older recipe that no mounted machine layers over (a machine's overlay names it as lowerdir). */
    private void removeUnusedOlderImages() throws IOException {
        String mounts = Files.readString(Path.of("/proc/self/mountinfo"));
        try (Stream<Path> s = Files.list(cacheDir)) {
            for (Path p : s.filter(p -> p.getFileName().toString().matches("base-[0-9a-f]{12}")).toList()) {
                if (!p.equals(dir()) && !mounts.contains("lowerdir=" + p.resolve("rootfs"))) {
                    HostCommand.check("rm", "-rf", "--one-file-system", p.toString());
                }
            }
        }
    }

    /** Folders left by a build that crashed (we hold the lock, so no build is running). */
    private void removeStaleTemporaries() throws IOException {
        String prefix = "base-" + hash() + ".tmp-";
        try (Stream<Path> s = Files.list(cacheDir)) {
            for (Path p : s.filter(p -> p.getFileName().toString().startsWith(prefix)).toList()) {
                HostCommand.check("rm", "-rf", "--one-file-system", p.toString());
            }
        }
    }
}
