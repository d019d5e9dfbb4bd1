package org.workshopfleet.cloud.lightsail;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Locale;

/**
 * Compares the fingerprint Lightsail reports for a key pair with an OpenSSH public key line. Which form Lightsail uses
 * for an imported ed25519 key is not documented (AWS.md B5), so every common form is accepted: base64 SHA-256 of the
 * key blob with or without {@code SHA256:} and padding (EC2's form for ed25519), and colon-separated hex MD5.
 */
final class KeyFingerprint {

    private KeyFingerprint() {
    }

    static boolean matches(String reported, String openSshLine) {
        if (reported == null || reported.isBlank() || openSshLine == null) {
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
        if (r.startsWith("SHA256:")) {
            r = r.substring("SHA256:".length());
        }
        String sha = Base64.getEncoder().withoutPadding().encodeToString(digest("SHA-256", blob));
        if (r.replaceAll("=+$", "").equals(sha)) {
            return true;
        }
        String md5 = HexFormat.ofDelimiter(":").formatHex(digest("MD5", blob));
        return r.toLowerCase(Locale.ROOT).equals(md5);
    }

    /**
     * Whether {@code reported} has the form of a base64 SHA-256 digest (43 characters, optionally padded and prefixed
     * with {@code SHA256:}), the form {@link #matches} can compare with certainty.
     */
    static boolean isSha256Form(String reported) {
        if (reported == null) {
            return false;
        }
        String r = reported.trim();
        if (r.startsWith("SHA256:")) {
            r = r.substring("SHA256:".length());
        }
        return r.replaceAll("=+$", "").matches("[A-Za-z0-9+/]{43}");
    }

    private static byte[] digest(String algorithm, byte[] data) {
        try {
            return MessageDigest.getInstance(algorithm).digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(algorithm + " missing from this JDK", e);
        }
    }
}
