package org.workshopfleet.ssh;

import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import net.schmizz.sshj.SSHClient;

/**
 * Disconnects a connection attempt whose thread was interrupted. Neither a socket connect nor sshj's blocking read of
 * the server's identification line reacts to {@link Thread#interrupt()}, so one daemon thread looks at the attempts in
 * flight every {@value #PERIOD_MS} ms and closes those of interrupted threads; the attempt then fails at once.
 */
final class InterruptWatch {

    static final long PERIOD_MS = 50;
    private static final Map<Thread, SSHClient> WATCHED = new ConcurrentHashMap<>();
    private static Thread watcher;

    private InterruptWatch() {
    }

    /** Watches {@code client} until {@link #end()} is called on the same thread. */
    static void begin(SSHClient client) {
        WATCHED.put(Thread.currentThread(), client);
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
                WATCHED.forEach((thread, client) -> {
                    if (!thread.isAlive()) {
                        WATCHED.remove(thread);
                    } else if (thread.isInterrupted()) {
                        try {
                            client.disconnect();
                        } catch (IOException | RuntimeException ignored) {
                            // the attempt ends either way
                        }
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
