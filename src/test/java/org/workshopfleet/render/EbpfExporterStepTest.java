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
 * scripts/03-ebpf-exporter.sh run for real in bash: the exporter binary runs as root, so it is never executed before its
 * SHA-256 was checked against a pin ({@code EBPF_EXPORTER_SHA256} in fleet.env: the facilitator's, or the one the
 * ledger recorded from the first machine). The release is a {@code file://} tree; the stand-in binary leaves a marker
 * file whenever anything runs it. The step's install path is pointed into the test folder, and {@code id},
 * {@code uname} and {@code chown} are stubs, so no root is needed.
 */
class EbpfExporterStepTest {

    private static final Path SCRIPTS = Path.of("scripts").toAbsolutePath();
    private static final String INSTALLED = "/usr/local/bin/ebpf_exporter";

    @TempDir
    Path dir;
    private Path marker;
    private Path served;
    private Path installed;

    @BeforeEach
    void machine() throws IOException {
        marker = dir.resolve("ran");
        installed = dir.resolve("usr/local/bin/ebpf_exporter");
        Path scripts = Files.createDirectories(dir.resolve("bundle/scripts"));
        Files.copy(SCRIPTS.resolve("lib.sh"), scripts.resolve("lib.sh"));
        String step = Files.readString(SCRIPTS.resolve("03-ebpf-exporter.sh"));
        assertTrue(step.contains("dest=" + INSTALLED + "\n"), "the step installs to " + INSTALLED);
        Files.createDirectories(installed.getParent());
        Files.writeString(scripts.resolve("03-ebpf-exporter.sh"), step.replace("dest=" + INSTALLED, "dest=" + installed));
        Files.writeString(dir.resolve("os-release"), "ID=ubuntu\nVERSION_ID=\"22.04\"\n");
        Path bin = Files.createDirectories(dir.resolve("stubs"));
        stub(bin.resolve("id"), "#!/bin/sh\necho 0\n");
        stub(bin.resolve("uname"), "#!/bin/sh\necho x86_64\n");
        stub(bin.resolve("chown"), "#!/bin/sh\nexit 0\n");
        served = dir.resolve("release/cloudflare/ebpf_exporter/releases/download/v2.4.2/ebpf_exporter.x86_64");
        Files.createDirectories(served.getParent());
        stub(served, exporter("genuine"));
    }

    @Test
    void withoutAPinTheBinaryIsDownloadedAndRecordedButNeverRun() throws Exception {
        ExternalTool.Result r = step("");
        assertEquals(0, r.exitCode(), r.output());
        assertEquals(Files.readString(served), Files.readString(installed));
        assertEquals(sha256(served) + "\n", Files.readString(dir.resolve("state/observed/ebpf_exporter.sha256")));
        assertFalse(Files.exists(marker), "an unverified binary was executed: " + r.output());
        assertTrue(r.output().contains("not run: no pin yet"), r.output());

        ExternalTool.Result again = step("");
        assertEquals(0, again.exitCode(), again.output());
        assertFalse(Files.exists(marker), "a re-run without a pin must not run it either");
    }

    @Test
    void withTheRecordedHashAMatchingBinaryIsRunAndATamperedDownloadIsRefusedUnrun() throws Exception {
        String recorded = sha256(served);
        stub(served, exporter("tampered"));
        ExternalTool.Result refused = step(recorded);
        assertEquals(1, refused.exitCode(), refused.output());
        assertTrue(refused.output().contains("SHA-256 mismatch"), refused.output());
        assertFalse(Files.exists(installed), "the tampered download is discarded");
        assertFalse(Files.exists(marker), "the tampered binary was executed: " + refused.output());

        // A tampered binary already installed (e.g. by an unpinned first run) is replaced by a verified download.
        Files.copy(served, installed);
        stub(served, exporter("genuine"));
        ExternalTool.Result ok = step(recorded);
        assertEquals(0, ok.exitCode(), ok.output());
        assertEquals(recorded, sha256(installed));
        assertTrue(Files.exists(marker), "a verified binary is checked with --version");
    }

    private ExternalTool.Result step(String pin) throws IOException {
        Files.writeString(dir.resolve("bundle/fleet.env"), "FLEET_OS=ubuntu-22.04\nRELEASE_BASE='"
                + dir.resolve("release").toUri().toString().replaceAll("/$", "") + "'\nEBPF_EXPORTER_SHA256='" + pin + "'\n");
        return ExternalTool.BASH.run(dir, null, Map.of(
                        "PATH", dir.resolve("stubs") + ":" + System.getenv("PATH"),
                        "OS_RELEASE_FILE", dir.resolve("os-release").toString(),
                        "BUNDLE_DIR", dir.resolve("bundle").toString(),
                        "STATE_DIR", dir.resolve("state").toString()),
                dir.resolve("bundle/scripts/03-ebpf-exporter.sh").toString());
    }

    /** A stand-in exporter; {@code variant} makes the genuine and the tampered one differ. */
    private String exporter(String variant) {
        return "#!/bin/sh\n# " + variant + "\ntouch '" + marker + "'\necho 'ebpf_exporter, version 2.4.2'\n";
    }

    private static void stub(Path file, String text) throws IOException {
        Files.writeString(file, text);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    private static String sha256(Path file) throws IOException, NoSuchAlgorithmException {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }
}
