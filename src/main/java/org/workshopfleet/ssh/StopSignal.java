package org.workshopfleet.ssh;

import java.io.IOException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import net.schmizz.sshj.SSHClient;

/**
 * A one-way switch that ends SSH waits at once (Ctrl-C): once {@link #stop()} is called, {@link Remote#await} gives up
 * without another attempt, a pause between attempts ends, and a connection attempt in flight is disconnected (a socket
 * connect or sshj's read of the server's first line would otherwise hold its thread until a timeout). Thread-safe.
 */
public final class StopSignal {

    private final Set<SSHClient> attempts = ConcurrentHashMap.newKeySet();
    private volatile boolean stopped;

    /** Stops every wait that uses this signal, now and later. */
    public void stop() {
        synchronized (this) {
            stopped = true;
            notifyAll();
        }
        attempts.forEach(StopSignal::disconnect);
    }

    /** True once {@link #stop()} was called. */
    public boolean isStopped() {
        return stopped;
    }

    /** An attempt in flight: disconnected by {@link #stop()} (at once if already stopped). */
    void track(SSHClient client) {
        attempts.add(client);
        if (stopped) {
            disconnect(client);
        }
    }

    void untrack(SSHClient client) {
        attempts.remove(client);
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

    private static void disconnect(SSHClient client) {
        try {
            client.disconnect();
        } catch (IOException | RuntimeException ignored) {
            // the attempt ends either way
        }
    }
}
