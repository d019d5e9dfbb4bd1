package org.workshopfleet.ssh;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Cancels a connection attempt whose thread was interrupted. Neither a socket connect nor sshj's blocking read of
 * the server's identification line reacts to {@link Thread#interrupt()}, so one daemon thread looks at the attempts in
 * flight every {@value #PERIOD_MS} ms and cancels those of interrupted threads ({@link AttemptSockets#cancel()}); the
 * attempt then fails at once.
 */
final class InterruptWatch {

    static final long PERIOD_MS = 50;
    private static final Map<Thread, AttemptSockets> WATCHED = new ConcurrentHashMap<>();
    private static Thread watcher;

    private InterruptWatch() {
    }

    /** Watches {@code attempt} until {@link #end()} is called on the same thread. */
    static void begin(AttemptSockets attempt) {
        WATCHED.put(Thread.currentThread(), attempt);
        startWatcher();
    }

    static void end() {
        WATCHED.remove(Thread.currentThread());
    }

    private static synchronized void startWatcher() {
        if (watcher != null) {
            return;
        }
        watcher = new Thread(() -> {
            while (true) {
                WATCHED.forEach((thread, attempt) -> {
                    if (!thread.isAlive()) {
                        WATCHED.remove(thread);
                    } else if (thread.isInterrupted()) {
                        attempt.cancel();
                    }
                });
                try {
                    Thread.sleep(PERIOD_MS);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "ssh-interrupt-watch");
        watcher.setDaemon(true);
        watcher.start();
    }
}
