package org.workshopfleet.spec;

import org.workshopfleet.error.BadInput;
import org.workshopfleet.error.FleetException;


/** An IPv4 CIDR block, normalised (host bits must be zero). */
public record Cidr(int address, int prefix) {

    /**
     * The shortest prefix accepted without {@code -DallowWorld=true}: a /16 is a campus or a large venue, anything
     * wider ({@code 0.0.0.0/1} is half the internet, {@code 0.0.0.0/0} all of it) needs the explicit opt-in.
     */
    public static final int NARROWEST_WIDE_PREFIX = 16;

    /**
     * Parses {@code text} and refuses a block wider than /{@value #NARROWEST_WIDE_PREFIX} unless {@code allowWorld}:
     * the one rule every command and cloud applies to the ingress source.
     *
     * @throws FleetException with one line saying how to fix it
     */
    public static Cidr admitted(String text, boolean allowWorld) {
        return parse(text).admittedBy(allowWorld);
    }

    /**
     * This block, when it is at most a /{@value #NARROWEST_WIDE_PREFIX} or {@code allowWorld} opts in to a wider one.
     *
     * @throws BadInput with one line saying how to fix it
     */
    public Cidr admittedBy(boolean allowWorld) {
        if (prefix < NARROWEST_WIDE_PREFIX && !allowWorld) {
            throw new BadInput("cidr " + this + " opens SSH and Grafana to "
                    + (prefix == 0 ? "the whole internet" : (1L << (32 - prefix)) + " addresses")
                    + ": give the venue's address (-Dcidr=203.0.113.7/32, at most a /" + NARROWEST_WIDE_PREFIX
                    + ") or add -DallowWorld=true if you really mean it");
        }
        return this;
    }

    /** Parses and normalises an IPv4 CIDR ({@code 203.0.113.7} alone means /32); no width rule (see {@link #admitted}). */
    public static Cidr parse(String text) {
        String t = text == null ? "" : text.trim();
        String bad = "cidr '" + text + "' is not an IPv4 CIDR: use e.g. -Dcidr=203.0.113.7/32";
        int slash = t.indexOf('/');
        String ip = slash < 0 ? t : t.substring(0, slash);
        int prefix;
        try {
            prefix = slash < 0 ? 32 : Integer.parseInt(t.substring(slash + 1));
        } catch (NumberFormatException e) {
            throw new BadInput(bad);
        }
        String[] parts = ip.split("\\.", -1);
        if (parts.length != 4 || prefix < 0 || prefix > 32) {
            throw new BadInput(bad);
        }
        int address = 0;
        for (String part : parts) {
            if (!part.matches("\\d{1,3}") || Integer.parseInt(part) > 255) {
                throw new BadInput(bad);
            }
            address = (address << 8) | Integer.parseInt(part);
        }
        int mask = prefix == 0 ? 0 : -1 << (32 - prefix);
        if ((address & ~mask) != 0) {
            throw new BadInput("cidr '" + text + "' has host bits set: use " + format(address & mask) + "/" + prefix);
        }
        return new Cidr(address, prefix);
    }

    private static String format(int a) {
        return ((a >>> 24) & 255) + "." + ((a >>> 16) & 255) + "." + ((a >>> 8) & 255) + "." + (a & 255);
    }

    @Override
    public String toString() {
        return format(address) + "/" + prefix;
    }
}
