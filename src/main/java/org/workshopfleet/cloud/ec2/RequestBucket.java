package org.workshopfleet.cloud.ec2;

import java.time.Duration;
import java.util.function.LongSupplier;
import org.workshopfleet.concurrent.Waiter;

/**
 * This process's own copy of one of EC2's request-token buckets, taken from before each call so that a burst of calls
 * (one {@code RunInstances} per machine) waits here for tokens instead of being answered {@code RequestLimitExceeded}
 * and retried. EC2 keeps a bucket of {@code capacity} tokens per action, account and region, refilled at
 * {@code refillPerSecond}; a call takes one token (page "Request throttling for the Amazon EC2 API"; figures in
 * docs/aws-facts.md). The copy starts full, as the account's bucket is when nothing else spends it; anything else that
 * spends the same account's tokens still gets the odd call throttled, which the caller's retries absorb.
 */
public final class RequestBucket {

    /** {@code RunInstances}' request bucket: 5 tokens, 2 per second (docs/aws-facts.md). */
    public static final int RUN_INSTANCES_CAPACITY = 5;
    public static final double RUN_INSTANCES_REFILL_PER_SECOND = 2.0;

    private final int capacity;
    private final double refillPerSecond;
    private final LongSupplier nanoTime;
    /** Tokens as of {@link #at}; guarded by {@code this}. Negative: calls already promised future tokens. */
    private double tokens;
    private long at;

    /**
     * @param capacity        the bucket's size (at least 1)
     * @param refillPerSecond tokens added per second (positive)
     */
    public RequestBucket(int capacity, double refillPerSecond) {
        this(capacity, refillPerSecond, System::nanoTime);
    }

    RequestBucket(int capacity, double refillPerSecond, LongSupplier nanoTime) {
        if (capacity < 1 || !(refillPerSecond > 0)) {
            throw new IllegalArgumentException("bucket of " + capacity + " tokens refilled at " + refillPerSecond + "/s");
        }
        this.capacity = capacity;
        this.refillPerSecond = refillPerSecond;
        this.nanoTime = nanoTime;
        this.tokens = capacity;
        this.at = nanoTime.getAsLong();
    }

    /**
     * Launches' share of EC2's {@code RunInstances} request bucket: one token less and 5 % slower than the account's
     * bucket. Taken at exactly EC2's rate, every call would arrive just as its token is due and a little early half
     * the time; the one refused then retries against calls that are on time, and all further launches compete for
     * tokens that are already spoken for. The margin leaves room for those retries and for anything else spending the
     * account's tokens, and costs about 5 % of the launch floor.
     */
    public static RequestBucket runInstances() {
        return new RequestBucket(RUN_INSTANCES_CAPACITY - 1, RUN_INSTANCES_REFILL_PER_SECOND * 0.95);
    }

    /** A bucket that never makes anyone wait (for stand-ins that do not throttle). */
    public static RequestBucket unlimited() {
        return new RequestBucket(Integer.MAX_VALUE, 1e12);
    }

    /**
     * Takes one token, first waiting until there is one. Tokens are handed out in the order callers arrive: each caller
     * reserves its token (possibly a future one) under the lock and then sleeps until it exists.
     *
     * @param what what the wait is for, for the message when interrupted
     */
    public void take(String what) {
        Duration wait = reserve();
        if (!wait.isZero()) {
            Waiter.sleep(wait, what);
        }
    }

    /** Reserves one token; returns how long until it exists (zero when it exists now). */
    synchronized Duration reserve() {
        long now = nanoTime.getAsLong();
        tokens = Math.min(capacity, tokens + (now - at) / 1e9 * refillPerSecond);
        at = now;
        tokens -= 1;
        return tokens >= 0 ? Duration.ZERO : Duration.ofNanos((long) Math.ceil(-tokens / refillPerSecond * 1e9));
    }

    /**
     * The shortest time in which {@code calls} calls can all be made against a full bucket: the first
     * {@code capacity} at once, every further one when its token has been refilled.
     */
    public static Duration floor(int calls, int capacity, double refillPerSecond) {
        long waited = Math.max(0, calls - capacity);
        return Duration.ofNanos((long) Math.ceil(waited / refillPerSecond * 1e9));
    }
}
