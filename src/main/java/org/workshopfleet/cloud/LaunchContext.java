package org.workshopfleet.cloud;

import org.workshopfleet.spec.Cidr;
import java.time.Instant;
import java.util.List;

/**
 * What a cloud needs besides the machines themselves.
 *
 * @param loginPublicKey the workshop's login key, one OpenSSH line ({@code ssh-ed25519 AAAA… comment})
 * @param cidr           the only source allowed to reach the ingress ports, already admitted by the caller
 *                       ({@link Cidr#admitted}): clouds apply it as it is
 * @param ingress        the ports every machine opens to {@code cidr} (from {@code security-groups/})
 * @param expiresAt      when the fleet should be gone; written into tags
 * @param imageId        a baked {@link MachineImage#id()} to launch from, or {@code null} for the cloud's stock
 *                       Ubuntu 22.04 image (EC2 AMI from {@code ami.properties}, Lightsail blueprint, lab base)
 */
public record LaunchContext(String loginPublicKey, Cidr cidr, List<IngressRule> ingress, Instant expiresAt,
                            String imageId) {
    public LaunchContext {
        ingress = List.copyOf(ingress);
    }

    /** A context launching from the cloud's stock image. */
    public LaunchContext(String loginPublicKey, Cidr cidr, List<IngressRule> ingress, Instant expiresAt) {
        this(loginPublicKey, cidr, ingress, expiresAt, null);
    }

    /** The same context launching from this baked image. */
    public LaunchContext withImage(String image) {
        return new LaunchContext(loginPublicKey, cidr, ingress, expiresAt, image);
    }
}
