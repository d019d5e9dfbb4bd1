package org.workshopfleet.grafana;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Grafana's interval arithmetic for one Prometheus panel query, so an expression can be expanded exactly as Grafana
 * expands it before it reaches Prometheus (Grafana documentation: "Variables &gt; Global variables" and the Prometheus
 * data source's "Prometheus template variables"):
 * <ul>
 *   <li>{@code intervalMs}, what the dashboard sends: the range divided by the panel's max data points, rounded to a
 *       "nice" interval, and never below the panel's min interval or else the data source's scrape interval;</li>
 *   <li>the step (also {@code $__interval}): never below {@code intervalMs} (or a literal min step on the query);</li>
 *   <li>{@code $__rate_interval} = max({@code $__interval} + scrape interval, 4 × scrape interval), the scrape interval
 *       being the query's literal min step when it has one, else the data source's (15 s when unset);</li>
 *   <li>{@code $__range} = the range in whole seconds.</li>
 * </ul>
 *
 * @param rangeMs        the time range of the query
 * @param intervalMs     the interval the dashboard sends with the query
 * @param stepMs         the Prometheus step, which {@code $__interval} is
 * @param rateIntervalMs what {@code $__rate_interval} is
 */
public record QueryInterval(long rangeMs, long intervalMs, long stepMs, long rateIntervalMs) {

    /** Grafana's default scrape interval when the data source sets none. */
    public static final long DEFAULT_SCRAPE_MS = 15_000;
    /** The most points Grafana lets one Prometheus query return; the step never goes below range / this. */
    private static final long SAFE_RESOLUTION = 11_000;
    private static final Pattern DURATION_PART = Pattern.compile("(\\d+(?:\\.\\d+)?)(ms|s|m|h|d|w|y)");

    /**
     * @param rangeMs        the query's time range
     * @param maxDataPoints  the panel's max data points (its width in the UI)
     * @param minIntervalMs  the panel's min interval, or the data source's scrape interval when the panel has none
     * @param scrapeMs       the data source's scrape interval ({@code jsonData.timeInterval}, default 15 s)
     * @param minStepMs      the query's literal min step ({@code interval} on the target), or 0 for none
     */
    public static QueryInterval of(long rangeMs, long maxDataPoints, long minIntervalMs, long scrapeMs, long minStepMs) {
        long resolution = maxDataPoints > 0 ? maxDataPoints : 100;
        long intervalMs = Math.max(roundInterval(rangeMs / resolution), minIntervalMs);
        // The backend: the minimum is the literal min step if any, else the interval the dashboard sent.
        long min = minStepMs > 0 ? minStepMs : intervalMs;
        long calculated = rangeMs / resolution;
        long step = calculated < min ? roundInterval(min) : roundInterval(calculated);
        step = Math.max(step, roundInterval(rangeMs / SAFE_RESOLUTION));
        if (minStepMs > 0) {
            step = minStepMs;
        }
        long scrape = minStepMs > 0 ? minStepMs : scrapeMs;
        long rate = Math.max(intervalMs + scrape, 4 * scrape);
        return new QueryInterval(rangeMs, intervalMs, step, rate);
    }

    /**
     * Replaces Grafana's built-in macros in a PromQL expression the way Grafana's Prometheus data source does:
     * {@code $__interval_ms}, {@code $__interval}, {@code $__range_ms}, {@code $__range_s}, {@code $__range},
     * {@code $__rate_interval_ms}, {@code $__rate_interval}, each also in the {@code ${__name}} form.
     */
    public String expand(String expr) {
        long rangeS = Math.round(rangeMs / 1000.0);
        String e = expr;
        e = replace(e, "__interval_ms", Long.toString(stepMs));
        e = replace(e, "__interval", formatInterval(stepMs));
        e = replace(e, "__range_ms", Long.toString(rangeMs));
        e = replace(e, "__range_s", Long.toString(rangeS));
        e = replace(e, "__range", rangeS + "s");
        e = replace(e, "__rate_interval_ms", Long.toString(rateIntervalMs));
        e = replace(e, "__rate_interval", goDuration(rateIntervalMs));
        return e;
    }

    private static String replace(String expr, String name, String value) {
        return expr.replace("$" + name, value).replace("${" + name + "}", value);
    }

    /** Grafana's "nice" interval at or below a raw one (grafana-plugin-sdk-go gtime.RoundInterval). */
    static long roundInterval(long ms) {
        long[][] table = {
            {10, 1}, {15, 10}, {35, 20}, {75, 50}, {150, 100}, {350, 200}, {750, 500}, {1500, 1000}, {3500, 2000},
            {7500, 5000}, {12500, 10000}, {17500, 15000}, {25000, 20000}, {45000, 30000}, {90000, 60000},
            {210000, 120000}, {450000, 300000}, {750000, 600000}, {1050000, 900000}, {1500000, 1200000},
            {2700000, 1800000}, {5400000, 3600000}, {9000000, 7200000}, {16200000, 10800000}, {32400000, 21600000},
            {86400000, 43200000}, {172800000, 86400000}, {604800000, 86400000}, {1814400000, 604800000},
        };
        for (long[] row : table) {
            if (ms <= row[0]) {
                return row[1];
            }
        }
        return ms < 3628800000L ? 2592000000L : 31536000000L;
    }

    /** {@code $__interval}'s text: the largest whole unit, as Grafana's FormatInterval writes it (90 s is "1m"). */
    static String formatInterval(long ms) {
        long[] units = {31536000000L, 86400000L, 3600000L, 60000L, 1000L, 1L};
        String[] names = {"y", "d", "h", "m", "s", "ms"};
        for (int i = 0; i < units.length; i++) {
            if (ms >= units[i]) {
                return (ms / units[i]) + names[i];
            }
        }
        return "1ms";
    }

    /** {@code $__rate_interval}'s text: Go's Duration.String(), e.g. 60 s is "1m0s", 75 s "1m15s", 0.5 s "500ms". */
    static String goDuration(long ms) {
        if (ms == 0) {
            return "0s";
        }
        if (ms < 1000) {
            return ms + "ms";
        }
        long h = ms / 3600000;
        long m = ms % 3600000 / 60000;
        long s = ms % 60000 / 1000;
        long frac = ms % 1000;
        StringBuilder sb = new StringBuilder();
        if (h > 0) {
            sb.append(h).append('h');
        }
        if (h > 0 || m > 0) {
            sb.append(m).append('m');
        }
        sb.append(s);
        if (frac > 0) {
            sb.append('.').append(String.format(Locale.ROOT, "%03d", frac).replaceAll("0+$", ""));
        }
        return sb.append('s').toString();
    }

    /**
     * An interval as Grafana accepts it in a data source or panel setting: a bare number is seconds, {@code <10s>} is
     * 10 s, else Go-style parts ({@code 1m30s}, {@code 500ms}, {@code 1d}).
     *
     * @return milliseconds, or -1 when the text is not an interval (a variable, say)
     */
    public static long parse(String text) {
        if (text == null) {
            return -1;
        }
        String t = text.trim().replace("<", "").replace(">", "");
        if (t.isEmpty()) {
            return -1;
        }
        if (t.matches("\\d+")) {
            return Long.parseLong(t) * 1000;
        }
        Matcher m = DURATION_PART.matcher(t);
        double total = 0;
        int end = 0;
        while (m.find()) {
            if (m.start() != end) {
                return -1;
            }
            end = m.end();
            double n = Double.parseDouble(m.group(1));
            total += n * switch (m.group(2)) {
                case "ms" -> 1;
                case "s" -> 1000;
                case "m" -> 60_000;
                case "h" -> 3_600_000;
                case "d" -> 86_400_000;
                case "w" -> 604_800_000;
                default -> 31_536_000_000L;
            };
        }
        return end == t.length() ? Math.round(total) : -1;
    }
}
