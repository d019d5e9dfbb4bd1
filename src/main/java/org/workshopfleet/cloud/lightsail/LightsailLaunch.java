package org.workshopfleet.cloud.lightsail;

import java.util.List;
import org.workshopfleet.cloud.NodeRequest;
import org.workshopfleet.error.CloudFailure;
import software.amazon.awssdk.services.lightsail.model.IpAddressType;
import software.amazon.awssdk.services.lightsail.model.NotFoundException;
import software.amazon.awssdk.services.lightsail.model.Tag;

/**
 * The one create call that launches one machine: CreateInstances from the {@link LightsailCloud#BLUEPRINT}, or
 * CreateInstancesFromSnapshot when a baked image is named; the same zone, bundle, key pair, launch script, IPv4-only
 * networking and tags either way. One machine per call: every machine gets its own launch script (pinned host key,
 * passwords), and a call takes one {@code userData} for all its names.
 *
 * @param availabilityZone where the instances go, e.g. {@code ap-northeast-1a}
 * @param keyPairName      the workshop's imported key pair
 */
record LightsailLaunch(LightsailSession session, String availabilityZone, String keyPairName) {

    /** Launches the requested machine; SDK errors (a taken name included) reach the caller as they are. */
    void create(NodeRequest r, String imageId, List<Tag> tags) {
        String bundle = session.config().sizes().get(0);
        if (imageId == null) {
            session.client().createInstances(b -> b.instanceNames(r.name())
                    .availabilityZone(availabilityZone)
                    .blueprintId(LightsailCloud.BLUEPRINT)
                    .bundleId(bundle)
                    .userData(r.userData())
                    .keyPairName(keyPairName)
                    .ipAddressType(IpAddressType.IPV4)
                    .tags(tags));
            return;
        }
        try {
            session.client().createInstancesFromSnapshot(b -> b.instanceNames(r.name())
                    .availabilityZone(availabilityZone)
                    .instanceSnapshotName(imageId)
                    .bundleId(bundle)
                    .userData(r.userData())
                    .keyPairName(keyPairName)
                    .ipAddressType(IpAddressType.IPV4)
                    .tags(tags));
        } catch (NotFoundException e) {
            throw new CloudFailure("the baked image " + imageId + " (a Lightsail instance snapshot) is gone"
                    + " from " + session.region() + ": re-run to bake it again", e);
        }
    }
}
