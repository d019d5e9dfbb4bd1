package org.workshopfleet.cloud.ec2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class RequestBucketTest {

    private final AtomicLong now = new AtomicLong(1_000_000_000L);

    @Test
    void aFullBucketLetsItsSizeThroughAtOnceThenOneCallPerRefill() {
        RequestBucket bucket = new RequestBucket(5, 2.0, now::get);
        for (int i = 0; i < 5; i++) {
            assertEquals(Duration.ZERO, bucket.reserve(), "token " + (i + 1) + " is in the full bucket");
        }
        assertEquals(Duration.ofMillis(500), bucket.reserve(), "the sixth waits for the next refill");
        assertEquals(Duration.ofMillis(1000), bucket.reserve(), "the seventh for the one after: tokens go in order");
        now.addAndGet(Duration.ofSeconds(1).toNanos());
        assertEquals(Duration.ofMillis(500), bucket.reserve(), "a second later two tokens came, both promised already");
    }

    @Test
    void anIdleBucketRefillsOnlyUpToItsSize() {
        RequestBucket bucket = new RequestBucket(5, 2.0, now::get);
        for (int i = 0; i < 5; i++) {
            bucket.reserve();
        }
        now.addAndGet(Duration.ofMinutes(10).toNanos());
        for (int i = 0; i < 5; i++) {
            assertEquals(Duration.ZERO, bucket.reserve());
        }
        assertEquals(Duration.ofMillis(500), bucket.reserve(), "ten idle minutes still leave only five tokens");
    }

    @Test
    void theFloorOfTwoHundredLaunchesIsNinetySevenAndAHalfSeconds() {
        assertEquals(Duration.ofMillis(97_500), RequestBucket.floor(200, RequestBucket.RUN_INSTANCES_CAPACITY,
                RequestBucket.RUN_INSTANCES_REFILL_PER_SECOND));
        assertEquals(Duration.ZERO, RequestBucket.floor(5, 5, 2.0));
    }

    @Test
    void refusesABucketThatCouldNeverHandOutAToken() {
        assertThrows(IllegalArgumentException.class, () -> new RequestBucket(0, 2.0));
        assertThrows(IllegalArgumentException.class, () -> new RequestBucket(5, 0));
    }
}
