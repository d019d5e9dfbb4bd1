package org.workshopfleet.cloud.lightsail;

import java.util.List;
import java.util.Map;
import software.amazon.awssdk.services.lightsail.model.InvalidInputException;
import software.amazon.awssdk.services.lightsail.model.Tag;

/** Lightsail's tag lists and name-collision answer, read and written the one way every part uses. */
final class LightsailTags {

    private LightsailTags() {
    }

    /** The value of the tag {@code key}, or null when the resource does not carry it. */
    static String value(List<Tag> tags, String key) {
        for (Tag t : tags) {
            if (key.equals(t.key())) {
                return t.value();
            }
        }
        return null;
    }

    static List<Tag> of(Map<String, String> tags) {
        return tags.entrySet().stream().map(e -> Tag.builder().key(e.getKey()).value(e.getValue()).build()).toList();
    }

    /** Whether a create was refused because the name is taken (Lightsail names are unique across resource types). */
    static boolean isNameExists(InvalidInputException e) {
        return "NameExists".equals(e.code())
                || (e.awsErrorDetails() != null && String.valueOf(e.awsErrorDetails().errorMessage()).contains("already in use"));
    }
}
