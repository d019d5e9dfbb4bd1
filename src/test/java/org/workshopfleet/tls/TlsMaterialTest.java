package org.workshopfleet.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.workshopfleet.error.BadInput;

/** The per-machine certificates and the facilitator's own, as the JDK sees them. */
class TlsMaterialTest {

    @TempDir
    Path dir;

    private static X509Certificate parse(String pem) throws Exception {
        return (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
    }

    @Test
    void aSelfSignedCertificateNamesTheAddressAndOutlivesTheFleet() throws Exception {
        TlsMaterial m = TlsMaterial.selfSigned("203.0.113.7", Duration.ofHours(8));
        X509Certificate cert = parse(m.certificatePem());
        assertEquals(List.of(List.of(7, "203.0.113.7")), List.copyOf(cert.getSubjectAlternativeNames()));
        cert.checkValidity();
        cert.verify(cert.getPublicKey()); // self-signed
        assertTrue(cert.getNotAfter().toInstant().isAfter(Instant.now().plus(Duration.ofHours(8))));
        assertEquals(-1, cert.getBasicConstraints(), "not a CA");
        assertEquals(List.of("1.3.6.1.5.5.7.3.1"), cert.getExtendedKeyUsage(), "server authentication");
        assertTrue(m.keyPem().startsWith("-----BEGIN PRIVATE KEY-----\n"), "PKCS#8, as Apache reads it");
        assertTrue(m.covers("203.0.113.7"));
        assertFalse(m.covers("203.0.113.8"));
    }

    @Test
    void theFingerprintIsTheSha256OfTheDerCertificateAsBrowsersShowIt() throws Exception {
        TlsMaterial m = TlsMaterial.selfSigned("seat1.example.org", Duration.ofHours(1));
        X509Certificate cert = parse(m.certificatePem());
        String expected = HexFormat.ofDelimiter(":").withUpperCase()
                .formatHex(MessageDigest.getInstance("SHA-256").digest(cert.getEncoded()));
        assertEquals(expected, m.sha256());
        assertTrue(m.sha256().matches("([0-9A-F]{2}:){31}[0-9A-F]{2}"), m.sha256());
        assertEquals(List.of(List.of(2, "seat1.example.org")), List.copyOf(cert.getSubjectAlternativeNames()));
        assertNotEquals(m.sha256(), TlsMaterial.selfSigned("seat1.example.org", Duration.ofHours(1)).sha256(),
                "every machine its own key");
        assertFalse(m.toString().contains("PRIVATE"), "no key in toString");
    }

    @Test
    void aGivenCertificateAndItsKeyAreAccepted() throws Exception {
        TlsMaterial made = TlsMaterial.selfSigned("*.example.org", Duration.ofDays(30));
        Path cert = Files.writeString(dir.resolve("cert.pem"), made.certificatePem());
        Path key = Files.writeString(dir.resolve("key.pem"), made.keyPem());
        TlsMaterial given = TlsMaterial.given(cert, key);
        assertEquals(made.sha256(), given.sha256());
        assertTrue(given.covers("seat3.example.org"), "a wildcard covers one label");
        assertFalse(given.covers("a.seat3.example.org"));
    }

    @Test
    void aKeyOfAnotherCertificateIsRefusedInOneLine() throws Exception {
        TlsMaterial one = TlsMaterial.selfSigned("203.0.113.7", Duration.ofHours(1));
        TlsMaterial other = TlsMaterial.selfSigned("203.0.113.7", Duration.ofHours(1));
        Path cert = Files.writeString(dir.resolve("cert.pem"), one.certificatePem());
        Path key = Files.writeString(dir.resolve("key.pem"), other.keyPem());
        BadInput e = assertThrows(BadInput.class, () -> TlsMaterial.given(cert, key));
        assertEquals("the key " + key + " does not belong to the certificate " + cert
                + ": give the key the certificate was issued for", e.getMessage());
        assertFalse(e.getMessage().contains("PRIVATE"));
    }

    @Test
    void anExpiredCertificateIsRefused() throws Exception {
        TlsMaterial old = SelfSignedCertificates.make("203.0.113.7", Instant.now().minus(Duration.ofDays(10)),
                Duration.ofDays(2));
        Path cert = Files.writeString(dir.resolve("cert.pem"), old.certificatePem());
        Path key = Files.writeString(dir.resolve("key.pem"), old.keyPem());
        BadInput e = assertThrows(BadInput.class, () -> TlsMaterial.given(cert, key));
        assertTrue(e.getMessage().startsWith("the certificate " + cert + " expired at "), e.getMessage());
    }

    @Test
    void filesThatAreNotPemAreRefusedWithoutQuotingThem() throws Exception {
        TlsMaterial m = TlsMaterial.selfSigned("203.0.113.7", Duration.ofHours(1));
        Path cert = Files.writeString(dir.resolve("cert.pem"), m.certificatePem());
        Path junk = Files.writeString(dir.resolve("junk.pem"), "secret-looking junk");
        BadInput noKey = assertThrows(BadInput.class, () -> TlsMaterial.given(cert, junk));
        assertFalse(noKey.getMessage().contains("junk\""), noKey.getMessage());
        assertTrue(noKey.getMessage().startsWith("the key file " + junk + " holds no unencrypted PEM private key"));
        BadInput noCert = assertThrows(BadInput.class, () -> TlsMaterial.given(junk, junk));
        assertTrue(noCert.getMessage().contains("PEM certificate") || noCert.getMessage().contains("no certificate"),
                noCert.getMessage());
        assertThrows(BadInput.class, () -> TlsMaterial.given(dir.resolve("missing.pem"), junk));
        assertThrows(BadInput.class, () -> TlsMaterial.selfSigned("not a name!", Duration.ofHours(1)));
    }
}
