package org.workshopfleet.cloud;

/**
 * Receives every create and delete a cloud makes, synchronously, so the record is on disk before the cloud moves on.
 * The ledger implements it; tests use a list.
 */
public interface ResourceRecorder {
    void created(CloudResource resource);

    void deleted(ResourceKind kind, String id);

    /** Records nothing; for read-only use such as {@code status}. */
    ResourceRecorder NONE = new ResourceRecorder() {
        @Override
        public void created(CloudResource resource) {
        }

        @Override
        public void deleted(ResourceKind kind, String id) {
        }
    };
}
