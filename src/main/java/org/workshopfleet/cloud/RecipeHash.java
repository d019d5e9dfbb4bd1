package org.workshopfleet.cloud;

import org.workshopfleet.error.BadInput;
import java.util.regex.Pattern;

/**
 * The content hash of an image recipe (lower-case hex SHA-256) and the names and tags a baked image gets from it: the
 * name {@code workshop-fleet-<first 12 hex>} and the tag {@code ImageRecipe=<hash>}. Every cloud names and tags its
 * images through this, so a later workshop with the same recipe finds the image whatever cloud code baked it.
 *
 * @param hex 64 lower-case hex digits
 */
public record RecipeHash(String hex) {

    /** Tag key holding the full recipe hash on images (and EC2 snapshots). */
    public static final String TAG = "ImageRecipe";
    /** Prefix of every baked image's name. */
    public static final String NAME_PREFIX = "workshop-fleet-";
    private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-f]{64}");

    public RecipeHash {
        if (hex == null || !SHA256_HEX.matcher(hex).matches()) {
            throw new BadInput("image recipe hash '" + hex + "' is not 64 lower-case hex digits: this is a bug in"
                    + " the caller, please report it");
        }
    }

    /** {@code workshop-fleet-<first 12 hex>}: valid as an EC2 AMI name and as a Lightsail resource name. */
    public String imageName() {
        return NAME_PREFIX + hex.substring(0, 12);
    }
}
