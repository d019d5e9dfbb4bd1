package org.workshopfleet.tls;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.workshopfleet.error.BadInput;

/**
 * What a machine serves HTTPS with: its certificate (PEM, the server's first, then any chain), the matching private key
 * (PEM, secret) and the SHA-256 fingerprint of the server certificate's DER bytes in the colon-separated upper-case hex
 * browsers show ({@code AB:CD:…}), printed on the attendee's card.
 *
 * @param certificatePem the certificate chain, server certificate first
 * @param keyPem         the private key (secret: never logged)
 * @param sha256         fingerprint of the server certificate
 * @param notAfter       end of the server certificate's validity
 * @param names          the server certificate's subject alternative names (IP addresses and DNS names)
 */
public record TlsMaterial(String certificatePem, String keyPem, String sha256, Instant notAfter, List<String> names) {

    public TlsMaterial {
        Objects.requireNonNull(certificatePem, "certificatePem");
        Objects.requireNonNull(keyPem, "keyPem");
        Objects.requireNonNull(sha256, "sha256");
        Objects.requireNonNull(notAfter, "notAfter");
        names = List.copyOf(names);
    }

    /**
     * A fresh key and a self-signed certificate for {@code nameOrIp} (an IPv4/IPv6 address or a DNS name), valid from
     * a minute ago (clock skew) for at least {@code ttl}.
     */
    public static TlsMaterial selfSigned(String nameOrIp, Duration ttl) {
        return SelfSignedCertificates.make(nameOrIp, Instant.now(), ttl);
    }

    /**
     * The facilitator's own certificate (PEM, server certificate first, chain after it; e.g. a wildcard certificate for
     * the seats' names) and its private key (PEM: PKCS#8, PKCS#1 RSA or SEC1 EC). Refused, as bad input, when a file
     * cannot be read or parsed, the key does not belong to the certificate, or the certificate has expired.
     */
    public static TlsMaterial given(Path certPem, Path keyPem) {
        String cert = read(certPem, "certificate");
        String key = read(keyPem, "key");
        List<X509Certificate> chain = certificates(cert, "the certificate file " + certPem);
        X509Certificate leaf = chain.get(0);
        PrivateKey privateKey = privateKey(key, keyPem);
        if (!matches(privateKey, leaf.getPublicKey())) {
            throw new BadInput("the key " + keyPem + " does not belong to the certificate " + certPem
                    + ": give the key the certificate was issued for");
        }
        Instant notAfter = leaf.getNotAfter().toInstant();
        if (!notAfter.isAfter(Instant.now())) {
            throw new BadInput("the certificate " + certPem + " expired at " + notAfter + ": renew it, or leave out"
                    + " the certificate options to use a per-machine self-signed one");
        }
        return of(cert, key, leaf);
    }

    /**
     * Reads back a certificate and key this tool wrote (the state folder's per-machine material), without checks
     * beyond parsing: a file that does not parse gives an {@link IllegalArgumentException}.
     */
    public static TlsMaterial parse(String certificatePem, String keyPem) {
        List<X509Certificate> chain;
        try {
            chain = certificates(certificatePem, "a stored certificate");
        } catch (BadInput e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
        return of(certificatePem, keyPem, chain.get(0));
    }

    static TlsMaterial of(String certificatePem, String keyPem, X509Certificate leaf) {
        return new TlsMaterial(certificatePem, keyPem, fingerprint(leaf), leaf.getNotAfter().toInstant(), names(leaf));
    }

    /** Whether the server certificate names {@code nameOrIp} (a wildcard {@code *.example.org} covers one label). */
    public boolean covers(String nameOrIp) {
        String want = nameOrIp.toLowerCase(Locale.ROOT);
        for (String n : names) {
            String name = n.toLowerCase(Locale.ROOT);
            if (name.equals(want)) {
                return true;
            }
            if (name.startsWith("*.") && want.indexOf('.') > 0
                    && want.substring(want.indexOf('.')).equals(name.substring(1))) {
                return true;
            }
        }
        return false;
    }

    /** Whether the certificate is still valid at {@code at}. */
    public boolean validAt(Instant at) {
        return notAfter.isAfter(at);
    }

    /** SHA-256 of {@code certificate}'s DER bytes as {@code AB:CD:…}. */
    static String fingerprint(X509Certificate certificate) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(certificate.getEncoded());
            return HexFormat.ofDelimiter(":").withUpperCase().formatHex(digest);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static List<String> names(X509Certificate leaf) {
        List<String> out = new ArrayList<>();
        try {
            Collection<List<?>> sans = leaf.getSubjectAlternativeNames();
            if (sans != null) {
                for (List<?> san : sans) {
                    int type = (Integer) san.get(0);
                    if (type == 2 || type == 7) { // dNSName, iPAddress (RFC 5280, 4.2.1.6)
                        out.add(String.valueOf(san.get(1)));
                    }
                }
            }
        } catch (CertificateParsingException e) {
            throw new BadInput("the certificate's subject alternative names do not parse: " + e.getMessage());
        }
        return out;
    }

    private static List<X509Certificate> certificates(String pem, String what) {
        try {
            CertificateFactory factory = CertificateFactory.getInstance("X.509");
            List<X509Certificate> chain = new ArrayList<>();
            for (var c : factory.generateCertificates(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)))) {
                chain.add((X509Certificate) c);
            }
            if (chain.isEmpty()) {
                throw new BadInput(what + " holds no certificate: give a PEM file starting with"
                        + " -----BEGIN CERTIFICATE-----");
            }
            return chain;
        } catch (CertificateException e) {
            throw new BadInput(what + " is not a PEM certificate: give a PEM file starting with"
                    + " -----BEGIN CERTIFICATE-----");
        }
    }

    private static PrivateKey privateKey(String pem, Path file) {
        try (PEMParser parser = new PEMParser(new StringReader(pem))) {
            Object o = parser.readObject();
            JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
            if (o instanceof PEMKeyPair pair) {
                return converter.getPrivateKey(pair.getPrivateKeyInfo());
            }
            if (o instanceof PrivateKeyInfo info) {
                return converter.getPrivateKey(info);
            }
        } catch (IOException | RuntimeException e) {
            // Not shown: the parser's message may quote the file's content, a private key.
        }
        throw new BadInput("the key file " + file + " holds no unencrypted PEM private key: give the key"
                + " (-----BEGIN PRIVATE KEY-----, RSA or EC) without a passphrase");
    }

    /** A signature made with the key verifies with the certificate's public key. */
    private static boolean matches(PrivateKey key, PublicKey certificateKey) {
        String algorithm = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC", "ECDSA" -> "SHA256withECDSA";
            case "Ed25519", "EdDSA" -> "Ed25519";
            default -> null;
        };
        if (algorithm == null) {
            return false;
        }
        try {
            byte[] challenge = new byte[32];
            new SecureRandom().nextBytes(challenge);
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(challenge);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(certificateKey);
            verifier.update(challenge);
            return verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    private static String read(Path file, String what) {
        try {
            return Files.readString(file, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new BadInput("cannot read the TLS " + what + " file " + file + ": give a readable PEM file");
        }
    }

    @Override
    public String toString() {
        // Never the key.
        return "TlsMaterial[" + names + ", SHA-256 " + sha256 + ", until " + notAfter + "]";
    }
}
