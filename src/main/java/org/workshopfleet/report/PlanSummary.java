package org.workshopfleet.report;

import java.util.LinkedHashSet;
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
        String size = p == Provider.LIGHTSAIL ? spec.lightsailBundle() : spec.instanceTypes().get(0);
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
}
