package org.workshopfleet.render;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The setup scripts: shellcheck-clean, the common prologue, and scripts/lib.sh's primitives exercised for real in
 * bash (no root needed: the primitives are called directly, not through a step).
 */
class ScriptsTest {

    private static final Path SCRIPTS = Path.of("scripts").toAbsolutePath();

    static List<Path> scripts() throws IOException {
        try (Stream<Path> s = Files.list(SCRIPTS)) {
            return s.filter(p -> p.toString().endsWith(".sh")).sorted().toList();
        }
    }

    @Test
    void everyScriptIsShellcheckClean() throws IOException {
        List<String> args = new java.util.ArrayList<>(List.of("-x", "--severity=style"));
        scripts().forEach(p -> args.add(p.getFileName().toString()));
        ExternalTool.Result r = ExternalTool.SHELLCHECK.run(SCRIPTS, args.toArray(String[]::new));
        assertTrue(r.ok(), r.output());
    }

    @Test
    void shellcheckCatchesAMistake(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("bad.sh"), "#!/usr/bin/env bash\nrm -rf $1/*\n");
        assertFalse(ExternalTool.SHELLCHECK.run(dir, "bad.sh").ok());
    }

    @Test
    void everyStepHasTheCommonPrologue() throws IOException {
        for (Path p : scripts()) {
            if (p.getFileName().toString().equals("lib.sh")) {
                continue;
            }
            String s = Files.readString(p);
            assertTrue(s.startsWith("#!/usr/bin/env bash\n"), p.toString());
            assertTrue(s.contains("\nset -euo pipefail\n"), p.toString());
            assertTrue(s.contains("\n. \"$(dirname \"$0\")/lib.sh\"\nsetup_step\n"), p + " must source lib.sh and run setup_step");
            assertTrue(Files.isExecutable(p), p + " is not executable in the repository");
            assertFalse(s.matches("(?s).*curl[^\\n]*\\|\\s*(ba)?sh.*"), p + " pipes a download into a shell");
        }
    }

    @Test
    void osDetectionAcceptsUbuntu2204AndDebian12Only(@TempDir Path dir) throws IOException {
        assertEquals("ubuntu-22.04 8.1 /usr/lib/apache2/modules/libphp8.1.so",
                detect(dir, "NAME=\"Ubuntu\"\nID=ubuntu\nID_LIKE=debian\nVERSION_ID=\"22.04\"\n").output().strip());
        assertEquals("debian-12 8.2 /usr/lib/apache2/modules/libphp8.2.so",
                detect(dir, "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nVERSION_ID=\"12\"\nID=debian\n").output().strip());
        ExternalTool.Result noble = detect(dir, "ID=ubuntu\nVERSION_ID=\"24.04\"\n");
        assertEquals(1, noble.exitCode());
        assertEquals("[test] ERROR: unsupported system 'ubuntu 24.04': workshop machines must run Ubuntu 22.04 or Debian 12",
                noble.output().strip());
    }

    @Test
    void aBundleForAnotherOsIsRefused(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("os-release"), "ID=debian\nVERSION_ID=\"12\"\n");
        Files.writeString(dir.resolve("fleet.env"), "FLEET_OS=ubuntu-22.04\n");
        ExternalTool.Result r = lib(dir, "detect_os; load_fleet_env; echo loaded");
        assertEquals(1, r.exitCode());
        assertTrue(r.output().contains("bundle was rendered for ubuntu-22.04 but this machine runs debian-12"), r.output());
        Files.writeString(dir.resolve("fleet.env"), "FLEET_OS=debian-12\nRELEASE_BASE='http://x'\n");
        ExternalTool.Result ok = lib(dir, "detect_os; load_fleet_env; echo \"$RELEASE_BASE\"");
        assertEquals("http://x", ok.output().strip());
    }

    @Test
    void fetchVerifiedInstallsOnlyAMatchingDownloadAndNeverLeavesABadFile(@TempDir Path dir) throws Exception {
        Path served = dir.resolve("artifact.bin");
        Files.writeString(served, "the real artifact\n");
        String good = sha256(Files.readAllBytes(served));
        String url = served.toUri().toString();
        Path dest = dir.resolve("bin/artifact");

        ExternalTool.Result bad = lib(dir, "fetch_verified '" + url + "' '" + dest + "' " + "0".repeat(64) + " 0755; echo not reached");
        assertEquals(1, bad.exitCode(), bad.output());
        assertTrue(bad.output().contains("SHA-256 mismatch for " + url + ": expected " + "0".repeat(64) + ", got " + good),
                bad.output());
        assertFalse(bad.output().contains("not reached"));
        try (Stream<Path> left = Files.list(dest.getParent())) {
            assertEquals(List.of(), left.toList(), "nothing left behind after a mismatch");
        }

        ExternalTool.Result first = lib(dir, "fetch_verified '" + url + "' '" + dest + "' " + good.toUpperCase() + " 0755; echo changed=$FILE_CHANGED");
        assertTrue(first.output().contains("changed=1"), first.output());
        assertEquals("the real artifact\n", Files.readString(dest));
        assertTrue(Files.isExecutable(dest));
        Files.delete(served); // a re-run must not even download
        ExternalTool.Result second = lib(dir, "fetch_verified '" + url + "' '" + dest + "' " + good + " 0755; echo changed=$FILE_CHANGED");
        assertTrue(second.output().contains("changed=0"), second.output());

        Files.writeString(dest, "tampered\n");
        ExternalTool.Result tampered = lib(dir, "fetch_verified '" + url + "' '" + dest + "' " + good + " 0755");
        assertEquals(1, tampered.exitCode());
        assertEquals("tampered\n", Files.readString(dest), "a failed fetch leaves the old file alone");

        ExternalTool.Result unpinned = lib(dir, "fetch_verified '" + url + "' '" + dest + "' '' 0755");
        assertTrue(unpinned.output().contains("no valid SHA-256 pin"), unpinned.output());
    }

    /**
     * A step killed in the middle of an install leaves dpkg's journal behind, and apt-get then refuses every install:
     * the next run finishes the interrupted one first. dpkg, dpkg-query and apt-get are stand-ins (shell functions)
     * that keep the real ones' contract: apt-get refuses while the journal holds a file, dpkg --configure -a empties it.
     */
    @Test
    void anInstallInterruptedByAnEarlierRunIsFinishedBeforeInstallingAgain(@TempDir Path dir) throws IOException {
        Path journal = Files.createDirectories(dir.resolve("dpkg-updates"));
        Files.writeString(journal.resolve("0007"), "half-written status\n");
        String standIns = "DPKG_UPDATES_DIR='" + journal + "'; calls='" + dir.resolve("calls") + "'\n"
                + "dpkg-query() { [[ -e \"$STATE_DIR/$3\" ]] && printf 'install ok installed'; }\n"
                + "dpkg() { echo \"dpkg $*\" >> \"$calls\"; rm -f \"$DPKG_UPDATES_DIR\"/*; }\n"
                + "apt-get() { echo \"apt-get $3 ${*: -1}\" >> \"$calls\"; [[ $3 == update ]] && return 0\n"
                + "  if compgen -G \"$DPKG_UPDATES_DIR/*\" >/dev/null; then echo 'E: dpkg was interrupted' >&2; return 100; fi\n"
                + "  [[ ${*: -1} != broken ]] || { echo 'E: Unable to locate package broken' >&2; return 100; }\n"
                + "  mkdir -p \"$STATE_DIR\"; touch \"$STATE_DIR/${*: -1}\"; }\n";

        ExternalTool.Result r = lib(dir, standIns + "pkg_ensure php; echo ok");
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().contains("[test] an earlier package run was interrupted: finishing it (dpkg --configure -a),"
                + " then installing again"), r.output());
        assertEquals("apt-get update -qq\napt-get install php\ndpkg --configure -a\napt-get install php\n",
                Files.readString(dir.resolve("calls")));

        Files.delete(dir.resolve("calls"));
        ExternalTool.Result broken = lib(dir, standIns + "pkg_ensure broken; echo not reached");
        assertEquals(1, broken.exitCode(), broken.output());
        assertTrue(broken.output().contains("[test] ERROR: apt-get install broken failed (its error is above)"),
                broken.output());
        assertFalse(Files.readString(dir.resolve("calls")).contains("dpkg --configure"), "no journal, no recovery");
    }

    @Test
    void installFileReportsWhetherItChangedAnything(@TempDir Path dir) throws IOException {
        Path src = dir.resolve("src.conf");
        Files.writeString(src, "[Service]\nEnvironment=A=1\n");
        Path dest = dir.resolve("etc/x/dest.conf");
        String owner = bash(dir, "printf '%s:%s' \"$(id -un)\" \"$(id -gn)\"").output();
        String call = "install_file '" + src + "' '" + dest + "' 0640 '" + owner + "'; echo changed=$FILE_CHANGED";
        assertTrue(lib(dir, call).output().contains("changed=1"));
        assertEquals("640", bash(dir, "stat -c %a '" + dest + "'").output().strip());
        assertTrue(lib(dir, call).output().contains("changed=0"), "same content, mode and owner: untouched");
        bash(dir, "chmod 0644 '" + dest + "'");
        assertTrue(lib(dir, call).output().contains("changed=1"), "mode drift is repaired");
        Files.writeString(src, "[Service]\nEnvironment=A=2\n");
        assertTrue(lib(dir, call).output().contains("changed=1"));
        assertEquals("[Service]\nEnvironment=A=2\n", Files.readString(dest));
        ExternalTool.Result content = lib(dir, "install_content '" + dest + "' 0640 '" + owner
                + "' <<<$'[Service]\\nEnvironment=A=2'; echo changed=$FILE_CHANGED");
        assertTrue(content.output().contains("changed=0"), content.output());
        try (Stream<Path> s = Files.list(dest.getParent())) {
            assertEquals(List.of(dest), s.toList(), "no temporary files left");
        }
    }

    @Test
    void primaryFingerprintsListsPrimaryKeysNotSubkeys(@TempDir Path dir) throws IOException {
        ExternalTool gpg = new ExternalTool("gpg", "gpg").require();
        Path home = Files.createDirectories(dir.resolve("gnupg"));
        Files.setPosixFilePermissions(home, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
        Map<String, String> env = Map.of("GNUPGHOME", home.toString());
        for (String uid : List.of("Stand-in Grafana <a@example.invalid>", "Other <b@example.invalid>")) {
            // A primary key with an encryption subkey, like Grafana's signing key.
            ExternalTool.Result g = gpg.run(dir, null, env, "--batch", "--passphrase", "", "--quick-gen-key", uid,
                    "ed25519", "sign", "never");
            assertTrue(g.ok(), g.output());
            String fpr = primaryOf(gpg, env, uid);
            assertTrue(gpg.run(dir, null, env, "--batch", "--pinentry-mode", "loopback", "--passphrase", "", "--quick-add-key", fpr, "cv25519", "encr", "never").ok());
        }
        String grafana = primaryOf(gpg, env, "Stand-in Grafana");
        String other = primaryOf(gpg, env, "Other");
        Files.writeString(dir.resolve("one.asc"),
                gpg.run(dir, null, env, "--armor", "--export", grafana).output());
        Files.writeString(dir.resolve("both.asc"),
                gpg.run(dir, null, env, "--armor", "--export", grafana, other).output());
        assertEquals(2, gpg.run(dir, null, env, "--with-colons", "--show-keys", "one.asc").output().lines()
                .filter(l -> l.startsWith("fpr:")).count(), "the exported key has a subkey");
        assertEquals(grafana, lib(dir, "primary_fingerprints one.asc").output().strip());
        assertEquals(List.of(grafana, other), lib(dir, "primary_fingerprints both.asc").output().strip().lines().toList());
        Files.writeString(dir.resolve("junk.asc"), "<html>not a key</html>\n");
        ExternalTool.Result junk = lib(dir, "primary_fingerprints junk.asc || echo failed");
        assertEquals("failed", junk.output().strip());
        // gpg started an agent for this throwaway home: stop it rather than leave it behind.
        new ExternalTool("gpgconf", "gpg").run(dir, null, env, "--kill", "gpg-agent");
    }

    private static String primaryOf(ExternalTool gpg, Map<String, String> env, String uid) {
        ExternalTool.Result r = gpg.run(null, null, env, "--batch", "--with-colons", "--list-keys", uid);
        return r.output().lines().filter(l -> l.startsWith("fpr:")).findFirst().orElseThrow().split(":")[9];
    }

    private ExternalTool.Result detect(Path dir, String osRelease) throws IOException {
        Files.writeString(dir.resolve("os-release"), osRelease);
        return lib(dir, "detect_os; echo \"$FLEET_OS_DETECTED $PHP_VERSION $PHP_MODULE\"");
    }

    /** Sources lib.sh (as the steps do) with a test os-release and bundle folder, then runs {@code code}. */
    private static ExternalTool.Result lib(Path dir, String code) {
        return ExternalTool.BASH.run(dir, null, Map.of("OS_RELEASE_FILE", dir.resolve("os-release").toString(),
                        "BUNDLE_DIR", dir.toString(), "STATE_DIR", dir.resolve("state").toString(), "STEP_NAME", "test"),
                "-c", ". '" + SCRIPTS.resolve("lib.sh") + "'; " + code);
    }

    private static ExternalTool.Result bash(Path dir, String code) {
        return ExternalTool.BASH.run(dir, "-c", code);
    }

    private static String sha256(byte[] b) throws NoSuchAlgorithmException {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }
}
