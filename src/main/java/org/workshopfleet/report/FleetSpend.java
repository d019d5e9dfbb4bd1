package org.workshopfleet.report;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.workshopfleet.cloud.ProviderProfile;
import org.workshopfleet.state.LedgerData;
import org.workshopfleet.state.MachinePhase;
import org.workshopfleet.state.MachineRecord;

/**
 * What a fleet's machines cost, each at the list price of its own instance type or bundle: a fleet can be mixed, as EC2
 * falls back to later {@code -DinstanceType}s when capacity is short. A machine whose type is not recorded (a ledger
 * written before types were) is priced as {@code assumedType}, the spec's first type, and counted, so the figure can
 * say it assumed so. A machine whose type the price table does not know is counted by type and never priced by a
 * guess.
 *
 * @param usd         spend so far of the priced machines, at list price
 * @param usdPerHour  what the priced machines cost per hour
 * @param machines    machines considered (priced or not)
 * @param unpriced    per type the price table does not know: how many machines are of it
 * @param assumed     machines priced as {@code assumedType} because their type is not recorded
 * @param assumedType the type assumed for them (the spec's first type or bundle)
 * @param asOf        date of the price table
 */
public record FleetSpend(double usd, double usdPerHour, int machines, SortedMap<String, Integer> unpriced, int assumed,
                         String assumedType, LocalDate asOf) {

    /**
     * One machine to price.
     *
     * @param type       its instance type or bundle; {@code null} when not recorded
     * @param launchedAt when it was launched; {@code null} for one not launched yet (no spend, but an hourly price)
     */
    public record Item(String type, Instant launchedAt) {
    }

    public FleetSpend {
        unpriced = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(unpriced));
    }

    /** Prices {@code items} at {@code now}, each at its own type (or {@code assumedType} when it has none). */
    public static FleetSpend of(PriceTable prices, ProviderProfile provider, String region, String assumedType,
                                Collection<Item> items, Instant now) {
        double usd = 0;
        double perHour = 0;
        int assumed = 0;
        SortedMap<String, Integer> unpriced = new TreeMap<>();
        for (Item item : items) {
            String type = item.type();
            if (type == null) {
                type = assumedType;
                assumed++;
            }
            Optional<PriceTable.Price> price = prices.hourly(provider, region, type);
            if (price.isEmpty()) {
                unpriced.merge(String.valueOf(type), 1, Integer::sum);
                continue;
            }
            perHour += price.get().usdPerHour();
            usd += CostEstimate.billedHours(item.launchedAt(), now) * price.get().usdPerHour();
        }
        return new FleetSpend(usd, perHour, items.size(), unpriced, assumed, assumedType, prices.asOf());
    }

    /**
     * Spend so far of the machines the ledger records as launched and not yet destroyed, each at the type it was
     * launched with: the progress board's "cost so far" during {@code up}, and what {@code extend} adds.
     */
    public static FleetSpend fromLedger(LedgerData ledger, PriceTable prices, ProviderProfile provider, String region,
                                        String assumedType, Instant now) {
        return of(prices, provider, region, assumedType, launched(ledger.machines().values()), now);
    }

    /** The launched, not destroyed machines among {@code records}, as items to price. */
    public static List<Item> launched(Collection<MachineRecord> records) {
        List<Item> items = new ArrayList<>();
        for (MachineRecord r : records) {
            if (r.cloudId() != null && r.phase() != MachinePhase.DESTROYED) {
                items.add(new Item(r.instanceType(), r.launchedAt()));
            }
        }
        return items;
    }

    /** Whether every machine has a price. */
    public boolean complete() {
        return unpriced.isEmpty();
    }

    /** Machines without a price. */
    public int unpricedMachines() {
        return unpriced.values().stream().mapToInt(Integer::intValue).sum();
    }

    /**
     * The board's "cost so far": {@code $0.42}, and what it leaves out or assumes, e.g.
     * {@code $0.42 + 2 machine(s) of unknown price (t9.medium not in the price table of 2026-11-25)} or
     * {@code $0.42 (3 machine(s) without a recorded type priced as t3.medium)}.
     */
    public String text() {
        return withCaveats(new StringBuilder(Money.usd(usd)));
    }

    /**
     * What running these machines {@code longer} costs, for {@code extend}: {@code $0.87 more at list price ($0.218/h for
     * 4h00m, price table of 2026-11-25)}, with what it leaves out or assumes as in {@link #text()}.
     */
    public String forLonger(Duration longer) {
        double usdMore = usdPerHour * Math.max(0, longer.getSeconds()) / 3600.0;
        StringBuilder sb = new StringBuilder(Money.usd(usdMore)).append(" more at list price (")
                .append(Money.usd(usdPerHour)).append("/h for ").append(DurationText.compact(longer))
                .append(", price table of ").append(asOf).append(')');
        return withCaveats(sb);
    }

    /** Appends what a figure leaves out (machines of unknown price) and what it assumes (types not recorded). */
    private String withCaveats(StringBuilder sb) {
        if (!complete()) {
            sb.append(" + ").append(unpricedMachines()).append(" machine(s) of unknown price (").append(unpricedNote())
                    .append(')');
        }
        if (assumed > 0) {
            sb.append(" (").append(assumedNote()).append(')');
        }
        return sb.toString();
    }

    /** {@code t9.medium, x1.huge not in the price table of 2026-11-25}; empty when every machine is priced. */
    public String unpricedNote() {
        if (complete()) {
            return "";
        }
        return String.join(", ", unpriced.keySet()) + " not in the price table of " + asOf;
    }

    /** {@code 3 machine(s) without a recorded type priced as t3.medium}; empty when no type was assumed. */
    public String assumedNote() {
        return assumed == 0 ? "" : assumed + " machine(s) without a recorded type priced as " + assumedType;
    }

    /** {@code 20 × t3.medium, 10 × t3a.medium}: how many machines of each type ({@code ?} for an unrecorded one). */
    public static String composition(Collection<Item> items) {
        Map<String, Long> byType = items.stream().collect(Collectors.groupingBy(
                i -> i.type() == null ? "?" : i.type(), TreeMap::new, Collectors.counting()));
        return byType.entrySet().stream().map(e -> e.getValue() + " × " + e.getKey()).collect(Collectors.joining(", "));
    }
}
