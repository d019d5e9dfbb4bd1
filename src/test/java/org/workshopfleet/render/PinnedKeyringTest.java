package org.workshopfleet.render;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * scripts/lib.sh's {@code install_pinned_keyring}, which 05-grafana uses for apt's Grafana keyring: whatever else the
 * downloaded key file holds, the keyring ends up with the pinned key alone, so apt (which trusts every key of a
 * {@code signed-by=} keyring) refuses a repository signed by any other key. Real keys made with gpg; the signature
 * check is gpgv's, as apt runs it.
 */
class PinnedKeyringTest {

    private static final Path LIB = Path.of("scripts/lib.sh").toAbsolutePath();
    private static final ExternalTool GPG = new ExternalTool("gpg", "gpg");
    private static final ExternalTool GPGV = new ExternalTool("gpgv", "gpgv");

    @TempDir
    Path dir;
    private Map<String, String> gpgEnv;
    private String pinned;
    private String attacker;

    @BeforeEach
    void keys() throws IOException {
        GPG.require();
        Path home = Files.createDirectories(dir.resolve("gnupg"));
        Files.setPosixFilePermissions(home, PosixFilePermissions.fromString("rwx------"));
        gpgEnv = Map.of("GNUPGHOME", home.toString());
        pinned = newKey("Stand-in Grafana <grafana@example.invalid>");
        attacker = newKey("Attacker <attacker@example.invalid>");
        // The attacker's key first and last: neither position may slip into the keyring.
        export("both.asc", pinned, attacker);
        export("attacker-first.asc", attacker, pinned);
        export("attacker.asc", attacker);
        Files.writeString(dir.resolve("Release"), "Origin: stand-in\nSuite: stable\n");
        sign(pinned, "Release.pinned.gpg");
        sign(attacker, "Release.attacker.gpg");
        // A stub chown: the keyring is root's on a machine; the test needs no root.
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Files.writeString(bin.resolve("chown"), "#!/bin/sh\nexit 0\n");
        bin.resolve("chown").toFile().setExecutable(true);
    }

    @AfterEach
    void stopAgent() {
        new ExternalTool("gpgconf", "gpg").run(dir, null, gpgEnv, "--kill", "all");
    }

    @Test
    void aKeyFileWithThePinnedKeyAndAnotherInstallsThePinnedKeyAlone() {
        for (String file : List.of("both.asc", "attacker-first.asc")) {
            Path keyring = dir.resolve("keyrings/" + file);
            ExternalTool.Result r = install(file, keyring);
            assertTrue(r.ok(), r.output());
            assertEquals(List.of(pinned), primaryKeys(keyring), file);
            assertTrue(gpgv(keyring, "Release.pinned.gpg").ok(), "the pinned key's signature still verifies");
            ExternalTool.Result forged = gpgv(keyring, "Release.attacker.gpg");
            assertFalse(forged.ok(), "a repository signed by the other key must be refused: " + forged.output());
        }
    }

    @Test
    void aKeyringHoldingAnotherKeyBesideThePinnedOneIsReplaced() throws IOException {
        Path keyring = dir.resolve("grafana.asc");
        // What the step used to install: the whole downloaded file.
        Files.copy(dir.resolve("both.asc"), keyring);
        assertTrue(gpgv(keyring, "Release.attacker.gpg").ok(), "control: such a keyring lets the other key sign");
        ExternalTool.Result r = install("both.asc", keyring);
        assertTrue(r.ok() && r.output().contains("changed=1"), r.output());
        assertEquals(List.of(pinned), primaryKeys(keyring));
        ExternalTool.Result again = install("both.asc", keyring);
        assertTrue(again.output().contains("changed=0"), "exactly the pinned key: left alone, " + again.output());
    }

    @Test
    void aKeyFileWithoutThePinnedKeyIsRefusedAndNothingIsInstalled() {
        Path keyring = dir.resolve("grafana.asc");
        ExternalTool.Result r = install("attacker.asc", keyring);
        assertEquals(1, r.exitCode(), r.output());
        assertTrue(r.output().contains("has fingerprint(s) '" + attacker + "', not the pinned " + pinned + ": not trusted"),
                r.output());
        assertFalse(Files.exists(keyring));
    }

    private ExternalTool.Result install(String keyFile, Path keyring) {
        return ExternalTool.BASH.run(dir, null, Map.of("PATH", dir.resolve("bin") + ":" + System.getenv("PATH"),
                        "STEP_NAME", "test"),
                "-c", ". '" + LIB + "'; install_pinned_keyring '" + dir.resolve(keyFile).toUri() + "' " + pinned + " '"
                        + keyring + "'; echo changed=$FILE_CHANGED");
    }

    private List<String> primaryKeys(Path keyring) {
        ExternalTool.Result r = GPG.run(dir, null, gpgEnv, "--batch", "--with-colons", "--show-keys", keyring.toString());
        assertTrue(r.ok(), r.output());
        List<String> primaries = new java.util.ArrayList<>();
        boolean afterPub = false;
        for (String line : r.output().lines().toList()) {
            if (line.startsWith("pub:")) {
                afterPub = true;
            } else if (line.startsWith("fpr:") && afterPub) {
                primaries.add(line.split(":")[9]);
                afterPub = false;
            }
        }
        return primaries;
    }

    /** gpgv against the keyring, as apt's gpgv method runs it (apt dearmors an .asc keyring first). */
    private ExternalTool.Result gpgv(Path keyring, String signature) {
        Path binary = dir.resolve(keyring.getFileName() + ".gpg");
        assertTrue(GPG.run(dir, null, gpgEnv, "--batch", "--yes", "--output", binary.toString(), "--dearmor",
                keyring.toString()).ok());
        return GPGV.run(dir, null, gpgEnv, "--keyring", binary.toString(), signature, "Release");
    }

    private String newKey(String uid) {
        ExternalTool.Result g = GPG.run(dir, null, gpgEnv, "--batch", "--passphrase", "", "--quick-gen-key", uid,
                "ed25519", "sign", "never");
        assertTrue(g.ok(), g.output());
        ExternalTool.Result r = GPG.run(dir, null, gpgEnv, "--batch", "--with-colons", "--list-keys", uid);
        return r.output().lines().filter(l -> l.startsWith("fpr:")).findFirst().orElseThrow().split(":")[9];
    }

    private void export(String file, String... fingerprints) throws IOException {
        List<String> args = new java.util.ArrayList<>(List.of("--batch", "--armor", "--output", file, "--export"));
        args.addAll(List.of(fingerprints));
        ExternalTool.Result r = GPG.run(dir, null, gpgEnv, args.toArray(String[]::new));
        assertTrue(r.ok() && Files.size(dir.resolve(file)) > 0, r.output());
    }

    private void sign(String fingerprint, String out) {
        ExternalTool.Result r = GPG.run(dir, null, gpgEnv, "--batch", "--pinentry-mode", "loopback", "--passphrase", "",
                "--local-user", fingerprint, "--detach-sign", "--output", out, "Release");
        assertTrue(r.ok(), r.output());
    }
}
