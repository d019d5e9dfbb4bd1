package org.workshopfleet.report;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.Collection;
import java.util.Optional;
import java.util.OptionalDouble;
import org.workshopfleet.cloud.ProviderProfile;
import org.workshopfleet.spec.Provider;

/**
 * What N machines of one size cost per hour at list price, and what they have cost since they were launched. When the
 * price table does not know the size or region the estimate is {@linkplain #known() unknown} and says so, rather than
 * showing a wrong figure. A fleet of launched machines may be mixed (EC2 falls back to other types when capacity is
 * short): price it machine by machine with {@link FleetSpend}, not as N of one size.
 *
 * @param provider      where the machines run
 * @param region        AWS region
 * @param size          EC2 instance type or Lightsail bundle id
 * @param machines      how many
 * @param usdPerHourEach list price of one machine-hour, or {@code null} when unknown
 * @param estimate      true when the table marks the figure as an estimate
 * @param asOf          date of the price table
 */
public record CostEstimate(Provider provider, String region, String size, int machines, Double usdPerHourEach,
                           boolean estimate, LocalDate asOf) {

    /** Looks the size up in {@code prices}. */
    public static CostEstimate of(PriceTable prices, ProviderProfile profile, String region, String size, int machines) {
        Optional<PriceTable.Price> p = prices.hourly(profile, region, size);
        return new CostEstimate(profile.provider(), region, size, machines, p.map(PriceTable.Price::usdPerHour).orElse(null),
                p.map(PriceTable.Price::estimate).orElse(false), prices.asOf());
    }

    /** Whether the price table knows this size in this region. */
    public boolean known() {
        return usdPerHourEach != null;
    }

    /** All machines together, per hour; empty when unknown. */
    public OptionalDouble perHour() {
        return known() ? OptionalDouble.of(usdPerHourEach * machines) : OptionalDouble.empty();
    }

    /** {@code $1.63/h}, or {@code unknown} when the table does not know the size. */
    public String perHourText() {
        return known() ? Money.usd(usdPerHourEach * machines) + "/h" : "unknown";
    }

    /**
     * Spend so far of machines of this size launched at {@code launchTimes}, until {@code now} (at least one minute
     * each, as EC2 bills a minimum of 60 seconds). Empty when the price is unknown.
     */
    public OptionalDouble accumulated(Collection<Instant> launchTimes, Instant now) {
        if (!known()) {
            return OptionalDouble.empty();
        }
        double hours = 0;
        for (Instant launched : launchTimes) {
            hours += billedHours(launched, now);
        }
        return OptionalDouble.of(hours * usdPerHourEach);
    }

    /** Hours billed for one machine running from {@code from} to {@code to}; none if it has not started. */
    static double billedHours(Instant from, Instant to) {
        if (from == null || to.isBefore(from)) {
            return 0;
        }
        long seconds = Math.max(60, Duration.between(from, to).getSeconds());
        return seconds / 3600.0;
    }
}
