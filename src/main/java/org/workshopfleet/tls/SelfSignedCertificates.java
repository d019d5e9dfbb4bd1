package org.workshopfleet.tls;

import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.regex.Pattern;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.workshopfleet.error.BadInput;

/**
 * Makes a machine's own key (EC P-256) and self-signed server certificate, on the facilitator's computer like the SSH
 * host keys: its one subject alternative name is the machine's address (an IP SAN) or DNS name, so a browser that was
 * told the fingerprint can check it. Java's standard library has no certificate builder; BouncyCastle's, which sshj
 * already brings, is used.
 */
public final class SelfSignedCertificates {

    private static final Pattern IPV4 = Pattern.compile("(?:(?:25[0-5]|2[0-4]\\d|1?\\d?\\d)\\.){3}(?:25[0-5]|2[0-4]\\d|1?\\d?\\d)");
    private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:]+:[0-9A-Fa-f:.]*");
    private static final Pattern DNS = Pattern.compile(
            "(?=.{1,253}$)(?:\\*\\.)?(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*");
    /** Validity starts this much before now: a machine's clock may lag the facilitator's. */
    private static final Duration SKEW = Duration.ofMinutes(5);

    private SelfSignedCertificates() {
    }

    /** A key and a certificate for {@code nameOrIp}, valid from {@code now} (less a little skew) for at least {@code ttl}. */
    public static TlsMaterial make(String nameOrIp, Instant now, Duration ttl) {
        if (ttl.isNegative() || ttl.isZero()) {
            throw new BadInput("certificate lifetime " + ttl + " is not positive: give the fleet a positive ttl");
        }
        GeneralName san = subjectAltName(nameOrIp);
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"));
            KeyPair pair = generator.generateKeyPair();
            X500Name subject = new X500NameBuilder(BCStyle.INSTANCE)
                    .addRDN(BCStyle.O, "workshop-fleet").addRDN(BCStyle.CN, nameOrIp).build();
            byte[] serial = new byte[16];
            new SecureRandom().nextBytes(serial);
            // Rounded up to a whole day past ttl: the certificate outlives the machine it is made for.
            Instant notAfter = now.plus(ttl).plus(Duration.ofDays(1));
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(subject, new BigInteger(1, serial),
                    Date.from(now.minus(SKEW)), Date.from(notAfter), subject, pair.getPublic())
                    .addExtension(Extension.subjectAlternativeName, false, new GeneralNames(san))
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
                    .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
            byte[] der = builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(pair.getPrivate()))
                    .getEncoded();
            X509Certificate certificate = (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(der));
            return TlsMaterial.of(pem("CERTIFICATE", der), pem("PRIVATE KEY", pair.getPrivate().getEncoded()),
                    certificate);
        } catch (GeneralSecurityException | OperatorCreationException | java.io.IOException e) {
            throw new IllegalStateException("cannot make a certificate: " + e.getMessage(), e);
        }
    }

    private static GeneralName subjectAltName(String nameOrIp) {
        if (nameOrIp == null || nameOrIp.isBlank()) {
            throw new BadInput("a machine certificate needs the machine's address or DNS name; none was given");
        }
        if (IPV4.matcher(nameOrIp).matches() || IPV6.matcher(nameOrIp).matches()) {
            return new GeneralName(GeneralName.iPAddress, nameOrIp);
        }
        if (DNS.matcher(nameOrIp).matches()) {
            return new GeneralName(GeneralName.dNSName, nameOrIp);
        }
        throw new BadInput("'" + nameOrIp + "' is neither an IP address nor a DNS name: a certificate needs one");
    }

    private static String pem(String type, byte[] der) {
        String body = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
        return "-----BEGIN " + type + "-----\n" + body + "\n-----END " + type + "-----\n";
    }
}
