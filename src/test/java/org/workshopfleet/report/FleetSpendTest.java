package org.workshopfleet.report;

import org.workshopfleet.cloud.lightsail.LightsailProfile;
import org.workshopfleet.cloud.ec2.Ec2Profile;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.workshopfleet.state.Ledger;
import org.workshopfleet.state.MachinePhase;
import org.workshopfleet.state.StateFolder;

class FleetSpendTest {

    private final PriceTable prices = PriceTable.load();
    private final Instant t0 = Instant.parse("2026-11-25T08:00:00Z");

    @Test
    void eachLaunchedMachineIsPricedAtItsOwnType(@TempDir Path dir) {
        Ledger ledger = Ledger.open(new StateFolder(dir), "w", "ec2", "us-east-1", Clock.fixed(t0, ZoneOffset.UTC));
        ledger.updateMachine(1, "w-01", r -> r.launched("i-1", "t3.medium", t0));
        ledger.updateMachine(2, "w-02", r -> r.launched("i-2", "t3a.medium", t0.plusSeconds(1800))
                .inPhase(MachinePhase.READY, null));
        ledger.updateMachine(3, "w-03", r -> r.launched("i-3", "t2.medium", t0));
        ledger.updateMachine(4, "w-04", r -> r); // planned, never launched
        ledger.updateMachine(5, "w-05", r -> r.launched("i-5", "t3.large", t0).inPhase(MachinePhase.DESTROYED, null));

        FleetSpend s = FleetSpend.fromLedger(ledger.snapshot(), prices, new Ec2Profile(), "us-east-1", "t3.medium",
                t0.plusSeconds(3600));

        // us-east-1 list prices: t3.medium 0.0416, t3a.medium 0.0376, t2.medium 0.0464 per hour.
        assertEquals(0.0416 + 0.0376 * 0.5 + 0.0464, s.usd(), 1e-9);
        assertEquals(0.0416 + 0.0376 + 0.0464, s.usdPerHour(), 1e-9);
        assertEquals(3, s.machines());
        assertTrue(s.complete());
        assertEquals(0, s.assumed());
        assertEquals("$0.107", s.text());
        // Priced as three of the first type, the figure would have been 0.0416 * 2.5 = $0.104: not what was billed.
        assertFalse(Math.abs(s.usd() - 0.0416 * 2.5) < 1e-6);
    }

    @Test
    void aTypeMissingFromThePriceTableIsCountedAndNamedNeverGuessed() {
        FleetSpend s = FleetSpend.of(prices, new Ec2Profile(), "ap-northeast-1", "t3.medium", List.of(
                new FleetSpend.Item("t3.medium", t0), new FleetSpend.Item("m7i.large", t0),
                new FleetSpend.Item("m7i.large", t0)), t0.plusSeconds(3600));

        assertEquals(0.0544, s.usd(), 1e-9);
        assertEquals(0.0544, s.usdPerHour(), 1e-9);
        assertFalse(s.complete());
        assertEquals(Map.of("m7i.large", 2), s.unpriced());
        assertEquals("$0.054 + 2 machine(s) of unknown price (m7i.large not in the price table of " + prices.asOf() + ")",
                s.text());
    }

    @Test
    void aMachineWithoutARecordedTypeIsPricedAsTheFirstTypeAndSaysSo() {
        FleetSpend s = FleetSpend.of(prices, new Ec2Profile(), "us-east-1", "t3.medium", List.of(
                new FleetSpend.Item(null, t0), new FleetSpend.Item("t3a.medium", t0)), t0.plusSeconds(7200));

        assertEquals(2 * (0.0416 + 0.0376), s.usd(), 1e-9);
        assertEquals(1, s.assumed());
        assertEquals("$0.158 (1 machine(s) without a recorded type priced as t3.medium)", s.text());
    }

    @Test
    void runningLongerCostsTheFleetsHourlyPriceAndLightsailUsesTheBundle() {
        FleetSpend ec2 = FleetSpend.of(prices, new Ec2Profile(), "us-east-1", "t3.medium", List.of(
                new FleetSpend.Item("t3.medium", t0), new FleetSpend.Item("t2.medium", t0)), t0);
        assertEquals("$0.352 more at list price ($0.088/h for 4h00m, price table of " + prices.asOf() + ")",
                ec2.forLonger(Duration.ofHours(4)));

        FleetSpend ls = FleetSpend.of(prices, new LightsailProfile(), "eu-west-1", "medium_3_0", List.of(
                new FleetSpend.Item("medium_3_0", t0), new FleetSpend.Item("small_3_0", t0)), t0.plusSeconds(3600));
        assertEquals((24 + 12) / 744.0, ls.usd(), 1e-9);
    }

    @Test
    void compositionCountsMachinesPerType() {
        assertEquals("2 × ?, 1 × t3.medium, 2 × t3a.medium", FleetSpend.composition(List.of(
                new FleetSpend.Item("t3a.medium", t0), new FleetSpend.Item("t3.medium", t0),
                new FleetSpend.Item("t3a.medium", t0), new FleetSpend.Item(null, t0), new FleetSpend.Item(null, t0))));
    }
}
