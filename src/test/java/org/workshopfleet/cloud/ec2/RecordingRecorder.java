package org.workshopfleet.cloud.ec2;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.workshopfleet.cloud.CloudResource;
import org.workshopfleet.cloud.ResourceKind;
import org.workshopfleet.cloud.ResourceRecorder;

/** A ledger stand-in for tests: remembers creates and deletes; can simulate a crash on the first instance record. */
final class RecordingRecorder implements ResourceRecorder {

    private final Map<String, CloudResource> live = new LinkedHashMap<>();
    private final List<CloudResource> created = new ArrayList<>();
    private final List<String> deleted = new ArrayList<>();
    private boolean crashOnFirstInstance;

    /** Throws on the first INSTANCE record, as if the process died after RunInstances returned. */
    static RecordingRecorder crashingOnFirstInstance() {
        RecordingRecorder r = new RecordingRecorder();
        r.crashOnFirstInstance = true;
        return r;
    }

    @Override
    public synchronized void created(CloudResource resource) {
        if (crashOnFirstInstance && resource.kind() == ResourceKind.INSTANCE) {
            crashOnFirstInstance = false;
            throw new IllegalStateException("simulated crash before the ledger was written");
        }
        created.add(resource);
        live.put(resource.kind() + "/" + resource.id(), resource);
    }

    @Override
    public synchronized void deleted(ResourceKind kind, String id) {
        deleted.add(kind + "/" + id);
        live.remove(kind + "/" + id);
    }

    synchronized List<CloudResource> live() {
        return List.copyOf(live.values());
    }

    synchronized List<CloudResource> created() {
        return List.copyOf(created);
    }

    synchronized List<String> deleted() {
        return List.copyOf(deleted);
    }

    synchronized List<String> liveIds(ResourceKind kind) {
        return live.values().stream().filter(r -> r.kind() == kind).map(CloudResource::id).toList();
    }
}
