package org.workshopfleet.state;

/**
 * The baked image a fleet's machines were launched from ({@code up -Dimage=bake}), as the ledger records it, so that
 * {@code replace} and {@code up}'s heal launch their new machines from it too.
 *
 * @param id         the cloud's id of the image (EC2 AMI id, Lightsail snapshot name, lab layer name)
 * @param recipeHash the image recipe hash it carries (lower-case hex SHA-256): a project whose recipe has changed since
 *                   no longer matches it
 */
public record BakedImage(String id, String recipeHash) {
}
