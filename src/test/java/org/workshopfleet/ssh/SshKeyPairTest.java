package org.workshopfleet.ssh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SshKeyPairTest {

    @Test
    void opensshReadsOurPrivateKeyAndDerivesTheSamePublicKeyAndFingerprint(@TempDir Path dir) throws Exception {
        SshKeyPair key = SshKeyPair.generate("test@fleet");
        Path file = dir.resolve("id");
        Files.writeString(file, key.privateKeyOpenSsh(), StandardCharsets.US_ASCII);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));

        assertEquals(key.publicKeyLine(), run("ssh-keygen", "-y", "-f", file.toString()).trim());
        String listed = run("ssh-keygen", "-l", "-f", file.toString());
        assertTrue(listed.contains(key.fingerprint()), listed);
    }

    @Test
    void roundTripsThroughItsOwnParser() {
        SshKeyPair key = SshKeyPair.generate("round@trip");
        SshKeyPair again = SshKeyPair.parsePrivateKey(key.privateKeyOpenSsh());
        assertEquals(key.publicKeyLine(), again.publicKeyLine());
        assertEquals(key.privateKeyOpenSsh().lines().count(), again.privateKeyOpenSsh().lines().count());
    }

    @Test
    void toStringNeverShowsThePrivateKey() {
        SshKeyPair key = SshKeyPair.generate("secret@fleet");
        assertFalse(key.toString().contains("PRIVATE"));
        assertTrue(key.toString().contains(key.fingerprint()));
    }

    private static String run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        return out;
    }
}
