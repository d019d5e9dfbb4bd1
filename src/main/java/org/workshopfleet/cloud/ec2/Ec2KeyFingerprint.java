package org.workshopfleet.cloud.ec2;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Locale;

/**
 * The fingerprint EC2 reports ({@code DescribeKeyPairs keyFingerprint}) for a key imported from an OpenSSH public key
 * line (AWS.md A4): for ED25519 the base64-encoded SHA-256 digest of the key blob, for RSA the colon-separated MD5 of
 * the blob (RFC 4716 section 4). An optional {@code SHA256:} prefix (ssh-keygen's form) and missing {@code =} padding
 * are tolerated.
 */
public final class Ec2KeyFingerprint {

    private Ec2KeyFingerprint() {
    }

    /** Whether {@code reported} is the fingerprint of the key in {@code openSshLine}. */
    public static boolean matches(String reported, String openSshLine) {
        if (reported == null || openSshLine == null) {
            return false;
        }
        String[] parts = openSshLine.trim().split("\\s+");
        if (parts.length < 2) {
            return false;
        }
        byte[] blob;
        try {
            blob = Base64.getDecoder().decode(parts[1].getBytes(StandardCharsets.US_ASCII));
        } catch (IllegalArgumentException e) {
            return false;
        }
        String r = reported.trim();
        if (parts[0].equals("ssh-rsa")) {
            return r.toLowerCase(Locale.ROOT).equals(HexFormat.ofDelimiter(":").formatHex(digest("MD5", blob)));
        }
        if (r.startsWith("SHA256:")) {
            r = r.substring("SHA256:".length());
        }
        return r.replaceAll("=+$", "").equals(Base64.getEncoder().withoutPadding().encodeToString(digest("SHA-256", blob)));
    }

    private static byte[] digest(String algorithm, byte[] data) {
        try {
            return MessageDigest.getInstance(algorithm).digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(algorithm + " missing from this JDK", e);
        }
    }
}
