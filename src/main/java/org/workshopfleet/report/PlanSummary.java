package org.workshopfleet.report;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.workshopfleet.cloud.IngressRule;
import org.workshopfleet.spec.Provider;
import org.workshopfleet.spec.WorkshopSpec;

/**
 * The one line shown before the facilitator confirms {@code up}: how many machines of which size where, what they cost
 * per hour at list price (with the price table's date), and which ports are opened to whom, e.g.
 * {@code 30 × t3.medium in ap-northeast-1 ≈ $1.63/h (list price, 2026-11-25); ports 22/80/3000 from 203.0.113.7/32}.
 * The same class writes the plan's cost line, so the two never disagree.
 */
public final class PlanSummary {

    private PlanSummary() {
    }

    /**
     * @param spec    what will be launched ({@code count}, provider, region, first instance type or bundle)
     * @param count   machines to be created by this run (may differ from {@code spec.count()} when adding machines)
     * @param ingress ports opened on every machine
     * @param cidr    who may reach them (the detected or given CIDR)
     */
    public static String line(WorkshopSpec spec, int count, PriceTable prices, List<IngressRule> ingress, String cidr) {
        StringBuilder sb = new StringBuilder();
        Provider p = spec.provider();
        String size = size(spec);
        switch (p) {
            case EC2 -> sb.append(count).append(" × ").append(size).append(" in ").append(spec.region());
            case LIGHTSAIL -> sb.append(count).append(" × Lightsail ").append(size).append(" in ").append(spec.region());
            case LAB -> sb.append(count).append(" × lab machine (local)");
        }
        if (p == Provider.EC2 && spec.instanceTypes().size() > 1) {
            sb.append(" (fallback ").append(String.join(", ", spec.instanceTypes().subList(1, spec.instanceTypes().size())))
                    .append(')');
        }
        if (p == Provider.LAB) {
            sb.append(", no cloud cost");
        } else {
            CostEstimate cost = CostEstimate.of(prices, p, spec.region(), size, count);
            if (cost.known()) {
                sb.append(" ≈ ").append(cost.perHourText()).append(" (list price")
                        .append(cost.estimate() ? ", estimate" : "").append(", ").append(cost.asOf()).append(')');
            } else {
                sb.append(": price unknown (").append(size).append(" in ").append(spec.region())
                        .append(" is not in the price table of ").append(cost.asOf()).append(')');
            }
        }
        Set<String> ports = new LinkedHashSet<>();
        for (IngressRule r : ingress) {
            ports.add(r.protocol().equals("tcp") ? String.valueOf(r.port()) : r.port() + "/" + r.protocol());
        }
        sb.append("; ports ").append(ports.stream().collect(Collectors.joining("/"))).append(" from ").append(cidr);
        return sb.toString();
    }

    /**
     * The line {@code up} and {@code plan} print before anything is created: {@link #line} followed by when the fleet
     * expires and the most it can cost until then, e.g. {@code …; expires 2026-11-26T06:00:00Z (at most $19.57 by then)}.
     */
    public static String withExpiry(WorkshopSpec spec, int count, PriceTable prices, List<IngressRule> ingress, String cidr,
                                    Instant expiresAt) {
        String head = line(spec, count, prices, ingress, cidr) + "; expires " + expiresAt.truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
        if (spec.provider() == Provider.LAB) {
            return head;
        }
        CostEstimate cost = CostEstimate.of(prices, spec.provider(), spec.region(), size(spec), count);
        if (!cost.known()) {
            return head;
        }
        return head + String.format(Locale.ROOT, " (at most $%.2f by then)", atMost(cost, spec.ttl()));
    }

    /**
     * The plan's {@code cost.txt}: hourly list price of {@code count} machines and the most they cost before they expire,
     * e.g. {@code cost: $0.163/h for 3 machine(s), at most $1.96 until expiry (list price of 2026-11-25; storage and
     * traffic extra)}.
     */
    public static String costLine(WorkshopSpec spec, int count, PriceTable prices) {
        if (spec.provider() == Provider.LAB) {
            return "cost: none (local lab)";
        }
        CostEstimate cost = CostEstimate.of(prices, spec.provider(), spec.region(), size(spec), count);
        if (!cost.known()) {
            return "cost: unknown (" + size(spec) + " in " + spec.region() + " is not in the price table of " + cost.asOf()
                    + "; see the provider's price list)";
        }
        return String.format(Locale.ROOT, "cost: %s for %d machine(s), at most $%.2f until expiry (list price%s of %s;"
                        + " storage and traffic extra)", cost.perHourText(), count, atMost(cost, spec.ttl()),
                cost.estimate() ? " estimate" : "", cost.asOf());
    }

    private static double atMost(CostEstimate cost, Duration ttl) {
        return cost.perHour().orElseThrow() * ttl.toMinutes() / 60.0;
    }

    private static String size(WorkshopSpec spec) {
        return spec.provider() == Provider.LIGHTSAIL ? spec.lightsailBundle() : spec.instanceTypes().get(0);
    }
}
