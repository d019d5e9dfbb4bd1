package org.workshopfleet.cloud.lightsail;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.workshopfleet.cloud.CloudResource;
import org.workshopfleet.cloud.ResourceKind;
import org.workshopfleet.error.BadInput;
import org.workshopfleet.ssh.KeyFingerprint;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.lightsail.model.GetKeyPairsResponse;
import software.amazon.awssdk.services.lightsail.model.InvalidInputException;
import software.amazon.awssdk.services.lightsail.model.KeyPair;
import software.amazon.awssdk.services.lightsail.model.NotFoundException;
import software.amazon.awssdk.services.lightsail.model.Tag;

/**
 * The workshop's imported login key pair {@code <workshop>-key}: imported and tagged on prepare, adopted when it is
 * already this workshop's with the same key, refused when it is someone else's or another state folder's, and deleted
 * on teardown together with any other key pair carrying the workshop's tags.
 */
final class LightsailKeyPair {

    private final LightsailSession session;

    LightsailKeyPair(LightsailSession session) {
        this.session = session;
    }

    /** The workshop's key pair: {@code <workshop>-key}. */
    String name() {
        return LightsailCloud.keyPairName(session.config().workshop());
    }

    /** Imports the login key as {@code <workshop>-key} and tags it; adopts it when it is already this workshop's. */
    void ensure(String loginPublicKey) {
        String key = name();
        String line = loginPublicKey.trim();
        try {
            session.client().importKeyPair(b -> b.keyPairName(key).publicKeyBase64(line));
            session.recorder().created(new CloudResource(ResourceKind.KEY_PAIR, key, key, 0));
        } catch (InvalidInputException e) {
            if (!LightsailTags.isNameExists(e)) {
                throw ApiFailure.of("importing key pair " + key, session.region(), e);
            }
            if (adopt(key, line)) {
                return;
            }
        } catch (SdkException e) {
            throw ApiFailure.of("importing key pair " + key, session.region(), e);
        }
        // ImportKeyPair takes no tags: tag afterwards, so teardown finds the key without the ledger.
        tag(key);
    }

    /** Returns true when the existing key is ours and already tagged; false when it still needs the tags. */
    private boolean adopt(String key, String line) {
        String region = session.region();
        KeyPair existing;
        try {
            existing = session.client().getKeyPair(b -> b.keyPairName(key)).keyPair();
        } catch (NotFoundException e) {
            throw new BadInput("the name " + key + " is taken by another Lightsail resource in " + region
                    + ": delete it or choose another workshop name (-Dname=...)");
        } catch (SdkException e) {
            throw ApiFailure.of("reading key pair " + key, region, e);
        }
        boolean tagged = session.isOurs(existing.tags());
        // Which form Lightsail reports for an imported ed25519 key is undocumented (docs/aws-facts.md): accept either.
        boolean sameKey = KeyFingerprint.sha256Matches(existing.fingerprint(), line)
                || KeyFingerprint.md5Matches(existing.fingerprint(), line);
        if (!tagged && !sameKey) {
            throw new BadInput("Lightsail key pair " + key + " in " + region + " already exists and is not"
                    + " this workshop's: delete it in the Lightsail console or choose another workshop name (-Dname=...)");
        }
        // Tagged as ours but made from another state folder: its machines would not take this folder's login key. Only
        // a fingerprint in the form we can compute is held against it (its form is not documented: docs/aws-facts.md).
        if (tagged && !sameKey && KeyFingerprint.isSha256Form(existing.fingerprint())) {
            throw new BadInput("Lightsail key pair " + key + " in " + region + " belongs to workshop '"
                    + session.config().workshop() + "' but holds another login key than the state folder "
                    + session.config().stateDir() + ": it was made from another state folder; run the command there, or"
                    + " remove that fleet with -Daction=teardown (it is found by tag) and run up again, or choose"
                    + " another -Dname");
        }
        session.recorder().created(new CloudResource(ResourceKind.KEY_PAIR, key, key, 0));
        return tagged;
    }

    private void tag(String resourceName) {
        List<Tag> tags = LightsailTags.of(session.config().baseTags());
        try {
            session.afterCreate(() -> session.client().tagResource(b -> b.resourceName(resourceName).tags(tags)));
        } catch (SdkException e) {
            throw ApiFailure.of("tagging " + resourceName, session.region(), e);
        }
    }

    /**
     * Deletes the ledger's key pairs and every key pair carrying the workshop's tags, reporting each to the recorder;
     * one already gone counts as deleted. Run after the instances are gone.
     */
    void deleteAll(Collection<CloudResource> known) {
        Set<String> keys = new TreeSet<>();
        known.stream().filter(r -> r.kind() == ResourceKind.KEY_PAIR).forEach(r -> keys.add(r.id()));
        scan().stream().filter(k -> session.isOurs(k.tags())).forEach(k -> keys.add(k.name()));
        for (String key : keys) {
            try {
                session.client().deleteKeyPair(b -> b.keyPairName(key));
            } catch (NotFoundException e) {
                // already gone
            } catch (SdkException e) {
                throw ApiFailure.of("deleting key pair " + key, session.region(), e);
            }
            session.recorder().deleted(ResourceKind.KEY_PAIR, key);
        }
    }

    /** Every key pair in the region: all GetKeyPairs pages. */
    private List<KeyPair> scan() {
        List<KeyPair> out = new ArrayList<>();
        String token = null;
        do {
            String page = token;
            GetKeyPairsResponse r;
            try {
                r = session.client().getKeyPairs(b -> b.pageToken(page));
            } catch (SdkException e) {
                throw ApiFailure.of("listing key pairs", session.region(), e);
            }
            out.addAll(r.keyPairs());
            token = r.nextPageToken();
        } while (token != null && !token.isEmpty());
        return out;
    }
}
