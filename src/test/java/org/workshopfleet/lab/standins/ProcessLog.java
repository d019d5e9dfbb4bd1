package org.workshopfleet.lab.standins;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Waits for a line in a started process's log, for tests that run a stand-in as a real process. */
final class ProcessLog {

    private ProcessLog() {
    }

    /** Group 1 of the first match of {@code pattern} in {@code log} within 15 s; fails if the process exits first. */
    static String await(Process process, Path log, Pattern pattern) throws Exception {
        Instant deadline = Instant.now().plusSeconds(15);
        while (Instant.now().isBefore(deadline)) {
            Matcher m = pattern.matcher(Files.readString(log));
            if (m.find()) {
                return m.group(1);
            }
            if (!process.isAlive()) {
                fail("exited: " + Files.readString(log));
            }
            Thread.sleep(50);
        }
        fail("no line matching " + pattern + " in " + Files.readString(log));
        return null;
    }
}
