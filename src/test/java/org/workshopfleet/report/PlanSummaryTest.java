package org.workshopfleet.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.workshopfleet.command.Providers;
import org.workshopfleet.cloud.IngressRule;
import org.workshopfleet.cloud.ProviderProfile;
import org.workshopfleet.spec.Provider;
import org.workshopfleet.spec.SourceLocations;
import org.workshopfleet.spec.WorkshopSpec;

class PlanSummaryTest {

    private static final List<IngressRule> PORTS = List.of(new IngressRule("tcp", 22, "ssh"),
            new IngressRule("tcp", 80, "web"), new IngressRule("tcp", 3000, "grafana"));
    private static final Duration TTL = Duration.ofHours(12);
    private final PriceTable prices = PriceTable.load();

    private static ProviderProfile p(WorkshopSpec spec) {
        return Providers.profile(spec.provider());
    }

    @Test
    void ec2LineNamesCountSizeRegionListPriceWithDatePortsAndSource() {
        WorkshopSpec spec = spec(Provider.EC2, List.of("t3.medium"), "ap-northeast-1");
        assertEquals("30 × t3.medium in ap-northeast-1 ≈ $1.63/h (list price, " + prices.asOf()
                        + "); ports 22/80/3000 from 203.0.113.7/32",
                PlanSummary.line(p(spec), spec, 30, prices, PORTS, "203.0.113.7/32"));
    }

    @Test
    void fallbackTypesEstimatesAndUnknownPricesAreSaid() {
        WorkshopSpec spec = spec(Provider.EC2, List.of("t3a.medium", "t3.medium"), "eu-central-1");
        assertEquals("5 × t3a.medium in eu-central-1 (fallback t3.medium) ≈ $0.216/h (list price, estimate, "
                        + prices.asOf() + "); ports 22/80/3000 from 198.51.100.0/24",
                PlanSummary.line(p(spec), spec, 5, prices, PORTS, "198.51.100.0/24"));
        WorkshopSpec odd = spec(Provider.EC2, List.of("m7i.large"), "ap-northeast-1");
        assertEquals("2 × m7i.large in ap-northeast-1: price unknown (m7i.large in ap-northeast-1 is not in the price"
                        + " table of " + prices.asOf() + "); ports 22/80/3000 from 203.0.113.7/32",
                PlanSummary.line(p(odd), odd, 2, prices, PORTS, "203.0.113.7/32"));
    }

    @Test
    void accessAnywhereSaysWhatItExposesAndWhatStaysOnTheCidr() {
        WorkshopSpec spec = spec(Provider.EC2, List.of("t3.medium"), "ap-northeast-1");
        List<IngressRule> anywhere = new java.util.ArrayList<>(PORTS);
        anywhere.add(new IngressRule("tcp", 443, "HTTPS: browser terminal and Grafana", true));
        assertEquals("30 × t3.medium in ap-northeast-1 ≈ $1.63/h (list price, " + prices.asOf()
                        + "); 443 (HTTPS: browser terminal and Grafana) open to the whole internet, password-protected;"
                        + " 22/80/3000 only from 203.0.113.7/32",
                PlanSummary.line(p(spec), spec, 30, prices, anywhere, "203.0.113.7/32"));
        List<IngressRule> cidrOnly = new java.util.ArrayList<>(PORTS);
        cidrOnly.add(new IngressRule("tcp", 443, "HTTPS: browser terminal and Grafana", false));
        assertTrue(PlanSummary.line(p(spec), spec, 30, prices, cidrOnly, "203.0.113.7/32")
                .endsWith("; ports 22/80/3000/443 from 203.0.113.7/32"));
    }

    @Test
    void lightsailAndLabLines() {
        WorkshopSpec ls = spec(Provider.LIGHTSAIL, null, "eu-west-1");
        assertEquals("30 × Lightsail medium_3_0 in eu-west-1 ≈ $0.968/h (list price, " + prices.asOf()
                + "); ports 22/80/3000 from 203.0.113.7/32", PlanSummary.line(p(ls), ls, 30, prices, PORTS, "203.0.113.7/32"));
        WorkshopSpec lab = spec(Provider.LAB, null, null);
        assertEquals("3 × lab machine (local), no cloud cost; ports 22/80/3000 from 10.231.0.0/24",
                PlanSummary.line(p(lab), lab, 3, prices, PORTS, "10.231.0.0/24"));
    }

