package org.workshopfleet.render;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The on-machine self-destruct: {@value #TIMER} powers the machine off at the fleet's expiry. The one source of its
 * unit names, paths and expiry lines: first-boot user data installs the units from templates/cloud-init/expiry.ftl
 * with the values of {@link #model}, and {@code -Daction=extend} rewrites the same two lines with
 * {@link #rescheduleCommand}, so a rescheduled timer reads exactly as one first rendered for the new expiry.
 */
public final class ExpiryTimer {

    /** The systemd timer's unit name. */
    public static final String TIMER = "workshop-fleet-expiry.timer";
    /** The service the timer starts. */
    public static final String SERVICE = "workshop-fleet-expiry.service";
    private static final String UNIT_DIR = "/etc/systemd/system/";
    /** Where the timer unit lives on a machine. */
    public static final String TIMER_PATH = UNIT_DIR + TIMER;
    private static final DateTimeFormatter CALENDAR = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'", Locale.ROOT)
            .withZone(ZoneOffset.UTC);

    private ExpiryTimer() {
    }

    /** {@code OnCalendar=} value for an instant: {@code 2026-11-26 04:00:00 UTC}. */
    public static String calendar(Instant at) {
        return CALENDAR.format(at);
    }

    /** The instant as the units and machine.env show it: ISO-8601 in UTC, whole seconds. */
    public static String iso(Instant at) {
        return DateTimeFormatter.ISO_INSTANT.format(at.truncatedTo(ChronoUnit.SECONDS));
    }

    /** The timer's {@code Description=} value, which names the expiry. */
    static String timerDescription(Instant at) {
        return "Power off this workshop machine at the fleet's expiry (" + iso(at) + ")";
    }

    /**
     * The values templates/cloud-init/expiry.ftl renders the units from: {@code timerName}, {@code timerPath},
     * {@code servicePath}, {@code timerDescription}, {@code calendar}, {@code iso}.
     */
    static Map<String, String> model(Instant at) {
        return Map.of("timerName", TIMER, "timerPath", TIMER_PATH, "servicePath", UNIT_DIR + SERVICE,
                "timerDescription", timerDescription(at), "calendar", calendar(at), "iso", iso(at));
    }

    /** {@code sed} scripts that turn the timer unit for any expiry into the one for {@code at}. */
    static List<String> sedScripts(Instant at) {
        return List.of("s/^OnCalendar=.*/OnCalendar=" + calendar(at) + "/",
                "s/^Description=.*/Description=" + timerDescription(at) + "/");
    }

    /**
     * A shell command (run with sudo rights) that moves the timer to {@code at} and restarts it, and fails when the
     * machine has no such timer. It prints the timer's new calendar line.
     */
    public static String rescheduleCommand(Instant at) {
        return "set -e; test -f " + TIMER_PATH + "; sudo sed -i"
                + sedScripts(at).stream().map(e -> " -e " + Renderer.shellQuoted(e)).collect(Collectors.joining())
                + " " + TIMER_PATH
                + "; sudo systemctl daemon-reload; sudo systemctl restart " + TIMER + "; grep '^OnCalendar=' " + TIMER_PATH;
    }
}
