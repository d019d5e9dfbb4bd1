package org.workshopfleet.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.workshopfleet.state.LedgerData;

class ExpiryTest {

    private final Instant at = Instant.parse("2026-11-25T20:00:00Z");
    private final Expiry expiry = new Expiry(at);

    @Test
    void timeLeftAndSoonAndExpired() {
        assertEquals("7h12m left", expiry.describe(at.minus(Duration.ofMinutes(7 * 60 + 12))));
        assertEquals("42m00s left (soon)", expiry.describe(at.minus(Duration.ofMinutes(42))));
        assertFalse(expiry.expired(at.minusSeconds(1)));
        assertTrue(expiry.expired(at));
        assertEquals("expired 5m00s ago", expiry.describe(at.plus(Duration.ofMinutes(5))));
        assertEquals(Duration.ofMinutes(-5), expiry.left(at.plus(Duration.ofMinutes(5))));
        assertEquals("1d02h left", expiry.describe(at.minus(Duration.ofHours(26))));
    }

    @Test
    void readFromTheLedgerSetting() {
        assertEquals(expiry, Expiry.fromLedger(ledger(Map.of(Expiry.SETTING, at.toString()))));
        assertNull(Expiry.fromLedger(ledger(Map.of())));
        assertNull(Expiry.fromLedger(ledger(Map.of(Expiry.SETTING, "tomorrow"))));
    }

    @Test
    void compactDurations() {
        assertEquals("0s", DurationText.compact(Duration.ZERO));
        assertEquals("59s", DurationText.compact(Duration.ofSeconds(59)));
        assertEquals("3m05s", DurationText.compact(Duration.ofSeconds(185)));
        assertEquals("2h07m", DurationText.compact(Duration.ofMinutes(127)));
    }

    private static LedgerData ledger(Map<String, String> settings) {
        return new LedgerData(1, "w", "ec2", "us-east-1", Instant.EPOCH, null, List.of(), Map.of(), settings);
    }
}