    @Test
    void expiryAndMostItCanCostFollowTheLine() {
        WorkshopSpec spec = spec(Provider.EC2, List.of("t3.medium"), "ap-northeast-1");
        Instant at = Instant.parse("2026-11-26T06:00:00Z");
        // 30 × $0.0544/h for the 12 h ttl: $19.58 (list price of t3.medium in Tokyo).
        assertEquals(PlanSummary.line(p(spec), spec, 30, prices, PORTS, "203.0.113.7/32")
                        + "; expires 2026-11-26T06:00:00Z (at most $19.58 by then)",
                PlanSummary.withExpiry(p(spec), spec, 30, prices, PORTS, "203.0.113.7/32", at.minus(TTL), at));
        WorkshopSpec lab = spec(Provider.LAB, null, null);
        assertEquals(PlanSummary.line(p(lab), lab, 3, prices, PORTS, "10.231.0.0/24") + "; expires 2026-11-26T06:00:00Z",
                PlanSummary.withExpiry(p(lab), lab, 3, prices, PORTS, "10.231.0.0/24", at.minus(TTL), at));
    }

    @Test
    void aReRunPricesTheTimeLeftUntilTheLedgersExpiryNotTheSpecsTtl() {
        // up re-run 10 h into a 12 h fleet: the ledger's expiry is 2 h away, so 4 × $0.0544 (t3.medium) for 2 h = $0.44,
        // not the $2.61 of a fresh 12 h. An extended fleet (expiry 20 h away) costs more than the ttl would say: $4.35.
        WorkshopSpec spec = spec(Provider.EC2, List.of("t3.medium"), "ap-northeast-1");
        Instant t0 = Instant.parse("2026-11-25T18:00:00Z");
        List<FleetSpend.Item> launched = List.of(new FleetSpend.Item("t3.medium", t0),
                new FleetSpend.Item("t3.medium", t0), new FleetSpend.Item("t3.medium", t0),
                new FleetSpend.Item("t3.medium", t0));
        Instant now = Instant.parse("2026-11-26T04:00:00Z");
        String line = PlanSummary.line(p(spec), spec, 4, launched, prices, PORTS, "203.0.113.7/32");
        assertEquals(line + "; expires 2026-11-26T06:00:00Z (at most $0.44 by then)", PlanSummary.withExpiry(p(spec), spec, 4,
                launched, prices, PORTS, "203.0.113.7/32", now, Instant.parse("2026-11-26T06:00:00Z")));
        assertEquals(line + "; expires 2026-11-27T00:00:00Z (at most $4.35 by then)", PlanSummary.withExpiry(p(spec), spec, 4,
                launched, prices, PORTS, "203.0.113.7/32", now, Instant.parse("2026-11-27T00:00:00Z")));
    }

    @Test
    void costLineStatesRateMaximumAndTheTablesDate() {
        WorkshopSpec spec = spec(Provider.EC2, List.of("t3.medium"), "ap-northeast-1");
        assertEquals("cost: $0.163/h for 3 machine(s), at most $1.96 until expiry (list price of " + prices.asOf()
                + "; storage and traffic extra)", PlanSummary.costLine(p(spec), spec, 3, prices));
        assertEquals("cost: none (local lab)", PlanSummary.costLine(p(spec(Provider.LAB, null, null)), spec(Provider.LAB, null, null), 3, prices));
        assertTrue(PlanSummary.costLine(p(spec(Provider.EC2, List.of("m7i.large"), "ap-northeast-1")), spec(Provider.EC2, List.of("m7i.large"), "ap-northeast-1"), 3, prices)
                .startsWith("cost: unknown (m7i.large in ap-northeast-1 is not in the price table of "));
    }

