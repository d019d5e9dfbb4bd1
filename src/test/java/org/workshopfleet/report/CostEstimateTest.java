package org.workshopfleet.report;

import org.workshopfleet.cloud.ec2.Ec2Profile;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class CostEstimateTest {

    private final PriceTable prices = PriceTable.load();
    private final Instant t0 = Instant.parse("2026-11-25T08:00:00Z");

    @Test
    void thirtyMediumsInTokyoCostAboutADollarSixtyThreeAnHour() {
        CostEstimate e = CostEstimate.of(prices, new Ec2Profile(), "ap-northeast-1", "t3.medium", 30);
        assertTrue(e.known());
        assertEquals(1.632, e.perHour().getAsDouble(), 1e-9);
        assertEquals("$1.63/h", e.perHourText());
        assertEquals("$0.054/h", CostEstimate.of(prices, new Ec2Profile(), "ap-northeast-1", "t3.medium", 1).perHourText());
    }

    @Test
    void accumulatedSpendFollowsLaunchTimesWithEc2sOneMinuteMinimum() {
        CostEstimate e = CostEstimate.of(prices, new Ec2Profile(), "us-east-1", "t3.medium", 3);
        Instant now = t0.plusSeconds(2 * 3600);
        // 2 h + 1 h + a machine launched 10 s ago (billed one minute) + one not launched yet (in the future).
        double spent = e.accumulated(List.of(t0, t0.plusSeconds(3600), now.minusSeconds(10), now.plusSeconds(60)), now)
                .getAsDouble();
        assertEquals(0.0416 * (3 + 1.0 / 60), spent, 1e-9);
    }

    @Test
    void unknownTypeGivesAnUnknownEstimateNotAWrongOne() {
        CostEstimate e = CostEstimate.of(prices, new Ec2Profile(), "ap-northeast-1", "x9.huge", 30);
        assertFalse(e.known());
        assertTrue(e.perHour().isEmpty());
        assertEquals("unknown", e.perHourText());
        assertTrue(e.accumulated(List.of(t0), t0.plusSeconds(3600)).isEmpty());
    }
}
