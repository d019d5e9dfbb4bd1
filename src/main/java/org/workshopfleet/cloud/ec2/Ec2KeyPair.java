package org.workshopfleet.cloud.ec2;

import java.util.List;
import org.workshopfleet.cloud.CloudResource;
import org.workshopfleet.cloud.ResourceKind;
import org.workshopfleet.cloud.ResourceRecorder;
import org.workshopfleet.error.BadInput;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.Ec2Exception;
import software.amazon.awssdk.services.ec2.model.KeyPairInfo;
import software.amazon.awssdk.services.ec2.model.ResourceType;

/**
 * The workshop's login key pair on EC2, {@code workshop-fleet-<workshop>}: imported from the state folder's public key,
 * adopted when an earlier run of the same state folder imported it, refused when it is someone else's or holds another
 * key, and deleted by teardown.
 */
final class Ec2KeyPair {

    private final Ec2Client ec2;
    private final Ec2Workshop workshop;
    private final ResourceRecorder recorder;

    Ec2KeyPair(Ec2Client ec2, Ec2Workshop workshop, ResourceRecorder recorder) {
        this.ec2 = ec2;
        this.workshop = workshop;
        this.recorder = recorder;
    }

    String name() {
        return workshop.resourceName();
    }

    /** Imports the key, or adopts the pair this workshop's state folder imported before; records it either way. */
    void ensure(String publicKey) {
        String name = name();
        try {
            ec2.importKeyPair(r -> r.keyName(name)
                    .publicKeyMaterial(SdkBytes.fromUtf8String(publicKey.trim()))
                    .tagSpecifications(Ec2Calls.tagSpec(ResourceType.KEY_PAIR, workshop.sharedTags())));
        } catch (Ec2Exception e) {
            if (!"InvalidKeyPair.Duplicate".equals(Ec2Calls.code(e))) {
                throw e;
            }
            // Exists already: ours from an earlier run (adopt it), or someone else's (refuse to touch it).
            List<KeyPairInfo> keys = ec2.describeKeyPairs(r -> r.keyNames(name)).keyPairs();
            String workshopName = workshop.config().workshop();
            if (keys.isEmpty() || !workshop.isOurs(keys.get(0).tags())) {
                throw new BadInput("EC2 key pair '" + name + "' exists but does not belong to workshop '"
                        + workshopName + "': delete it or choose another -Dname");
            }
            // Tagged as this workshop's, but made from another state folder (another computer, or a lost or moved
            // one): machines launched with it would not accept this folder's login key.
            if (!Ec2KeyFingerprint.matches(keys.get(0).keyFingerprint(), publicKey)) {
                throw new BadInput("EC2 key pair '" + name + "' in " + workshop.region() + " belongs to workshop '"
                        + workshopName + "' but holds another login key than the state folder "
                        + workshop.config().stateDir() + ": it was made from another state folder; run the command"
                        + " there, or remove that fleet with -Daction=teardown (it is found by tag) and run up again,"
                        + " or choose another -Dname");
            }
        }
        recorder.created(new CloudResource(ResourceKind.KEY_PAIR, name, name, 0));
    }

    /** The names of the key pairs tagged as this workshop's (the ledger may have lost them). */
    List<String> findOurs() {
        return ec2.describeKeyPairs(r -> r.filters(workshop.tagFilters())).keyPairs().stream()
                .map(KeyPairInfo::keyName).toList();
    }

    void delete(String name) {
        ec2.deleteKeyPair(r -> r.keyName(name)); // 200 even when absent (docs/aws-facts.md)
        recorder.deleted(ResourceKind.KEY_PAIR, name);
    }
}
