package org.workshopfleet.render;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * The on-machine self-destruct: {@value #TIMER} powers the machine off at the fleet's expiry. First-boot user data
 * installs it (templates/cloud-init/expiry.ftl); {@code -Daction=extend} moves it with {@link #rescheduleCommand}.
 */
public final class ExpiryTimer {

    /** The systemd timer's unit name. */
    public static final String TIMER = "workshop-fleet-expiry.timer";
    private static final String TIMER_PATH = "/etc/systemd/system/" + TIMER;
    private static final DateTimeFormatter CALENDAR = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'", Locale.ROOT)
            .withZone(ZoneOffset.UTC);

    private ExpiryTimer() {
    }

    /** {@code OnCalendar=} value for an instant: {@code 2026-11-26 04:00:00 UTC}. */
    public static String calendar(Instant at) {
        return CALENDAR.format(at);
    }

    /**
     * A shell command (run with sudo rights) that moves the timer to {@code at} and restarts it, and fails when the
     * machine has no such timer. It prints the timer's new calendar line.
     */
    public static String rescheduleCommand(Instant at) {
        String cal = calendar(at);
        return "set -e; test -f " + TIMER_PATH + "; sudo sed -i"
                + " -e 's/^OnCalendar=.*/OnCalendar=" + cal + "/'"
                + " -e 's/expiry ([^)]*)/expiry (" + at + ")/' " + TIMER_PATH
                + "; sudo systemctl daemon-reload; sudo systemctl restart " + TIMER + "; grep '^OnCalendar=' " + TIMER_PATH;
    }
}
