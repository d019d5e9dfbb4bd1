package org.workshopfleet.render;

import java.time.Instant;
import org.workshopfleet.spec.WorkshopSpec;
import org.workshopfleet.ssh.SshKeyPair;

/** PLACEHOLDER for the contract (the content helper's branch replaces this file): what one machine is rendered from. */
public record MachineModel(WorkshopSpec spec, int attendee, String hostname, OsProfile os, SshKeyPair hostKey,
                           String loginPublicKey, String grafanaPassword, String sshPassword, Instant expiresAt) {
}
