package org.workshopfleet.cloud;

/**
 * One port every machine opens: to the facilitator's CIDR, or, for a {@code world} rule, to every address.
 *
 * @param protocol    {@code tcp} or {@code udp}
 * @param port        port number
 * @param description why the port is open (shown in the cloud console)
 * @param world       admits every address ({@value #EVERY_IPV4}, and {@value #EVERY_IPV6} where the cloud holds IPv6
 *                    rules) instead of the CIDR: a rule marked {@code "anywhere": true} in
 *                    {@code security-groups/workshop.json} under {@code -Daccess=anywhere}
 */
public record IngressRule(String protocol, int port, String description, boolean world) {

    /** Every IPv4 address. */
    public static final String EVERY_IPV4 = "0.0.0.0/0";
    /** Every IPv6 address. */
    public static final String EVERY_IPV6 = "::/0";

    /** A rule admitting the facilitator's CIDR only. */
    public IngressRule(String protocol, int port, String description) {
        this(protocol, port, description, false);
    }

    /** The IPv4 source this rule admits: {@value #EVERY_IPV4} for a world rule, else {@code cidr}. */
    public String ipv4Source(String cidr) {
        return world ? EVERY_IPV4 : cidr;
    }
}
