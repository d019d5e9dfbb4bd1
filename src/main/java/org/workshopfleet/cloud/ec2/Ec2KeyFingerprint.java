package org.workshopfleet.cloud.ec2;

import org.workshopfleet.ssh.KeyFingerprint;

/**
 * The fingerprint EC2 reports ({@code DescribeKeyPairs keyFingerprint}) for a key imported from an OpenSSH public key
 * line (Amazon EC2 API Reference, "KeyPairInfo"): for ED25519 the base64-encoded SHA-256 digest of the key blob, for
 * RSA the colon-separated MD5 of the blob (RFC 4716 section 4).
 */
public final class Ec2KeyFingerprint {

    private Ec2KeyFingerprint() {
    }

    /** Whether {@code reported} is the fingerprint of the key in {@code openSshLine}, in the form EC2 uses for its type. */
    public static boolean matches(String reported, String openSshLine) {
        return openSshLine != null && openSshLine.trim().startsWith("ssh-rsa ")
                ? KeyFingerprint.md5Matches(reported, openSshLine)
                : KeyFingerprint.sha256Matches(reported, openSshLine);
    }
}
