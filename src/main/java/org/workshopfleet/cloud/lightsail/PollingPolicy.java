package org.workshopfleet.cloud.lightsail;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import org.workshopfleet.FleetException;

/**
 * How {@link LightsailCloud} polls: Lightsail's SDK has no waiters, so the cloud pages GetInstances itself, waiting
 * {@code firstDelay} before the first poll and growing the wait by {@code factor} up to {@code maxDelay}.
 *
 * @param firstDelay  wait before the first poll
 * @param maxDelay    longest wait between polls
 * @param factor      growth of the wait after each poll (at least 1)
 * @param goneTimeout how long teardown waits for deleted instances to disappear from GetInstances
 */
public record PollingPolicy(Duration firstDelay, Duration maxDelay, double factor, Duration goneTimeout) {

    public PollingPolicy {
        Objects.requireNonNull(firstDelay, "firstDelay");
        Objects.requireNonNull(maxDelay, "maxDelay");
        Objects.requireNonNull(goneTimeout, "goneTimeout");
        if (firstDelay.isNegative() || maxDelay.compareTo(firstDelay) < 0 || factor < 1) {
            throw new IllegalArgumentException("polling needs 0 <= firstDelay <= maxDelay and factor >= 1");
        }
    }

    /** For real Lightsail: instances take a minute or two, so 5 s growing to 30 s keeps the call count low. */
    public static PollingPolicy standard() {
        return new PollingPolicy(Duration.ofSeconds(5), Duration.ofSeconds(30), 1.5, Duration.ofMinutes(5));
    }

    /** The wait after {@code current}. */
    Duration next(Duration current) {
        long grown = (long) Math.ceil(current.toNanos() * factor);
        return Duration.ofNanos(Math.min(Math.max(grown, 1), maxDelay.toNanos()));
    }

    /** Sleeps {@code delay}, or less if {@code deadline} comes first; an interrupt is a one-line "re-run" error. */
    static void pause(Duration delay, Instant deadline) {
        Duration left = Duration.between(Instant.now(), deadline);
        pause(delay.compareTo(left) <= 0 ? delay : left);
    }

    /** Sleeps {@code d} (nothing when it is zero or negative); an interrupt is a one-line "re-run" error. */
    static void pause(Duration d) {
        if (d.isNegative() || d.isZero()) {
            return;
        }
        try {
            Thread.sleep(d.toMillis(), (int) (d.toNanos() % 1_000_000));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FleetException("interrupted while waiting for Lightsail: re-run to continue");
        }
    }
}
