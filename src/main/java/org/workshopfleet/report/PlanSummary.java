package org.workshopfleet.report;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.workshopfleet.cloud.IngressRule;
import org.workshopfleet.cloud.ProviderProfile;
import org.workshopfleet.spec.WorkshopSpec;

/**
 * The one line shown before the facilitator confirms {@code up}: how many machines of which size where, what they cost
 * per hour at list price (with the price table's date), and which ports are opened to whom, e.g.
 * {@code 30 × t3.medium in ap-northeast-1 ≈ $1.63/h (list price, 2026-11-25); ports 22/80/3000/443 from 203.0.113.7/32}
 * (with {@code -Daccess=anywhere}: {@code …; 443 (HTTPS: browser terminal and Grafana) open to the whole internet,
 * password-protected; 22/80/3000 only from 203.0.113.7/32}).
 * The same class writes the plan's cost line, so the two never disagree.
 *
 * <p>Machines already launched (a re-run or a larger {@code -Dcount}) are priced at the type each was launched with, as
 * the ledger records it; machines still to launch at the spec's first type. The "at most" figures are upper bounds:
 * they price the machines still to launch at the dearest of the spec's types, since EC2 falls back to later types when
 * capacity is short.
 */
public final class PlanSummary {

    private PlanSummary() {
    }

    /**
     * As {@link #line(ProviderProfile, WorkshopSpec, int, List, PriceTable, List, String)} for a fleet with nothing
     * launched yet.
     */
    public static String line(ProviderProfile p, WorkshopSpec spec, int count, PriceTable prices, List<IngressRule> ingress,
                              String cidr) {
        return line(p, spec, count, List.of(), prices, ingress, cidr);
    }

    /**
     * @param p        the profile of the spec's provider
     * @param spec     what will be launched ({@code count}, provider, region, first instance type or bundle)
     * @param count    machines of the fleet after this run
     * @param launched those of them already launched, each with the type it was launched with (a {@code null} type:
     *                 not recorded, priced as the first type and said so); the others are launched now
     * @param ingress  ports opened on every machine
     * @param cidr     who may reach them (the detected or given CIDR)
     */
    public static String line(ProviderProfile p, WorkshopSpec spec, int count, List<FleetSpend.Item> launched,
                              PriceTable prices, List<IngressRule> ingress, String cidr) {
        StringBuilder sb = new StringBuilder();
        String size = p.sizeName(spec);
        sb.append(p.machines(spec, count));
        List<String> notes = new ArrayList<>();
        if (!p.fallbackSizes(spec).isEmpty()) {
            notes.add("fallback " + String.join(", ", p.fallbackSizes(spec)));
        }
        if (p.billed() && launched.stream().anyMatch(i -> i.type() != null && !i.type().equals(size))) {
            notes.add(launched.size() + " launched: " + FleetSpend.composition(launched));
        }
        if (!notes.isEmpty()) {
            sb.append(" (").append(String.join("; ", notes)).append(')');
        }
        if (!p.billed()) {
            sb.append(", no cloud cost");
        } else {
            FleetSpend cost = expected(p, spec, count, launched, prices);
            if (cost.complete()) {
                sb.append(" ≈ ").append(Money.usd(cost.usdPerHour())).append("/h (list price")
                        .append(anyEstimate(p, spec, launched, prices) ? ", estimate" : "").append(", ").append(cost.asOf());
                if (cost.assumed() > 0) {
                    sb.append("; ").append(cost.assumedNote());
                }
                sb.append(')');
            } else {
                sb.append(": price unknown (").append(unknownPrice(cost, spec.region())).append(')');
            }
        }
        sb.append(exposure(ingress, cidr));
        return sb.toString();
    }

