package org.workshopfleet.cloud;

import java.time.Instant;

/**
 * A machine image baked from one fully provisioned machine (EC2 AMI, Lightsail instance snapshot, lab layer). It is
 * shared by every workshop whose image recipe hashes the same, so it carries no workshop tag: teardown never removes it,
 * only an explicit image removal does.
 *
 * @param id         the cloud's id (AMI id, Lightsail snapshot name, lab layer name)
 * @param name       human name, {@code workshop-fleet-<recipe hash prefix>}
 * @param recipeHash lower-case hex SHA-256 of everything baked into it (base image, image steps, their inputs)
 * @param createdAt  when the cloud made it
 */
public record MachineImage(String id, String name, String recipeHash, Instant createdAt) {
}
