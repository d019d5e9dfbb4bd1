package org.workshopfleet.ssh;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Locale;

/**
 * Compares a fingerprint a cloud reports for an imported key pair with an OpenSSH public key line ({@code ssh-ed25519
 * AAAA… comment}). Two forms exist: the base64 SHA-256 digest of the key blob (OpenSSH's default; AWS's form for ED25519,
 * with or without ssh-keygen's {@code SHA256:} prefix and {@code =} padding) and the colon-separated hex MD5 of the blob
 * (RFC 4716 section 4; AWS's form for imported RSA keys).
 */
public final class KeyFingerprint {

    private static final String PREFIX = "SHA256:";

    private KeyFingerprint() {
    }

    /** Whether {@code reported} is the base64 SHA-256 fingerprint of the key in {@code openSshLine}. */
    public static boolean sha256Matches(String reported, String openSshLine) {
        byte[] blob = blob(openSshLine);
        return blob != null && reported != null
                && unprefixed(reported).equals(Base64.getEncoder().withoutPadding().encodeToString(digest("SHA-256", blob)));
    }

    /** Whether {@code reported} is the colon-separated hex MD5 fingerprint of the key in {@code openSshLine}. */
    public static boolean md5Matches(String reported, String openSshLine) {
        byte[] blob = blob(openSshLine);
        return blob != null && reported != null
                && reported.trim().toLowerCase(Locale.ROOT).equals(HexFormat.ofDelimiter(":").formatHex(digest("MD5", blob)));
    }

    /** Whether {@code reported} has the form of a base64 SHA-256 digest (43 characters, maybe padded and prefixed). */
    public static boolean isSha256Form(String reported) {
        return reported != null && unprefixed(reported).matches("[A-Za-z0-9+/]{43}");
    }

    private static String unprefixed(String reported) {
        String r = reported.trim();
        if (r.startsWith(PREFIX)) {
            r = r.substring(PREFIX.length());
        }
        return r.replaceAll("=+$", "");
    }

    /** The key blob of an OpenSSH public key line, or {@code null} when it is not one. */
    private static byte[] blob(String openSshLine) {
        if (openSshLine == null) {
            return null;
        }
        String[] parts = openSshLine.trim().split("\\s+");
        if (parts.length < 2) {
            return null;
        }
        try {
            return Base64.getDecoder().decode(parts[1].getBytes(StandardCharsets.US_ASCII));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static byte[] digest(String algorithm, byte[] data) {
        try {
            return MessageDigest.getInstance(algorithm).digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(algorithm + " missing from this JDK", e);
        }
    }
}
