package org.workshopfleet.ssh;

import java.security.PublicKey;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import net.schmizz.sshj.common.Buffer;
import net.schmizz.sshj.transport.verification.HostKeyVerifier;

/**
 * Accepts exactly one host key: the one pinned through user-data. There is no trust-on-first-use and no fallback;
 * a different key is refused before authentication and remembered so the caller can name both fingerprints.
 */
final class PinnedHostKeyVerifier implements HostKeyVerifier {

    private final byte[] pinnedBlob;
    private final String algorithm;
    private volatile String presentedFingerprint;

    PinnedHostKeyVerifier(String pinnedKeyLine) {
        String[] parts = pinnedKeyLine.trim().split("\\s+");
        if (parts.length < 2) {
            throw new IllegalArgumentException("pinned host key must be '<type> <base64>'");
        }
        this.algorithm = parts[0];
        this.pinnedBlob = Base64.getDecoder().decode(parts[1]);
    }

    @Override
    public boolean verify(String hostname, int port, PublicKey key) {
        byte[] presented = new Buffer.PlainBuffer().putPublicKey(key).getCompactData();
        if (Arrays.equals(presented, pinnedBlob)) {
            return true;
        }
        presentedFingerprint = SshKeyPair.fingerprintOf(presented);
        return false;
    }

    /** Makes the server present the pinned key type first when it has several host keys. */
    @Override
    public List<String> findExistingAlgorithms(String hostname, int port) {
        return List.of(algorithm);
    }

    String expectedFingerprint() {
        return SshKeyPair.fingerprintOf(pinnedBlob);
    }

    /** The fingerprint of a refused key, or null when none was refused. */
    String presentedFingerprint() {
        return presentedFingerprint;
    }
}
