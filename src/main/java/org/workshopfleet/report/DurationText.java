package org.workshopfleet.report;

import java.time.Duration;
import java.util.Locale;

/** Short human durations for tables and progress lines: {@code 45s}, {@code 3m05s}, {@code 2h07m}, {@code 1d03h}. */
public final class DurationText {

    private DurationText() {
    }

    /** Negative durations are shown as their absolute value. */
    public static String compact(Duration d) {
        long s = Math.abs(d.getSeconds());
        if (s < 60) {
            return s + "s";
        }
        if (s < 3600) {
            return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
        }
        if (s < 86400) {
            return String.format(Locale.ROOT, "%dh%02dm", s / 3600, (s % 3600) / 60);
        }
        return String.format(Locale.ROOT, "%dd%02dh", s / 86400, (s % 86400) / 3600);
    }
}
