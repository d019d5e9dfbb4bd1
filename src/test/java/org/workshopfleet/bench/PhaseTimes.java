package org.workshopfleet.bench;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.workshopfleet.provision.ProvisionListener;
import org.workshopfleet.provision.ProvisionPhase;

/**
 * Listens to the runner and keeps, in {@link System#nanoTime()}: when the first machine started provisioning (its SSH
 * connect), when the last machine was ready for its bundle (cloud-init finished: the end of booting, since lab boot
 * returns as soon as sshd answers), and per machine how long its upload plus steps took.
 */
final class PhaseTimes implements ProvisionListener {

    private final AtomicLong firstConnect = new AtomicLong(Long.MAX_VALUE);
    private final AtomicLong lastUploadStart = new AtomicLong(Long.MIN_VALUE);
    private final AtomicLong lastEnd = new AtomicLong(Long.MIN_VALUE);
    private final Map<String, Long> uploadStart = new ConcurrentHashMap<>();
    private final Map<String, Long> work = new ConcurrentHashMap<>();

    @Override
    public void phase(int attendee, String machine, ProvisionPhase phase) {
        long now = System.nanoTime();
        switch (phase) {
            case CONNECTING -> firstConnect.accumulateAndGet(now, Math::min);
            case UPLOADING -> {
                uploadStart.put(machine, now);
                lastUploadStart.accumulateAndGet(now, Math::max);
            }
            case DONE, FAILED -> {
                lastEnd.accumulateAndGet(now, Math::max);
                Long start = uploadStart.get(machine);
                if (start != null) {
                    work.put(machine, now - start);
                }
            }
            default -> { }
        }
    }

    long firstConnectNanos() {
        return firstConnect.get();
    }

    /** When the last machine had finished cloud-init (Long.MIN_VALUE when none got there). */
    long allBootedNanos() {
        return lastUploadStart.get();
    }

    long lastEndNanos() {
        return lastEnd.get();
    }

    /** The slowest machine's upload + steps, in seconds. */
    double slowestMachineWorkSeconds() {
        return work.values().stream().mapToLong(Long::longValue).max().orElse(0) / 1e9;
    }
}
