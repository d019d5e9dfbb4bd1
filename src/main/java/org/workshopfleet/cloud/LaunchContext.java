package org.workshopfleet.cloud;

import java.time.Instant;
import java.util.List;

/**
 * What a cloud needs besides the machines themselves.
 *
 * @param loginPublicKey the workshop's login key, one OpenSSH line ({@code ssh-ed25519 AAAA… comment})
 * @param cidr           the only source allowed to reach the ingress ports
 * @param ingress        the ports every machine opens to {@code cidr} (from {@code security-groups/})
 * @param expiresAt      when the fleet should be gone; written into tags
 */
public record LaunchContext(String loginPublicKey, String cidr, List<IngressRule> ingress, Instant expiresAt) {
    public LaunchContext {
        ingress = List.copyOf(ingress);
    }
}
