package org.workshopfleet.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.LocalDate;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.workshopfleet.cloud.ProviderProfile;

/**
 * List prices per machine-hour, from the table kept in the repository
 * ({@code src/main/resources/org/workshopfleet/report/prices.json}). The table is dated and names its sources: it holds
 * list prices as of that date, which AWS may have changed since, so every figure shown from it says "list price" and
 * the date. A type or region missing from the table has no price (never a guessed one).
 */
public final class PriceTable {

    /** Classpath location of the table kept in the repository. */
    public static final String RESOURCE = "/org/workshopfleet/report/prices.json";

    /**
     * One hourly price.
     *
     * @param usdPerHour US dollars per machine-hour
     * @param estimate   true when the figure could not be confirmed against a published table when it was compiled
     */
    public record Price(double usdPerHour, boolean estimate) {
    }

    private final LocalDate asOf;
    private final String notice;
    private final List<String> sources;
    /** By {@link ProviderProfile#priceKey}: {@code ec2/<region>/<type>}, {@code lightsail/<bundle>}. */
    private final Map<String, Price> byKey;

    private PriceTable(LocalDate asOf, String notice, List<String> sources, Map<String, Price> byKey) {
        this.asOf = asOf;
        this.notice = notice;
        this.sources = List.copyOf(sources);
        this.byKey = Map.copyOf(byKey);
    }

    /** The table shipped with the tool. */
    public static PriceTable load() {
        try (InputStream in = PriceTable.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("price table " + RESOURCE + " is missing from the classpath");
            }
            return parse(in);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + RESOURCE, e);
        }
    }

    /** Reads a table in the format of {@link #RESOURCE}. */
    public static PriceTable parse(InputStream json) throws IOException {
        JsonNode root = new ObjectMapper().readTree(json);
        Map<String, Price> byKey = new HashMap<>();
        root.path("ec2").properties().forEach(region -> region.getValue().properties().forEach(type ->
                byKey.put("ec2/" + region.getKey() + "/" + type.getKey(), new Price(type.getValue().path("usdPerHour").asDouble(),
                        type.getValue().path("estimate").asBoolean(false)))));
        JsonNode ls = root.path("lightsail");
        double hoursPerMonth = ls.path("hoursPerMonth").asDouble(744);
        ls.path("bundles").properties().forEach(b -> byKey.put("lightsail/" + b.getKey(),
                new Price(b.getValue().path("usdPerMonth").asDouble() / hoursPerMonth,
                        b.getValue().path("estimate").asBoolean(false))));
        List<String> sources = new java.util.ArrayList<>();
        root.path("sources").forEach(s -> sources.add(s.asText()));
        return new PriceTable(LocalDate.parse(root.path("asOf").asText()), root.path("notice").asText(""), sources,
                byKey);
    }

    /** The date the list prices were taken. */
    public LocalDate asOf() {
        return asOf;
    }

    /** What the figures are and are not (list prices as of a date, instance hours only...). */
    public String notice() {
        return notice;
    }

    /** Where the figures come from. */
    public List<String> sources() {
        return sources;
    }

    /**
     * The hourly price of one machine.
     *
     * @param profile where it runs: its {@linkplain ProviderProfile#priceKey price key}, or free when not billed
     * @param size    EC2 instance type or Lightsail bundle id (null: unknown)
     * @return the price; {@code 0} for the lab (local machines cost nothing); empty when the table does not know it
     */
    public Optional<Price> hourly(ProviderProfile profile, String region, String size) {
        if (!profile.billed()) {
            return Optional.of(new Price(0, false));
        }
        if (size == null) {
            return Optional.empty();
        }
        return Optional.ofNullable(byKey.get(profile.priceKey(region, size)));
    }
}
