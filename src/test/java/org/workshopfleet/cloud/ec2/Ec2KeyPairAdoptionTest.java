package org.workshopfleet.cloud.ec2;

import org.workshopfleet.error.FleetException;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.workshopfleet.cloud.LaunchContext;
import org.workshopfleet.cloud.RecordedResources;
import org.workshopfleet.ssh.SshKeyPair;
import software.amazon.awssdk.services.ec2.model.KeyPairInfo;

/**
 * The workshop's EC2 key pair is adopted on a re-run only when it holds this state folder's login key: one made from
 * another state folder (same name, same tags) is refused before any machine is launched.
 */
class Ec2KeyPairAdoptionTest {

    final FleetFixture fx = new FleetFixture();

    @AfterEach
    void close() {
        fx.close();
    }

    @Test
    void theFakeReportsTheFingerprintAsEc2DoesForEd25519() throws Exception {
        fx.cloud(new RecordedResources()).prepare(fx.context);
        KeyPairInfo key = fx.client().describeKeyPairs(r -> r.keyNames("workshop-fleet-" + fx.spec.name())).keyPairs().get(0);
        byte[] blob = Base64.getDecoder().decode(fx.context.loginPublicKey().split(" ")[1].getBytes(StandardCharsets.US_ASCII));
        String expected = Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256").digest(blob));
        assertEquals(expected, key.keyFingerprint(), "base64 SHA-256 of the key blob, padded");
        assertEquals("ed25519", key.keyTypeAsString());
    }

    @Test
    void aRerunFromTheSameFolderAdoptsTheKey() {
        fx.cloud(new RecordedResources()).prepare(fx.context);
        fx.cloud(new RecordedResources()).prepare(fx.context);
        assertEquals(1, fx.fake.keyPairNames().size());
    }

    @Test
    void theWorkshopsKeyFromAnotherStateFolderIsRefusedBeforeAnyLaunch() {
        // Another state folder (another computer) ran up for the same workshop name: same key pair name, same tags.
        LaunchContext elsewhere = fx.context(FleetFixture.CIDR);
        fx.cloud(new RecordedResources()).prepare(elsewhere);
        fx.fake.clearCalls();
        Set<String> groupsBefore = fx.fake.securityGroupNames();

        FleetException e = assertThrows(FleetException.class, () -> fx.cloud(new RecordedResources()).prepare(fx.context));

        String m = e.getMessage();
        assertFalse(m.contains("\n"), m);
        assertTrue(m.contains("belongs to workshop '" + fx.spec.name() + "' but holds another login key"), m);
        assertTrue(m.contains("made from another state folder") && m.contains("-Daction=teardown"), m);
        List<String> ops = fx.fake.calls().stream().map(c -> c.operation()).toList();
        assertFalse(ops.contains("RunInstances") || ops.contains("CreateSecurityGroup")
                || ops.contains("AuthorizeSecurityGroupIngress"), "nothing created or changed: " + ops);
        assertEquals(groupsBefore, fx.fake.securityGroupNames());
        assertEquals(0, fx.fake.launchedInstanceCount());
    }

    @Test
    void fingerprintForms() {
        String line = SshKeyPair.generate("t@x").publicKeyLine();
        String other = SshKeyPair.generate("u@x").publicKeyLine();
        String padded = sha256(line);
        assertTrue(padded.endsWith("="), "a 32-byte digest is padded in base64: " + padded);
        assertTrue(Ec2KeyFingerprint.matches(padded, line));
        assertTrue(Ec2KeyFingerprint.matches(padded.replace("=", ""), line));
        assertTrue(Ec2KeyFingerprint.matches("SHA256:" + padded.replace("=", ""), line));
        assertTrue(Ec2KeyFingerprint.matches(" SHA256:" + padded + " ", line));
        assertFalse(Ec2KeyFingerprint.matches(sha256(other), line));
        assertFalse(Ec2KeyFingerprint.matches(null, line));
        assertFalse(Ec2KeyFingerprint.matches("", line));
        assertFalse(Ec2KeyFingerprint.matches(padded, "not-a-key"));
    }

    private static String sha256(String line) {
        try {
            byte[] blob = Base64.getDecoder().decode(line.split(" ")[1]);
            return Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256").digest(blob));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
