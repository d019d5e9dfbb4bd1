package org.workshopfleet.spec;

import org.workshopfleet.error.BadInput;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** Where the machines come from. */
public enum Provider {
    /** Amazon EC2: one security group, one key pair, instances tagged with the workshop. */
    EC2(true),
    /** Amazon Lightsail: instances with per-instance firewalls, one key pair. */
    LIGHTSAIL(true),
    /** Local Debian 12 machines (systemd-nspawn) for tests and rehearsals; needs root. */
    LAB(false);

    private final boolean regional;

    Provider(boolean regional) {
        this.regional = regional;
    }

    /**
     * Whether machines live in an AWS region, so -Dregion must name one (the lab's live on this computer). Kept here,
     * not in the provider's profile, because the spec checks it while it is built.
     */
    public boolean regional() {
        return regional;
    }

    /** The lower-case name used on the command line and in the ledger. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Provider parse(String text) {
        for (Provider p : values()) {
            if (p.id().equals(text.trim().toLowerCase(Locale.ROOT))) {
                return p;
            }
        }
        throw new BadInput("unknown provider '" + text + "': use -Dprovider="
                + Arrays.stream(values()).map(Provider::id).collect(Collectors.joining(", -Dprovider=")));
    }
}
