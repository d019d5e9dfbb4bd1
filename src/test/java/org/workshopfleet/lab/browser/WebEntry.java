package org.workshopfleet.lab.browser;

import java.net.URI;
import java.util.Objects;

/**
 * What an attendee's card gives for a machine's HTTPS entry, as {@link WebEntryCheck} uses it.
 *
 * @param base            the machine's HTTPS address without a path, e.g. {@code https://10.231.1.2}
 * @param terminal        the browser terminal's basic-auth login ({@code ubuntu} and the card's SSH password)
 * @param grafana         Grafana's login (the card's Grafana user and password)
 * @param cardFingerprint the certificate's SHA-256 fingerprint as the card prints it (any case, colons or not)
 * @param dashboardUid    the uid of the workshop dashboard, opened at {@code /grafana/d/<uid>}
 * @param dashboardTitle  the title that dashboard must show
 */
public record WebEntry(URI base, Login terminal, Login grafana, String cardFingerprint, String dashboardUid,
                       String dashboardTitle) {

    public WebEntry {
        Objects.requireNonNull(base, "base");
        Objects.requireNonNull(terminal, "terminal");
        Objects.requireNonNull(grafana, "grafana");
        Objects.requireNonNull(cardFingerprint, "cardFingerprint");
        Objects.requireNonNull(dashboardUid, "dashboardUid");
        Objects.requireNonNull(dashboardTitle, "dashboardTitle");
        if (!"https".equals(base.getScheme()) || base.getHost() == null
                || !(base.getPath() == null || base.getPath().isEmpty() || "/".equals(base.getPath()))) {
            throw new IllegalArgumentException("the web entry's base must be https://<host>[:port] without a path, not "
                    + base);
        }
    }

    /** {@code https://host[:port]}: the origin Chromium names the certificate by, and the prefix of every address. */
    public String origin() {
        return "https://" + base.getHost() + (base.getPort() == -1 ? "" : ":" + base.getPort());
    }

    /** The browser terminal's address. */
    public String terminalUrl() {
        return origin() + "/terminal/";
    }

    /** Grafana's login page under its sub-path. */
    public String grafanaLoginUrl() {
        return origin() + "/grafana/login";
    }

    /** The workshop dashboard's address. */
    public String dashboardUrl() {
        return origin() + "/grafana/d/" + dashboardUid;
    }
}
