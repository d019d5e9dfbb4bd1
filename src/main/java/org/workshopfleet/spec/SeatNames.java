package org.workshopfleet.spec;

import java.util.Locale;
import java.util.regex.Pattern;
import org.workshopfleet.error.BadInput;

/**
 * The seats' DNS names, from a pattern with {@code {n}} for the seat number ({@code seat{n}.example.org} gives
 * {@code seat07.example.org}). Spares get {@code spare-NN} in place of the number, so their names never clash with a
 * seat's. Validated on construction: every name the pattern gives is a DNS name.
 *
 * @param pattern lower-case, without a final dot
 */
public record SeatNames(String pattern) {

    /** The placeholder the pattern replaces with the seat number. */
    public static final String PLACEHOLDER = "{n}";

    /** One DNS label (RFC 1035 "Preferred name syntax", with digits allowed first as RFC 1123 permits). */
    private static final Pattern LABEL = Pattern.compile("[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?");
    /** The longest DNS name in its text form, without the final dot (RFC 1035, "Size limits"). */
    private static final int MAX_NAME = 253;

    /** @throws BadInput naming the option and how to fix it */
    public SeatNames {
        pattern = pattern == null ? "" : pattern.trim().toLowerCase(Locale.ROOT);
        if (pattern.endsWith(".")) {
            pattern = pattern.substring(0, pattern.length() - 1);
        }
        if (!pattern.contains(PLACEHOLDER)) {
            throw new BadInput("-DhostnamePattern=" + pattern + " has no " + PLACEHOLDER + " for the seat number:"
                    + " use e.g. -DhostnamePattern=seat{n}.example.org");
        }
        // The shortest and the longest substitution: both must be names a resolver and a certificate accept.
        for (String n : new String[] {"01", "spare-" + WorkshopSpec.MAX_COUNT}) {
            String name = pattern.replace(PLACEHOLDER, n);
            String[] labels = name.split("\\.", -1);
            boolean ok = labels.length >= 2 && name.length() <= MAX_NAME;
            for (String label : labels) {
                ok &= LABEL.matcher(label).matches();
            }
            if (!ok) {
                throw new BadInput("-DhostnamePattern=" + pattern + " does not give DNS names (" + name + "): use"
                        + " letters, digits and inner hyphens in dot-separated labels of a domain you control,"
                        + " e.g. -DhostnamePattern=seat{n}.example.org");
            }
        }
    }

    /** Seat {@code seat}'s name: {@code seat07.example.org}. */
    public String seat(int seat) {
        return pattern.replace(PLACEHOLDER, String.format(Locale.ROOT, "%02d", seat));
    }

    /** Spare machine {@code machine}'s name: {@code seatspare-13.example.org}. */
    public String spare(int machine) {
        return pattern.replace(PLACEHOLDER, String.format(Locale.ROOT, "spare-%02d", machine));
    }
}
