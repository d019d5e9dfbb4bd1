package org.workshopfleet.cloud.lightsail;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.workshopfleet.cloud.CloudResource;
import org.workshopfleet.cloud.ResourceKind;
import org.workshopfleet.cloud.ResourceRecorder;

/** A thread-safe in-memory ledger for tests: what a cloud reported as created and deleted. */
final class RecordedResources implements ResourceRecorder {

    private final List<CloudResource> created = new ArrayList<>();
    private final List<String> deleted = new ArrayList<>();
    /** Both kinds of event in order: a CloudResource for a create, "KIND:id" for a delete. */
    private final List<Object> events = new ArrayList<>();

    @Override
    public synchronized void created(CloudResource resource) {
        created.add(resource);
        events.add(resource);
    }

    @Override
    public synchronized void deleted(ResourceKind kind, String id) {
        deleted.add(kind + ":" + id);
        events.add(kind + ":" + id);
    }

    synchronized List<CloudResource> created() {
        return List.copyOf(created);
    }

    synchronized List<String> deleted() {
        return List.copyOf(deleted);
    }

    /** Created and not deleted since, one entry per resource: what a ledger would hand to teardown. */
    synchronized List<CloudResource> open() {
        Map<String, CloudResource> open = new LinkedHashMap<>();
        for (Object event : events) {
            if (event instanceof CloudResource r) {
                open.putIfAbsent(r.kind() + ":" + r.id(), r);
            } else {
                open.remove((String) event);
            }
        }
        return List.copyOf(open.values());
    }
}
