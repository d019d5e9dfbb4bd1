package org.workshopfleet.cloud;

import java.util.Map;

/**
 * A request for one attendee machine.
 *
 * @param attendee attendee number, 1-based
 * @param name     machine name {@code <workshop>-NN}
 * @param userData first-boot configuration in the cloud's {@link UserDataFormat}, raw (the cloud encodes it)
 * @param tags     tags for the machine (and its volume), including the workshop's base tags and expiry
 */
public record NodeRequest(int attendee, String name, String userData, Map<String, String> tags) {
    public NodeRequest {
        tags = Map.copyOf(tags);
    }
}
