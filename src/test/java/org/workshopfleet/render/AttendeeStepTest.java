package org.workshopfleet.render;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * scripts/06-attendee.sh run for real in bash, for the part that builds libbpf where the attendee sources'
 * Makefile.libbpf would git-clone it: the source archive ({@code file://} tree in GitHub's archive layout) is checked
 * against {@code LIBBPF_SHA256} before anything is unpacked or built, and a re-run builds nothing. The archive's
 * {@code src/Makefile} records every build it runs. The user {@code ubuntu} is a stub ({@code getent}, {@code id},
 * {@code runuser}, {@code chown}), the clone already exists ({@code git} is a stub answering its branch), and the
 * step's download cache is pointed into the test folder, so no root is needed.
 */
class AttendeeStepTest {

    private static final Path SCRIPTS = Path.of("scripts").toAbsolutePath();
    private static final String CACHE = "libbpf_cache=/var/cache/workshop-fleet/";

    @TempDir
    Path dir;
    private Path repo;
    private Path builds;
    private Path served;

    @BeforeEach
    void machine() throws IOException {
        Path home = dir.resolve("home/ubuntu");
        repo = home.resolve("ebpf_exporter");
        Files.createDirectories(repo.resolve(".git"));
        Files.createDirectories(repo.resolve("examples"));
        Files.writeString(repo.resolve("examples/php.bpf.c"), "// example\n");
        builds = dir.resolve("builds");

        Path bundle = dir.resolve("bundle");
        Path scripts = Files.createDirectories(bundle.resolve("scripts"));
        Files.copy(SCRIPTS.resolve("lib.sh"), scripts.resolve("lib.sh"));
        String step = Files.readString(SCRIPTS.resolve("06-attendee.sh"));
        assertTrue(step.contains(CACHE), "the step caches the archive under /var/cache/workshop-fleet");
        Files.writeString(scripts.resolve("06-attendee.sh"), step.replace(CACHE, "libbpf_cache=" + dir.resolve("cache") + "/"));
        for (String d : new String[] {"bt", "php"}) {
            Files.createDirectories(bundle.resolve(d));
            Files.writeString(bundle.resolve(d).resolve("sample.txt"), d + "\n");
        }
        Files.writeString(dir.resolve("os-release"), "ID=debian\nVERSION_ID=\"12\"\n");

        Path bin = Files.createDirectories(dir.resolve("stubs"));
        stub(bin.resolve("id"), "#!/bin/sh\nif [ \"$1\" = -gn ]; then echo ubuntu; else echo 0; fi\n");
        stub(bin.resolve("getent"), "#!/bin/sh\necho 'ubuntu:x:1000:1000::" + home + ":/bin/bash'\n");
        stub(bin.resolve("runuser"), "#!/bin/sh\n# runuser -u USER -- CMD...\nshift 3\nexec \"$@\"\n");
        stub(bin.resolve("chown"), "#!/bin/sh\nexit 0\n");
        stub(bin.resolve("git"), "#!/bin/sh\ncase \"$*\" in *rev-parse*) echo ebpf-php-sample ;; *) exit 99 ;; esac\n");

        served = dir.resolve("release/libbpf/libbpf/archive/refs/tags/v1.4.2.tar.gz");
        archive("genuine");
    }

    @Test
    void aVerifiedArchiveIsBuiltWhereMakefileLibbpfExpectsItAndARerunBuildsNothing() throws Exception {
        String pin = sha256(served);
        ExternalTool.Result first = step(pin);
        assertEquals(0, first.exitCode(), first.output());
        Path libbpf = repo.resolve("libbpf");
        assertEquals("genuine\n", Files.readString(libbpf.resolve("dest/usr/lib/libbpf.so.1.4.2")),
                "$(LIBBPF_PATH) of Makefile.libbpf exists, so make considers it done");
        assertTrue(Files.isRegularFile(libbpf.resolve("dest/usr/include/linux/bpf.h")), "install_uapi_headers ran");
        assertEquals("LIBSUBDIR=lib DESTDIR=" + libbpf.resolve("dest") + " goals=install install_uapi_headers\n",
                Files.readString(builds), "the same make invocation as Makefile.libbpf's rule");

        ExternalTool.Result again = step(pin);
        assertEquals(0, again.exitCode(), again.output());
        assertEquals(1, Files.readAllLines(builds).size(), "a re-run builds nothing: " + again.output());
        assertFalse(again.output().contains("downloading"), again.output());
        assertTrue(again.output().contains("libbpf 1.4.2 already built"), again.output());
    }

    @Test
    void aTamperedArchiveIsRefusedAndNothingIsUnpackedOrBuilt() throws Exception {
        String pin = sha256(served);
        archive("tampered");
        ExternalTool.Result refused = step(pin);
        assertEquals(1, refused.exitCode(), refused.output());
        assertTrue(refused.output().contains("SHA-256 mismatch"), refused.output());
        assertFalse(Files.exists(builds), "a tampered archive was built: " + refused.output());
        assertFalse(Files.exists(repo.resolve("libbpf")), "nothing is unpacked");
        assertFalse(Files.exists(dir.resolve("cache/libbpf-v1.4.2.tar.gz")), "the bad download is discarded");
    }

    @Test
    void withoutAPinNothingIsDownloadedOrBuilt() throws Exception {
        ExternalTool.Result refused = step("");
        assertEquals(1, refused.exitCode(), refused.output());
        assertTrue(refused.output().contains("no valid SHA-256 pin"), refused.output());
        assertFalse(Files.exists(builds), refused.output());
        assertFalse(Files.exists(repo.resolve("libbpf")), refused.output());
    }

    @Test
    void aNewPinRebuildsFromTheNewArchive() throws Exception {
        assertEquals(0, step(sha256(served)).exitCode());
        archive("updated");
        ExternalTool.Result rebuilt = step(sha256(served));
        assertEquals(0, rebuilt.exitCode(), rebuilt.output());
        assertEquals(2, Files.readAllLines(builds).size(), rebuilt.output());
        assertEquals("updated\n", Files.readString(repo.resolve("libbpf/dest/usr/lib/libbpf.so.1.4.2")));
    }

    private ExternalTool.Result step(String pin) throws IOException {
        Files.writeString(dir.resolve("bundle/fleet.env"), "FLEET_OS=debian-12\nRELEASE_BASE='"
                + dir.resolve("release").toUri().toString().replaceAll("/$", "") + "'\nATTENDEE_GIT_REMOTE='unused'\n"
                + "ATTENDEE_GIT_BRANCH='ebpf-php-sample'\nLIBBPF_SHA256='" + pin + "'\n");
        return ExternalTool.BASH.run(dir, null, Map.of(
                        "PATH", dir.resolve("stubs") + ":" + System.getenv("PATH"),
                        "OS_RELEASE_FILE", dir.resolve("os-release").toString(),
                        "BUNDLE_DIR", dir.resolve("bundle").toString(),
                        "STATE_DIR", dir.resolve("state").toString()),
                dir.resolve("bundle/scripts/06-attendee.sh").toString());
    }

    /**
     * A source archive in GitHub's layout ({@code libbpf-1.4.2/src/Makefile}) whose install targets record each build
     * and install a "library" holding {@code variant}, so differing archives have differing hashes.
     */
    private void archive(String variant) throws IOException {
        Path stage = dir.resolve("stage-" + variant);
        Path src = Files.createDirectories(stage.resolve("libbpf-1.4.2/src"));
        Files.writeString(src.resolve("Makefile"), """
                install:
                \techo 'LIBSUBDIR=$(LIBSUBDIR) DESTDIR=$(DESTDIR) goals=$(MAKECMDGOALS)' >> %s
                \tmkdir -p $(DESTDIR)/usr/$(LIBSUBDIR)
                \techo %s > $(DESTDIR)/usr/$(LIBSUBDIR)/libbpf.so.1.4.2
                install_uapi_headers:
                \tmkdir -p $(DESTDIR)/usr/include/linux
                \ttouch $(DESTDIR)/usr/include/linux/bpf.h
                """.formatted(builds, variant));
        Files.createDirectories(served.getParent());
        ExternalTool.Result tar = ExternalTool.BASH.run(stage, null, Map.of("PATH", System.getenv("PATH")),
                "-c", "tar -czf '" + served + "' libbpf-1.4.2");
        assertEquals(0, tar.exitCode(), tar.output());
    }

    private static void stub(Path file, String text) throws IOException {
        Files.writeString(file, text);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    private static String sha256(Path file) throws IOException, NoSuchAlgorithmException {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }
}
