package org.workshopfleet.cloud.ec2.fake;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Errors the fake injects, checked on every request before it is served. Failing "before" leaves the state untouched
 * (like a throttled call); {@link #failAfterNext} applies the request and then answers with an error, like a response
 * lost on the way back, which is what client tokens are for.
 */
public final class FaultPlan {

    private record Rule(String operation, String code, int remaining, double rate, Random random, boolean after) {
    }

    private final List<Rule> rules = new ArrayList<>();

    /** The next {@code times} calls of {@code operation} ({@code "*"} = any) fail with {@code code}, changing nothing. */
    public synchronized FaultPlan failNext(String operation, String code, int times) {
        rules.add(new Rule(operation, code, times, 1.0, null, false));
        return this;
    }

    /** The next {@code times} calls of {@code operation} are carried out, then answered with {@code code}. */
    public synchronized FaultPlan failAfterNext(String operation, String code, int times) {
        rules.add(new Rule(operation, code, times, 1.0, null, true));
        return this;
    }

    /** Calls of {@code operation} ({@code "*"} = any) fail with {@code code} at this rate, reproducibly per seed. */
    public synchronized FaultPlan failAtRate(String operation, String code, double rate, long seed) {
        rules.add(new Rule(operation, code, Integer.MAX_VALUE, rate, new Random(seed), false));
        return this;
    }

    /** {@code RequestLimitExceeded} (HTTP 503) on this fraction of all calls. */
    public FaultPlan throttle(double rate, long seed) {
        return failAtRate("*", "RequestLimitExceeded", rate, seed);
    }

    public synchronized void clear() {
        rules.clear();
    }

    /** The fault to answer before serving, if any. */
    synchronized Ec2Error before(String operation) {
        return pick(operation, false);
    }

    /** The fault to answer after serving, if any. */
    synchronized Ec2Error after(String operation) {
        return pick(operation, true);
    }

    private Ec2Error pick(String operation, boolean after) {
        for (int i = 0; i < rules.size(); i++) {
            Rule r = rules.get(i);
            if (r.after() != after || r.remaining() <= 0
                    || !(r.operation().equals("*") || r.operation().equals(operation))) {
                continue;
            }
            if (r.random() != null && r.random().nextDouble() >= r.rate()) {
                continue;
            }
            if (r.remaining() != Integer.MAX_VALUE) {
                rules.set(i, new Rule(r.operation(), r.code(), r.remaining() - 1, r.rate(), r.random(), r.after()));
            }
            return Ec2Error.injected(r.code());
        }
        return null;
    }
}
