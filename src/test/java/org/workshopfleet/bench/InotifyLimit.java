package org.workshopfleet.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * The host's {@code fs.inotify.max_user_instances} around a benchmark run: the product ({@code LabHost}) raises it for
 * the fleet it launches and leaves it raised (the machines outlive {@code up}); the benchmark puts the value it found
 * back when its machines are gone. It also counts the inotify instances root holds, to measure what one lab machine
 * needs.
 */
final class InotifyLimit implements AutoCloseable {

    private static final Path KNOB = Path.of("/proc/sys/fs/inotify/max_user_instances");

    private final int before;

    private InotifyLimit(int before) {
        this.before = before;
    }

    static InotifyLimit remember() throws IOException {
        return new InotifyLimit(read());
    }

    int before() {
        return before;
    }

    /** One read() call: a sysctl file answers only a read at offset 0. */
    static int read() throws IOException {
        try (java.io.InputStream in = Files.newInputStream(KNOB)) {
            byte[] buf = new byte[64];
            int n = in.read(buf);
            return Integer.parseInt(new String(buf, 0, Math.max(0, n), java.nio.charset.StandardCharsets.US_ASCII).trim());
        }
    }

    /** inotify instances held by processes whose real uid is 0 (what the limit counts for root). */
    static int rootInstancesInUse() throws IOException {
        int count = 0;
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path p : procs.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
                try {
                    if (!isRoot(p)) {
                        continue;
                    }
                    try (Stream<Path> fds = Files.list(p.resolve("fd"))) {
                        for (Path fd : fds.toList()) {
                            try {
                                if (Files.readSymbolicLink(fd).toString().equals("anon_inode:inotify")) {
                                    count++;
                                }
                            } catch (IOException gone) {
                                // closed meanwhile
                            }
                        }
                    }
                } catch (IOException | java.io.UncheckedIOException gone) {
                    // the process exited meanwhile
                }
            }
        }
        return count;
    }

    private static boolean isRoot(Path proc) throws IOException {
        for (String line : Files.readAllLines(proc.resolve("status"))) {
            if (line.startsWith("Uid:")) {
                return line.split("\\s+")[1].equals("0");
            }
        }
        return false;
    }

    /** Puts the value found at {@link #remember()} back if the run changed it. */
    @Override
    public void close() throws IOException {
        if (read() != before) {
            Files.writeString(KNOB, before + "\n");
        }
    }
}
