package org.workshopfleet.report;

/**
 * What one attendee needs to use their machine; one card of the handout, one row of {@code attendees.csv}.
 *
 * @param attendee        the seat: attendee number, 1-based (printed large on the card); 0 for a spare
 * @param machineName     machine name {@code <workshop>-NN}
 * @param publicIp        the machine's address, or null while it has none
 * @param grafanaUser     Grafana login ({@code admin})
 * @param grafanaPassword that machine's Grafana password
 * @param sshUser         shell login ({@code ubuntu})
 * @param sshPassword     that machine's shell password
 * @param ready           true once the machine passed setup
 * @param status          short state for a machine that is not ready ({@code failed at 05-grafana}); {@code ready}
 *                        otherwise
 * @param hostKey         the machine's SSH host key fingerprint as {@code ssh} shows it on first contact
 *                        ({@code SHA256:} and unpadded base64), so the attendee can check it rather than trust the first
 *                        key they see; null when unknown
 * @param spare           a spare machine, serving no seat yet: its card is printed apart, marked SPARE, and handed out
 *                        only when a seat is moved onto it
 * @param hostName        the machine's DNS name ({@code -DhostnamePattern}), which the HTTPS links use instead of the
 *                        address; null: the links use the address
 * @param tlsSha256       the SHA-256 fingerprint of the certificate the machine serves on 443, as a browser shows it,
 *                        so the attendee can check a per-machine certificate before trusting it; null: not shown
 */
public record AttendeeCard(int attendee, String machineName, String publicIp, String grafanaUser, String grafanaPassword,
                           String sshUser, String sshPassword, boolean ready, String status, String hostKey,
                           boolean spare, String hostName, String tlsSha256) {

    /** As the canonical constructor, without a DNS name or a certificate fingerprint. */
    public AttendeeCard(int attendee, String machineName, String publicIp, String grafanaUser, String grafanaPassword,
                        String sshUser, String sshPassword, boolean ready, String status, String hostKey,
                        boolean spare) {
        this(attendee, machineName, publicIp, grafanaUser, grafanaPassword, sshUser, sshPassword, ready, status, hostKey,
                spare, null, null);
    }

    /** As the canonical constructor, for a seat's card. */
    public AttendeeCard(int attendee, String machineName, String publicIp, String grafanaUser, String grafanaPassword,
                        String sshUser, String sshPassword, boolean ready, String status, String hostKey) {
        this(attendee, machineName, publicIp, grafanaUser, grafanaPassword, sshUser, sshPassword, ready, status, hostKey,
                false);
    }

    /** Grafana's port on every machine. */
    public static final int GRAFANA_PORT = 3000;

    /** {@code http://IP/}, or null without an address. */
    public String webUrl() {
        return publicIp == null ? null : "http://" + publicIp + "/";
    }

    /** {@code http://IP:3000/}, or null without an address. */
    public String grafanaUrl() {
        return publicIp == null ? null : "http://" + publicIp + ":" + GRAFANA_PORT + "/";
    }

    /** Where the HTTPS links point: the DNS name when there is one, else the address; null without an address. */
    public String httpsHost() {
        return publicIp == null ? null : hostName != null ? hostName : publicIp;
    }

    /** {@code https://NAME-OR-IP/terminal/}: the browser terminal, or null without an address. */
    public String terminalUrl() {
        return publicIp == null ? null : "https://" + httpsHost() + "/terminal/";
    }

    /** {@code https://NAME-OR-IP/grafana/}: Grafana through the HTTPS entry, or null without an address. */
    public String grafanaHttpsUrl() {
        return publicIp == null ? null : "https://" + httpsHost() + "/grafana/";
    }

    /** The same card for the machine named {@code name} serving a certificate with this fingerprint. */
    public AttendeeCard withHttps(String name, String sha256) {
        return new AttendeeCard(attendee, machineName, publicIp, grafanaUser, grafanaPassword, sshUser, sshPassword,
                ready, status, hostKey, spare, name, sha256);
    }

    /** {@code ssh ubuntu@IP}, or null without an address. */
    public String sshCommand() {
        return publicIp == null ? null : "ssh " + sshUser + "@" + publicIp;
    }
}
