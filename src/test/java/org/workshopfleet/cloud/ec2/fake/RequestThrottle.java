package org.workshopfleet.cloud.ec2.fake;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongSupplier;

/**
 * EC2's API throttling, as the stand-in applies it: a token bucket per action (and account and region: one stand-in is
 * one of those) refilled at a fixed rate, and for {@code RunInstances} and {@code TerminateInstances} a second bucket
 * counted in instances. A call that finds a bucket empty is answered {@code RequestLimitExceeded}, HTTP 503, and
 * changes nothing (docs/aws-facts.md). Figures and categories from the page "Request throttling for the Amazon EC2 API":
 * <ul>
 *   <li>non-mutating ({@code Describe*}, {@code Get*}): 100 tokens, 20 per second; {@code DescribeInstances},
 *       {@code DescribeSecurityGroups}, {@code DescribeSnapshots} (and others of the page's list) without a filter and
 *       without pagination take from a smaller bucket of their own, 50 tokens, 10 per second;</li>
 *   <li>mutating: 50 tokens, 5 per second; resource-intensive ({@code AuthorizeSecurityGroupIngress},
 *       {@code RevokeSecurityGroupIngress}, {@code CreateKeyPair}): 50 tokens, 5 per second, throttled apart;</li>
 *   <li>uncategorized: {@code RunInstances} 5 tokens, 2 per second; {@code TerminateInstances} 100, 5;
 *       {@code CreateTags} 100, 10; {@code DeleteSnapshot} and {@code DeregisterImage} 100, 5;</li>
 *   <li>resource buckets, in instances: {@code RunInstances} 1000, 2 per second; {@code TerminateInstances} 1000, 20.</li>
 * </ul>
 * Every bucket starts full. Time is the real clock (a test that wants throttling soon sets a small bucket).
 */
final class RequestThrottle {

    record Figures(int capacity, double refillPerSecond) {
    }

    static final Figures NON_MUTATING = new Figures(100, 20);
    static final Figures UNFILTERED = new Figures(50, 10);
    static final Figures MUTATING = new Figures(50, 5);
    static final Figures RESOURCE_INTENSIVE = new Figures(50, 5);
    static final Map<String, Figures> UNCATEGORIZED = Map.of(
            "RunInstances", new Figures(5, 2),
            "TerminateInstances", new Figures(100, 5),
            "CreateTags", new Figures(100, 10),
            "DeleteSnapshot", new Figures(100, 5),
            "DeregisterImage", new Figures(100, 5));
    static final Map<String, Figures> RESOURCE = Map.of(
            "RunInstances", new Figures(1000, 2),
            "TerminateInstances", new Figures(1000, 20));
    static final Set<String> INTENSIVE = Set.of("AuthorizeSecurityGroupIngress", "RevokeSecurityGroupIngress",
            "CreateKeyPair");
    /** The actions of the page's list that our stand-in serves; asked without filter or pagination, the small bucket. */
    static final Set<String> UNFILTERED_ACTIONS = Set.of("DescribeInstances", "DescribeSecurityGroups",
            "DescribeSnapshots");

    private static final class Bucket {
        final Figures figures;
        double tokens;
        long at;

        Bucket(Figures figures, long now) {
            this.figures = figures;
            this.tokens = figures.capacity();
            this.at = now;
        }

        boolean take(double n, long now) {
            tokens = Math.min(figures.capacity(), tokens + (now - at) / 1e9 * figures.refillPerSecond());
            at = now;
            if (tokens < n) {
                return false;
            }
            tokens -= n;
            return true;
        }
    }

    private final LongSupplier nanoTime;
    private final Map<String, Bucket> buckets = new HashMap<>();
    private final Map<String, Figures> overrides = new HashMap<>();
    private boolean on;
    private long throttled;

    RequestThrottle(LongSupplier nanoTime) {
        this.nanoTime = nanoTime;
    }

    synchronized void enabled(boolean enabled) {
        on = enabled;
        buckets.clear();
    }

    synchronized boolean enabled() {
        return on;
    }

    /** Replaces the figures of one bucket ({@code action}, or {@code action + "#resource"}); the bucket starts full. */
    synchronized void override(String bucket, Figures figures) {
        overrides.put(bucket, figures);
        buckets.remove(bucket);
    }

    synchronized long throttled() {
        return throttled;
    }

    /**
     * Takes the call's tokens; false (nothing taken) when a bucket lacks them.
     *
     * @param filteredOrPaged the call names a filter or asks for a page
     * @param resources       instances the call affects (RunInstances' MaxCount, TerminateInstances' ids)
     */
    synchronized boolean admit(String action, boolean filteredOrPaged, int resources) {
        if (!on) {
            return true;
        }
        long now = nanoTime.getAsLong();
        String requestKey = UNFILTERED_ACTIONS.contains(action) && !filteredOrPaged ? action + "#unfiltered" : action;
        Bucket request = bucket(requestKey, requestFigures(action, requestKey), now);
        Bucket resource = RESOURCE.containsKey(action) ? bucket(action + "#resource", RESOURCE.get(action), now) : null;
        // Both must have tokens; neither is spent when either lacks them.
        if (!request.take(1, now)) {
            throttled++;
            return false;
        }
        if (resource != null && !resource.take(Math.max(1, resources), now)) {
            request.tokens += 1;
            throttled++;
            return false;
        }
        return true;
    }

    private Bucket bucket(String key, Figures figures, long now) {
        return buckets.computeIfAbsent(key, k -> new Bucket(overrides.getOrDefault(k, figures), now));
    }

    private static Figures requestFigures(String action, String key) {
        if (key.endsWith("#unfiltered")) {
            return UNFILTERED;
        }
        if (UNCATEGORIZED.containsKey(action)) {
            return UNCATEGORIZED.get(action);
        }
        if (INTENSIVE.contains(action)) {
            return RESOURCE_INTENSIVE;
        }
        for (String prefix : List.of("Describe", "Get", "List", "Search")) {
            if (action.startsWith(prefix)) {
                return NON_MUTATING;
            }
        }
        return MUTATING;
    }
}
