package org.workshopfleet.provision;

import java.util.List;

/**
 * Receives progress of every machine, from the runner's threads (implementations must be thread-safe). A live
 * display and the ledger both listen; every method has an empty default so a listener implements only what it shows.
 * Nothing passed here is secret.
 */
public interface ProvisionListener {

    /** The machine entered {@code phase}. */
    default void phase(int attendee, String machine, ProvisionPhase phase) {
    }

    /** Setup step {@code index} (1-based) of {@code total} starts. */
    default void stepStarted(int attendee, String machine, int index, int total, String step) {
    }

    /**
     * Setup step {@code index} of {@code total} finished with exit 0, or was {@code skipped} because the machine's
     * marker already held the step's content hash.
     */
    default void stepFinished(int attendee, String machine, int index, int total, String step, boolean skipped) {
    }

    /**
     * The machine stopped: {@code step} is the failing step or phase name, {@code reason} one line, {@code logTail} the
     * last lines of its log. {@link #phase} with {@link ProvisionPhase#FAILED} follows.
     */
    default void failed(int attendee, String machine, String step, String reason, List<String> logTail) {
    }

    /** Listens to nothing. */
    ProvisionListener NONE = new ProvisionListener() {
    };

    /** Forwards every event to each listener in turn. */
    static ProvisionListener all(List<ProvisionListener> listeners) {
        List<ProvisionListener> ls = List.copyOf(listeners);
        return new ProvisionListener() {
            @Override
            public void phase(int attendee, String machine, ProvisionPhase phase) {
                ls.forEach(l -> l.phase(attendee, machine, phase));
            }

            @Override
            public void stepStarted(int attendee, String machine, int index, int total, String step) {
                ls.forEach(l -> l.stepStarted(attendee, machine, index, total, step));
            }

            @Override
            public void stepFinished(int attendee, String machine, int index, int total, String step, boolean skipped) {
                ls.forEach(l -> l.stepFinished(attendee, machine, index, total, step, skipped));
            }

            @Override
            public void failed(int attendee, String machine, String step, String reason, List<String> logTail) {
                ls.forEach(l -> l.failed(attendee, machine, step, reason, logTail));
            }
        };
    }
}