    @Test
    void atMostIsAnUpperBoundEvenWhenEveryMachineFallsBackToADearerType() {
        // Tokyo: t3.medium $0.0544, t3a.medium $0.0490, t2.medium $0.0608 per hour; 12 h ttl.
        WorkshopSpec spec = spec(Provider.EC2, List.of("t3.medium", "t3a.medium", "t2.medium"), "ap-northeast-1");
        Instant at = Instant.parse("2026-11-26T06:00:00Z");
        assertTrue(PlanSummary.withExpiry(p(spec), spec, 10, prices, PORTS, "203.0.113.7/32", at.minus(TTL), at)
                .endsWith("≈ $0.544/h (list price, " + prices.asOf() + "); ports 22/80/3000 from 203.0.113.7/32; expires"
                        + " 2026-11-26T06:00:00Z (at most $7.30 by then, if every machine falls back to t2.medium)"));
        assertEquals("cost: $0.544/h for 10 machine(s), at most $7.30 until expiry, if every machine falls back to"
                + " t2.medium (list price of " + prices.asOf() + "; storage and traffic extra)",
                PlanSummary.costLine(p(spec), spec, 10, prices));
        WorkshopSpec odd = spec(Provider.EC2, List.of("t3.medium", "m7i.large"), "ap-northeast-1");
        assertTrue(PlanSummary.withExpiry(p(odd), odd, 10, prices, PORTS, "203.0.113.7/32", at.minus(TTL), at)
                .endsWith("(at most $6.53 by"
                + " then, unless machines fall back to m7i.large (not in the price table))"));
    }

    @Test
    void machinesAlreadyLaunchedArePricedAtTheirOwnTypes() {
        WorkshopSpec spec = spec(Provider.EC2, List.of("t3.medium", "t3a.medium", "t2.medium"), "ap-northeast-1");
        Instant t0 = Instant.parse("2026-11-25T08:00:00Z");
        List<FleetSpend.Item> launched = List.of(new FleetSpend.Item("t3.medium", t0),
                new FleetSpend.Item("t3a.medium", t0), new FleetSpend.Item("t3a.medium", t0));
        // 3 launched (0.0544 + 2 × 0.0490) + 1 new at t3.medium: $0.207/h; at most 0.1524 + 0.0608 (t2.medium) for 12 h.
        assertEquals("4 × t3.medium in ap-northeast-1 (fallback t3a.medium, t2.medium; 3 launched: 1 × t3.medium,"
                        + " 2 × t3a.medium) ≈ $0.207/h (list price, estimate, " + prices.asOf() + "); ports 22/80/3000"
                        + " from 203.0.113.7/32; expires 2026-11-26T06:00:00Z (at most $2.56 by then, if every new"
                        + " machine falls back to t2.medium)",
                PlanSummary.withExpiry(p(spec), spec, 4, launched, prices, PORTS, "203.0.113.7/32",
                        Instant.parse("2026-11-25T18:00:00Z"), Instant.parse("2026-11-26T06:00:00Z")));

        List<FleetSpend.Item> unknown = List.of(new FleetSpend.Item("t3.medium", t0), new FleetSpend.Item("z1d.large", t0));
        assertEquals("2 × t3.medium in ap-northeast-1 (fallback t3a.medium, t2.medium; 2 launched: 1 × t3.medium,"
                + " 1 × z1d.large): price unknown (z1d.large in ap-northeast-1 is not in the price table of "
                + prices.asOf() + "); ports 22/80/3000 from 203.0.113.7/32",
                PlanSummary.line(p(spec), spec, 2, unknown, prices, PORTS, "203.0.113.7/32"));

        List<FleetSpend.Item> unrecorded = List.of(new FleetSpend.Item(null, t0), new FleetSpend.Item(null, t0));
        assertEquals("2 × t3.medium in ap-northeast-1 (fallback t3a.medium, t2.medium) ≈ $0.109/h (list price, "
                + prices.asOf() + "; 2 machine(s) without a recorded type priced as t3.medium); ports 22/80/3000 from"
                + " 203.0.113.7/32", PlanSummary.line(p(spec), spec, 2, unrecorded, prices, PORTS, "203.0.113.7/32"));
    }

    private static WorkshopSpec spec(Provider p, List<String> types, String region) {
        return new WorkshopSpec("ebpf-php", 30, p, region, types, null, null, false, TTL, 8,
                Path.of("workshops"), SourceLocations.defaults());
    }
}
