package org.workshopfleet.cloud.lab;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.workshopfleet.concurrent.Waiter;

/** The host's mount table as the lab reads it ({@code /proc/self/mountinfo}), and taking a lab mount down. */
final class HostMounts {

    private HostMounts() {
    }

    /** Whether something is mounted exactly at {@code p}. */
    static boolean isMountPoint(Path p) {
        String target = p.toAbsolutePath().normalize().toString();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
                String[] f = line.split(" ");
                if (f.length > 4 && f[4].replace("\\040", " ").equals(target)) {
                    return true;
                }
            }
            return false;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Unmounts {@code merged}, retrying while it is busy, and detaches it lazily as the last resort. */
    static void unmount(Path merged) {
        for (int i = 0; i < 20 && isMountPoint(merged); i++) {
            if (!HostCommand.quietly("umount", merged.toString()).ok()) {
                Waiter.sleep(Duration.ofMillis(250), "waiting for a lab machine");
            }
        }
        if (isMountPoint(merged)) {
            HostCommand.quietly("umount", "-l", merged.toString());
        }
    }
}
