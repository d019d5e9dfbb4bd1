package org.workshopfleet.state;

import java.time.Instant;
import org.workshopfleet.cloud.CloudResource;
import org.workshopfleet.cloud.ResourceKind;

/** One resource in the ledger; {@code deletedAt} is set once it is gone. */
public record ResourceEntry(ResourceKind kind, String id, String name, int attendee, Instant createdAt,
                            Instant deletedAt) {

    ResourceEntry deleted(Instant at) {
        return new ResourceEntry(kind, id, name, attendee, createdAt, at);
    }

    CloudResource toResource() {
        return new CloudResource(kind, id, name, attendee);
    }
}
