package org.workshopfleet.report;

import java.util.Locale;

/** US-dollar amounts as the facilitator reads them: {@code $1.63}, {@code $0.054} (three decimals below a dollar). */
final class Money {

    private Money() {
    }

    static String usd(double amount) {
        if (amount != 0 && Math.abs(amount) < 0.995) {
            return String.format(Locale.ROOT, "$%.3f", amount);
        }
        return String.format(Locale.ROOT, "$%.2f", amount);
    }
}
