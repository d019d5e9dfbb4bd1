package org.workshopfleet.cloud.ec2;

import java.time.Duration;
import java.util.Random;
import org.workshopfleet.FleetException;

/**
 * How {@link Ec2Cloud} waits between polls and how long it keeps trying. Production uses {@link #PRODUCTION}; tests
 * pass millisecond delays so a contract test runs in well under a second.
 *
 * @param firstDelay         pause before the second poll
 * @param maxDelay           the pause grows by half each poll up to this
 * @param jitter             fraction (0..1) by which each pause is randomly shortened, so many clients do not poll in step
 * @param terminateTimeout   how long teardown waits for instances to be terminated
 * @param groupDeleteTimeout how long teardown retries {@code DependencyViolation} on the security group (ENIs linger
 *                           after termination, for minutes: docs/aws-facts.md, "Security group teardown")
 */
public record Waiting(Duration firstDelay, Duration maxDelay, double jitter, Duration terminateTimeout,
                      Duration groupDeleteTimeout) {

    /** 2 s growing to 15 s with 20 % jitter; 10 min for termination, 5 min for the security group. */
    public static final Waiting PRODUCTION = new Waiting(Duration.ofSeconds(2), Duration.ofSeconds(15), 0.2,
            Duration.ofMinutes(10), Duration.ofMinutes(5));

    public Waiting {
        if (firstDelay.isNegative() || maxDelay.compareTo(firstDelay) < 0 || jitter < 0 || jitter > 1) {
            throw new IllegalArgumentException("bad waiting policy " + firstDelay + ".." + maxDelay + " jitter " + jitter);
        }
    }

    /** Short pauses for tests against the in-process fake. */
    public static Waiting fast() {
        return new Waiting(Duration.ofMillis(1), Duration.ofMillis(5), 0.0, Duration.ofSeconds(20), Duration.ofSeconds(20));
    }

    /** The pause after poll number {@code attempt} (0-based). */
    public Duration delay(int attempt, Random random) {
        double millis = firstDelay.toMillis() * Math.pow(1.5, Math.min(attempt, 30));
        millis = Math.min(millis, maxDelay.toMillis());
        millis -= millis * jitter * random.nextDouble();
        return Duration.ofMillis(Math.round(millis));
    }

    void pause(int attempt, Random random) {
        try {
            Thread.sleep(delay(attempt, random).toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FleetException("interrupted while waiting for EC2: re-run the same command to continue");
        }
    }
}
