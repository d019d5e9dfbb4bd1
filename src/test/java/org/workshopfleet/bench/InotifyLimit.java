package org.workshopfleet.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The host's {@code fs.inotify.max_user_instances}. Every container's systemd (and its journald, udevd, logind...)
 * holds several inotify instances, all counted against root; Debian's default of 128 runs out at about 20 lab machines
 * (PID 1 of the next container dies with "Failed to allocate manager object: Too many open files"). The benchmark
 * raises it for its run and puts the old value back.
 */
final class InotifyLimit implements AutoCloseable {

    private static final Path KNOB = Path.of("/proc/sys/fs/inotify/max_user_instances");

    private final int before;
    private final int now;

    private InotifyLimit(int before, int now) {
        this.before = before;
        this.now = now;
    }

    /** Raises the limit to at least {@code wanted}; a higher value is left as it is. */
    static InotifyLimit atLeast(int wanted) throws IOException {
        int current = read();
        if (current < 16) {
            throw new IllegalStateException("implausible " + KNOB + " reading: " + current);
        }
        if (current >= wanted) {
            return new InotifyLimit(current, current);
        }
        Files.writeString(KNOB, wanted + "\n");
        return new InotifyLimit(current, wanted);
    }

    /**
     * One read() call: a sysctl file answers only a read at offset 0 (a second read returns end of file), so
     * {@code Files.readString}, which may read the first byte alone, would see "1" for "128".
     */
    private static int read() throws IOException {
        try (java.io.InputStream in = Files.newInputStream(KNOB)) {
            byte[] buf = new byte[64];
            int n = in.read(buf);
            return Integer.parseInt(new String(buf, 0, Math.max(0, n), java.nio.charset.StandardCharsets.US_ASCII).trim());
        }
    }

    String describe() {
        return before == now ? "fs.inotify.max_user_instances = " + now + " (left as it was)"
                : "fs.inotify.max_user_instances raised from " + before + " to " + now + " for this run (restored after)";
    }

    @Override
    public void close() throws IOException {
        if (before != now) {
            Files.writeString(KNOB, before + "\n");
        }
    }
}
