package org.workshopfleet.cloud.ec2;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The instance ids one wait covers, growing while launches return on other threads: the poller reads what has arrived
 * so far at each poll, so one {@code DescribeInstances} still covers the whole fleet launched so far. Closed once the
 * last launch returned (or the launching failed, which the poller then throws on its own thread).
 */
final class ArrivingIds {

    private final Set<String> ids = new LinkedHashSet<>();
    private boolean closed;
    private RuntimeException failure;

    /** Ids known from the start (machines already live). */
    ArrivingIds(Collection<String> known) {
        ids.addAll(known);
    }

    /** A fixed set: every id known, nothing more to come. */
    static ArrivingIds of(Collection<String> ids) {
        ArrivingIds all = new ArrivingIds(ids);
        all.close(null);
        return all;
    }

    /** One more machine's launch returned. */
    synchronized void add(String id) {
        ids.add(id);
    }

    /** No more ids will come; {@code failure} (null when none) is why the launching stopped. */
    synchronized void close(RuntimeException failure) {
        closed = true;
        this.failure = failure;
    }

    /** Whether the last launch has returned. */
    synchronized boolean closed() {
        return closed;
    }

    /** Every id so far, in arrival order. */
    synchronized List<String> ids() {
        return new ArrayList<>(ids);
    }

    /** Throws the launching's failure, if it failed. */
    synchronized void rethrow() {
        if (failure != null) {
            throw failure;
        }
    }
}
