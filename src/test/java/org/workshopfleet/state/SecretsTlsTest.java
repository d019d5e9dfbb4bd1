package org.workshopfleet.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.workshopfleet.tls.TlsMaterial;

/** A machine's own certificate: kept for its address, made again for another address or a longer fleet. */
class SecretsTlsTest {

    @Test
    void aMachinesCertificateIsKeptForItsAddressAndMadeAgainWhenItNoLongerFits(@TempDir Path dir) throws Exception {
        StateFolder folder = new StateFolder(dir.resolve("ws"));
        Secrets secrets = new Secrets(folder, "ws");
        Instant until = Instant.now().plus(Duration.ofHours(4));
        TlsMaterial first = secrets.tlsMaterial(1, "10.231.1.1", until, Duration.ofHours(4));
        assertEquals(first.sha256(), secrets.tlsMaterial(1, "10.231.1.1", until, Duration.ofHours(4)).sha256(),
                "a re-run serves the same certificate");
        Path key = folder.secretsDir().resolve("tls-01.key");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(key)));
        assertEquals(first.keyPem(), Files.readString(key));

        TlsMaterial moved = secrets.tlsMaterial(1, "10.231.1.9", until, Duration.ofHours(4));
        assertNotEquals(first.sha256(), moved.sha256());
        assertTrue(moved.covers("10.231.1.9"));
        Instant later = Instant.now().plus(Duration.ofDays(3));
        TlsMaterial extended = secrets.tlsMaterial(1, "10.231.1.9", later, Duration.ofDays(3));
        assertNotEquals(moved.sha256(), extended.sha256(), "a certificate that would expire first is replaced");
        assertTrue(extended.validAt(later));

        secrets.forget(1);
        assertFalse(Files.exists(key));
        assertFalse(Files.exists(folder.secretsDir().resolve("tls-01.crt")));
    }
}
