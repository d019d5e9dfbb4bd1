package org.workshopfleet.cloud;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A thread-safe in-memory ledger for the cloud suites: what a cloud reported as created and deleted, and what is
 * still open. It can also simulate a crash on the first machine record, to test that a cloud adopts what it made.
 */
public final class RecordedResources implements ResourceRecorder {

    /** Open resources by "KIND:id", in order of first creation; a later record of the same resource replaces it. */
    private final Map<String, CloudResource> live = new LinkedHashMap<>();
    private final List<CloudResource> created = new ArrayList<>();
    private final List<String> deleted = new ArrayList<>();
    /** The kind whose first record throws, or null. */
    private ResourceKind crashOn;

    /** Throws on the first INSTANCE record, as if the process died after the launch call returned. */
    public static RecordedResources crashingOnFirstInstance() {
        return crashingOnFirst(ResourceKind.INSTANCE);
    }

    /** Throws on the first record of this kind, as if the process died before the ledger was written. */
    public static RecordedResources crashingOnFirst(ResourceKind kind) {
        RecordedResources r = new RecordedResources();
        r.crashOn = kind;
        return r;
    }

    @Override
    public synchronized void created(CloudResource resource) {
        if (resource.kind() == crashOn) {
            crashOn = null;
            throw new IllegalStateException("simulated crash before the ledger was written");
        }
        created.add(resource);
        live.put(key(resource.kind(), resource.id()), resource);
    }

    @Override
    public synchronized void deleted(ResourceKind kind, String id) {
        deleted.add(key(kind, id));
        live.remove(key(kind, id));
    }

    /** Every create in order, repeats included. */
    public synchronized List<CloudResource> created() {
        return List.copyOf(created);
    }

    /** Every delete in order, as "KIND:id". */
    public synchronized List<String> deleted() {
        return List.copyOf(deleted);
    }

    /** Created and not deleted since, one entry per resource: what a ledger would hand to teardown. */
    public synchronized List<CloudResource> live() {
        return List.copyOf(live.values());
    }

    /** The ids of the open resources of one kind. */
    public synchronized List<String> liveIds(ResourceKind kind) {
        return live.values().stream().filter(r -> r.kind() == kind).map(CloudResource::id).toList();
    }

    private static String key(ResourceKind kind, String id) {
        return kind + ":" + id;
    }
}
