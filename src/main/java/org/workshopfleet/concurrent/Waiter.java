package org.workshopfleet.concurrent;

import org.workshopfleet.error.Interrupted;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;
import java.util.function.DoubleSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * How long to pause between polls and how long to keep polling: the pause after poll {@code n} (0-based) is
 * {@code firstDelay × factorⁿ}, capped at {@code maxDelay}, then shortened by a random fraction of at most
 * {@code jitter} so many clients do not poll in step. Production code takes its policy through a constructor so tests
 * pass {@link #fast()}.
 *
 * @param firstDelay pause after the first poll
 * @param maxDelay   longest pause
 * @param factor     growth of the pause after each poll (at least 1)
 * @param jitter     fraction (0..1) by which each pause is randomly shortened
 * @param timeout    how long {@link #until} keeps polling
 */
public record Waiter(Duration firstDelay, Duration maxDelay, double factor, double jitter, Duration timeout) {

    /** One poll seen by {@link #until}'s callback: its number (0-based), its answer and the time spent so far. */
    public record Poll<T>(int attempt, T value, Duration elapsed) {
    }

    public Waiter {
        Objects.requireNonNull(firstDelay, "firstDelay");
        Objects.requireNonNull(maxDelay, "maxDelay");
        Objects.requireNonNull(timeout, "timeout");
        if (firstDelay.isNegative() || maxDelay.compareTo(firstDelay) < 0 || factor < 1 || jitter < 0 || jitter > 1
                || timeout.isNegative()) {
            throw new IllegalArgumentException("bad waiter: needs 0 <= firstDelay <= maxDelay, factor >= 1, jitter in"
                    + " 0..1 and a timeout >= 0 (got " + firstDelay + ".." + maxDelay + " x" + factor + " jitter "
                    + jitter + " timeout " + timeout + ")");
        }
    }

    /** Millisecond pauses and a 20 s timeout, for tests against in-process stand-ins. */
    public static Waiter fast() {
        return new Waiter(Duration.ofMillis(1), Duration.ofMillis(5), 1.5, 0.0, Duration.ofSeconds(20));
    }

    /** This policy with another timeout. */
    public Waiter withTimeout(Duration other) {
        return new Waiter(firstDelay, maxDelay, factor, jitter, other);
    }

    /** The pause after poll {@code attempt} (0-based); {@code random} gives numbers in [0, 1) for the jitter. */
    public Duration delay(int attempt, DoubleSupplier random) {
        double nanos = firstDelay.toNanos() * Math.pow(factor, Math.min(Math.max(attempt, 0), 60));
        nanos = Math.min(nanos, maxDelay.toNanos());
        nanos -= nanos * jitter * random.getAsDouble();
        return Duration.ofNanos(Math.round(nanos));
    }

    /**
     * Sleeps the pause after poll {@code attempt}.
     *
     * @param what what is being waited for, for the message when interrupted, e.g. {@code "waiting for EC2"}
     * @throws Interrupted when the thread is interrupted (its interrupt flag stays set)
     */
    public void pause(int attempt, String what) {
        sleep(delay(attempt, ThreadLocalRandom.current()::nextDouble), what);
    }

    /** As {@link #pause(int, String)}, but never past {@code deadline}. */
    public void pause(int attempt, Instant deadline, String what) {
        Duration d = delay(attempt, ThreadLocalRandom.current()::nextDouble);
        Duration left = Duration.between(Instant.now(), deadline);
        sleep(d.compareTo(left) <= 0 ? d : left, what);
    }

    /**
     * Polls {@code poll} until {@code done} accepts its answer or the timeout passes, pausing between polls. The
     * callback sees every answer (for progress lines or counting). The first poll happens at once.
     *
     * @return the accepted answer, or empty when the timeout passed first
     * @throws Interrupted when the thread is interrupted while pausing
     */
    public <T> Optional<T> until(Supplier<T> poll, Predicate<? super T> done, Consumer<Poll<T>> onPoll, String what) {
        Instant start = Instant.now();
        Instant deadline = start.plus(timeout);
        for (int attempt = 0; ; attempt++) {
            T value = poll.get();
            onPoll.accept(new Poll<>(attempt, value, Duration.between(start, Instant.now())));
            if (done.test(value)) {
                return Optional.ofNullable(value);
            }
            if (!Instant.now().isBefore(deadline)) {
                return Optional.empty();
            }
            pause(attempt, deadline, what);
        }
    }

    /**
     * Sleeps {@code d} (nothing when it is zero or negative).
     *
     * @throws Interrupted when the thread is interrupted (its interrupt flag stays set)
     */
    public static void sleep(Duration d, String what) {
        if (d.isNegative() || d.isZero()) {
            if (Thread.currentThread().isInterrupted()) {
                throw new Interrupted(what);
            }
            return;
        }
        try {
            Thread.sleep(d.toMillis(), (int) (d.toNanos() % 1_000_000));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Interrupted(what, e);
        }
    }

    /** Sleeps {@code d}, or less if {@code deadline} comes first. */
    public static void sleep(Duration d, Instant deadline, String what) {
        Duration left = Duration.between(Instant.now(), deadline);
        sleep(d.compareTo(left) <= 0 ? d : left, what);
    }
}
