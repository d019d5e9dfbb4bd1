package org.workshopfleet.bench;

import java.util.concurrent.atomic.AtomicLong;
import org.workshopfleet.provision.ProvisionListener;
import org.workshopfleet.provision.ProvisionPhase;

/**
 * Listens to the runner: when the first machine started provisioning (connecting over SSH) and when the last one
 * finished. What comes before the first is launch (lab: boot of every machine, which {@code createNodes} waits for).
 */
final class PhaseTimes implements ProvisionListener {

    private final AtomicLong firstStart = new AtomicLong(Long.MAX_VALUE);
    private final AtomicLong lastEnd = new AtomicLong(Long.MIN_VALUE);

    @Override
    public void phase(int attendee, String machine, ProvisionPhase phase) {
        long now = System.nanoTime();
        if (phase == ProvisionPhase.CONNECTING) {
            firstStart.accumulateAndGet(now, Math::min);
        } else if (phase == ProvisionPhase.DONE || phase == ProvisionPhase.FAILED) {
            lastEnd.accumulateAndGet(now, Math::max);
        }
    }

    long firstStartNanos() {
        return firstStart.get();
    }

    /** Seconds from the first machine's SSH connect to the last machine's end. */
    double provisioningSeconds() {
        return firstStart.get() == Long.MAX_VALUE ? 0 : (lastEnd.get() - firstStart.get()) / 1e9;
    }
}
