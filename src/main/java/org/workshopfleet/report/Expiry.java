package org.workshopfleet.report;

import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import org.workshopfleet.state.LedgerData;

/**
 * When the fleet expires (the {@code ExpiresAt} tag and the on-machine power-off timer) and how long is left.
 *
 * @param at the expiry instant
 */
public record Expiry(Instant at) {

    /** Ledger setting holding the fleet's expiry as an ISO-8601 instant; written by {@code up} and {@code extend}. */
    public static final String SETTING = "expiresAt";

    /** Below this much time left, status flags the fleet as expiring soon. */
    public static final Duration SOON = Duration.ofHours(1);

    /** The expiry recorded in the ledger, or null when none is recorded (or it is unreadable). */
    public static Expiry fromLedger(LedgerData ledger) {
        String v = ledger.settings().get(SETTING);
        if (v == null || v.isBlank()) {
            return null;
        }
        try {
            return new Expiry(Instant.parse(v.trim()));
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    /** Time left until expiry; negative once expired. */
    public Duration left(Instant now) {
        return Duration.between(now, at);
    }

    public boolean expired(Instant now) {
        return !now.isBefore(at);
    }

    /** {@code 7h12m left}, {@code 42m left (soon)}, or {@code expired 5m ago}. */
    public String describe(Instant now) {
        if (expired(now)) {
            return "expired " + DurationText.compact(left(now)) + " ago";
        }
        Duration left = left(now);
        return DurationText.compact(left) + " left" + (left.compareTo(SOON) < 0 ? " (soon)" : "");
    }
}
