package org.workshopfleet.spec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.workshopfleet.error.BadInput;

/**
 * How attendees reach their machine's HTTPS entry (port 443: browser terminal and Grafana): who may connect, which
 * certificate it serves and under which names. Validated on construction; every violation is a {@link BadInput} with
 * one line saying how to fix it.
 *
 * @param access          who may reach port 443: the facilitator's CIDR like the other ports, or every address
 * @param tlsCert         the facilitator's own certificate (PEM), or null for a per-machine certificate made here
 * @param tlsKey          the private key of {@code tlsCert} (PEM); given together with it or not at all
 * @param hostnamePattern the seats' DNS names with {@code {n}} for the seat number ({@code seat{n}.example.org} gives
 *                        {@code seat01.example.org}); needs {@code tlsCert}; null: the cards use the machines'
 *                        addresses
 */
public record WebEntry(Access access, Path tlsCert, Path tlsKey, String hostnamePattern) {

    /** The default: 443 follows the CIDR, per-machine certificates, addresses on the cards. */
    public static final WebEntry DEFAULT = new WebEntry(Access.CIDR, null, null, null);

    /** Who may reach port 443. */
    public enum Access {
        /** Only the facilitator's CIDR, like ports 22, 80 and 3000. */
        CIDR("cidr"),
        /** Every address: for attendees behind VPNs or proxies whose address the facilitator cannot know. */
        ANYWHERE("anywhere");

        private final String id;

        Access(String id) {
            this.id = id;
        }

        /** The value of {@code -Daccess} and of the ledger setting. */
        public String id() {
            return id;
        }

        /** Parses {@code -Daccess}; anything else is bad input naming both values. */
        public static Access parse(String text) {
            String t = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
            for (Access a : values()) {
                if (a.id.equals(t)) {
                    return a;
                }
            }
            throw new BadInput("-Daccess=" + text + " is not a choice: use -Daccess=cidr (port 443 only from -Dcidr,"
                    + " the default) or -Daccess=anywhere (port 443 open to every address)");
        }
    }

    public WebEntry {
        access = access == null ? Access.CIDR : access;
        if ((tlsCert == null) != (tlsKey == null)) {
            throw new BadInput(tlsCert == null
                    ? "-DtlsKey needs -DtlsCert: give the certificate (PEM) too, or leave both out for a certificate"
                    + " made per machine"
                    : "-DtlsCert needs -DtlsKey: give the certificate's private key (PEM) too, or leave both out for"
                    + " a certificate made per machine");
        }
        if (tlsCert != null) {
            readable(tlsCert, "tlsCert", "certificate");
            readable(tlsKey, "tlsKey", "private key");
        }
        if (hostnamePattern != null) {
            hostnamePattern = new SeatNames(hostnamePattern).pattern();
            if (tlsCert == null) {
                throw new BadInput("-DhostnamePattern needs -DtlsCert and -DtlsKey: a certificate for those names"
                        + " (a wildcard such as *.example.org); the per-machine ones name only the address");
            }
        }
    }

    /** The seats' DNS names, or null without {@link #hostnamePattern} (the cards show addresses). */
    public SeatNames names() {
        return hostnamePattern == null ? null : new SeatNames(hostnamePattern);
    }

    /** Seat {@code seat}'s DNS name ({@code seat07.example.org}), or null without {@link #hostnamePattern}. */
    public String seatName(int seat) {
        return hostnamePattern == null ? null : names().seat(seat);
    }

    /** Spare machine {@code machine}'s DNS name ({@code seatspare-13.example.org}), or null without a pattern. */
    public String spareName(int machine) {
        return hostnamePattern == null ? null : names().spare(machine);
    }

    private static void readable(Path file, String option, String what) {
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            throw new BadInput("-D" + option + "=" + file + " is not a readable file: give the path of the "
                    + what + " in PEM form");
        }
    }
}