    /**
     * Who may reach which port: {@code ; ports 22/80/3000/443 from 203.0.113.7/32}, or, when rules are open to every
     * address ({@code -Daccess=anywhere}), those first and what they expose: {@code ; 443 (HTTPS: browser terminal and
     * Grafana) open to the whole internet, password-protected; 22/80/3000 only from 203.0.113.7/32}.
     */
    static String exposure(List<IngressRule> ingress, String cidr) {
        List<IngressRule> world = ingress.stream().filter(IngressRule::world).toList();
        String limited = ports(ingress.stream().filter(r -> !r.world()).toList());
        if (world.isEmpty()) {
            return "; ports " + limited + " from " + cidr;
        }
        StringBuilder sb = new StringBuilder();
        for (IngressRule r : world) {
            // The only rule marked "anywhere" is the HTTPS entry, where every page asks for the attendee's password.
            sb.append("; ").append(ports(List.of(r))).append(" (").append(r.description())
                    .append(") open to the whole internet, password-protected");
        }
        return sb + (limited.isEmpty() ? "" : "; " + limited + " only from " + cidr);
    }

    private static String ports(List<IngressRule> rules) {
        Set<String> ports = new LinkedHashSet<>();
        for (IngressRule r : rules) {
            ports.add(r.protocol().equals("tcp") ? String.valueOf(r.port()) : r.port() + "/" + r.protocol());
        }
        return ports.stream().collect(Collectors.joining("/"));
    }

    /**
     * As {@link #withExpiry(ProviderProfile, WorkshopSpec, int, List, PriceTable, List, String, Instant, Instant)} with
     * nothing launched yet.
     */
    public static String withExpiry(ProviderProfile p, WorkshopSpec spec, int count, PriceTable prices,
                                    List<IngressRule> ingress, String cidr, Instant now, Instant expiresAt) {
        return withExpiry(p, spec, count, List.of(), prices, ingress, cidr, now, expiresAt);
    }

    /**
     * The line {@code up} and {@code plan} print before anything is created: {@link #line} followed by when the fleet
     * expires and the most it can cost until then, e.g. {@code …; expires 2026-11-26T06:00:00Z (at most $19.57 by then)},
     * or {@code (at most $21.89 by then, if every machine falls back to t2.medium)} when a fallback type is dearer.
     *
     * <p>The figure covers {@code now} to {@code expiresAt}, the expiry shown, not the spec's ttl: a re-run keeps the
     * expiry the ledger recorded, which may be nearer (or, after {@code extend}, further) than {@code now + ttl}.
     *
     * @param now       when the figure starts counting (the clock of this run)
     * @param expiresAt the expiry shown: the ledger's for an existing fleet, else {@code now + ttl}
     */
    public static String withExpiry(ProviderProfile p, WorkshopSpec spec, int count, List<FleetSpend.Item> launched,
                                    PriceTable prices, List<IngressRule> ingress, String cidr, Instant now,
                                    Instant expiresAt) {
        String head = line(p, spec, count, launched, prices, ingress, cidr) + "; expires "
                + expiresAt.truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
        if (!p.billed()) {
            return head;
        }
        Optional<Bound> bound = bound(p, spec, count, launched, prices);
        if (bound.isEmpty()) {
            return head;
        }
        return head + String.format(Locale.ROOT, " (at most $%.2f by then%s)", bound.get().atMost(Duration.between(now, expiresAt)),
                bound.get().caveat(launched.isEmpty() ? "machine" : "new machine"));
    }

    /**
     * The plan's {@code cost.txt}: hourly list price of {@code count} machines and the most they cost before they expire,
     * e.g. {@code cost: $0.163/h for 3 machine(s), at most $1.96 until expiry (list price of 2026-11-25; storage and
     * traffic extra)}.
     */
    public static String costLine(ProviderProfile p, WorkshopSpec spec, int count, PriceTable prices) {
        if (!p.billed()) {
            return "cost: none (local lab)";
        }
        FleetSpend cost = expected(p, spec, count, List.of(), prices);
        Optional<Bound> bound = bound(p, spec, count, List.of(), prices);
        if (!cost.complete() || bound.isEmpty()) {
            return "cost: unknown (" + unknownPrice(cost, spec.region()) + "; see the provider's price list)";
        }
        return String.format(Locale.ROOT, "cost: %s/h for %d machine(s), at most $%.2f until expiry%s (list price%s of %s;"
                        + " storage and traffic extra)", Money.usd(cost.usdPerHour()), count,
                bound.get().atMost(spec.ttl()), bound.get().caveat("machine"),
                anyEstimate(p, spec, List.of(), prices) ? " estimate" : "", cost.asOf());
    }

