package org.workshopfleet.ssh;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A one-way switch that ends SSH waits at once (Ctrl-C): once {@link #stop()} is called, {@link Remote#await} gives up
 * without another attempt, a pause between attempts ends, and a connection attempt in flight is cancelled
 * ({@link AttemptSockets}: its socket closed, or never opened if the attempt is still making its client), which a
 * socket connect or sshj's read of the server's first line would otherwise hold until a timeout. Thread-safe.
 */
public final class StopSignal {

    private final Set<AttemptSockets> attempts = ConcurrentHashMap.newKeySet();
    private volatile boolean stopped;

    /** Stops every wait that uses this signal, now and later. */
    public void stop() {
        synchronized (this) {
            stopped = true;
            notifyAll();
        }
        attempts.forEach(AttemptSockets::cancel);
    }

    /** True once {@link #stop()} was called. */
    public boolean isStopped() {
        return stopped;
    }

    /** An attempt in flight: cancelled by {@link #stop()} (at once if already stopped). */
    void track(AttemptSockets attempt) {
        attempts.add(attempt);
        if (stopped) {
            attempt.cancel();
        }
    }

    void untrack(AttemptSockets attempt) {
        attempts.remove(attempt);
    }

    /** Waits {@code millis}, or less when stopped. */
    void pause(long millis) throws InterruptedException {
        long end = System.nanoTime() + millis * 1_000_000;
        synchronized (this) {
            for (long left = millis; !stopped && left > 0; left = (end - System.nanoTime()) / 1_000_000) {
                wait(left);
            }
        }
    }
}