    /**
     * The most the fleet costs per hour: launched machines at their own type, the others at the dearest spec type.
     *
     * @param usdPerHour  the bound
     * @param dearest     the type the new machines were priced as, when it is not the first type (else null)
     * @param unpricedFallbacks fallback types the table does not know, which the bound cannot cover
     */
    private record Bound(double usdPerHour, String dearest, List<String> unpricedFallbacks) {
        double atMost(Duration left) {
            return usdPerHour * Math.max(0, left.toMinutes()) / 60.0;
        }

        String caveat(String what) {
            StringBuilder sb = new StringBuilder();
            if (dearest != null) {
                sb.append(", if every ").append(what).append(" falls back to ").append(dearest);
            }
            if (!unpricedFallbacks.isEmpty()) {
                sb.append(", unless machines fall back to ").append(String.join(", ", unpricedFallbacks))
                        .append(" (not in the price table)");
            }
            return sb.toString();
        }
    }

    private static Optional<Bound> bound(ProviderProfile p, WorkshopSpec spec, int count, List<FleetSpend.Item> launched,
                                         PriceTable prices) {
        String size = p.sizeName(spec);
        FleetSpend existing = FleetSpend.of(prices, p, spec.region(), size, launched, Instant.EPOCH);
        Optional<PriceTable.Price> first = prices.hourly(p, spec.region(), size);
        if (!existing.complete() || first.isEmpty()) {
            return Optional.empty();
        }
        int toLaunch = Math.max(0, count - launched.size());
        String dearest = size;
        double dearestPrice = first.get().usdPerHour();
        List<String> unpriced = new ArrayList<>();
        for (String type : p.fallbackSizes(spec)) {
            Optional<PriceTable.Price> price = prices.hourly(p, spec.region(), type);
            if (price.isEmpty()) {
                unpriced.add(type);
            } else if (price.get().usdPerHour() > dearestPrice) {
                dearest = type;
                dearestPrice = price.get().usdPerHour();
            }
        }
        boolean fallsBack = toLaunch > 0 && !dearest.equals(size);
        return Optional.of(new Bound(existing.usdPerHour() + toLaunch * dearestPrice, fallsBack ? dearest : null,
                toLaunch > 0 ? unpriced : List.of()));
    }

    /** The expected hourly cost: launched machines at their own type, the machines still to launch at the first. */
    private static FleetSpend expected(ProviderProfile p, WorkshopSpec spec, int count, List<FleetSpend.Item> launched,
                                       PriceTable prices) {
        List<FleetSpend.Item> all = new ArrayList<>(launched);
        for (int i = launched.size(); i < count; i++) {
            all.add(new FleetSpend.Item(p.sizeName(spec), null));
        }
        return FleetSpend.of(prices, p, spec.region(), p.sizeName(spec), all, Instant.EPOCH);
    }

    private static boolean anyEstimate(ProviderProfile p, WorkshopSpec spec, List<FleetSpend.Item> launched,
                                       PriceTable prices) {
        Set<String> types = new LinkedHashSet<>();
        types.add(p.sizeName(spec));
        launched.forEach(i -> types.add(Objects.requireNonNullElse(i.type(), p.sizeName(spec))));
        return types.stream().anyMatch(t -> prices.hourly(p, spec.region(), t)
                .map(PriceTable.Price::estimate).orElse(false));
    }

    private static String unknownPrice(FleetSpend cost, String region) {
        Set<String> types = cost.unpriced().keySet();
        return String.join(", ", types) + " in " + region + (types.size() == 1 ? " is" : " are")
                + " not in the price table of " + cost.asOf();
    }
}
