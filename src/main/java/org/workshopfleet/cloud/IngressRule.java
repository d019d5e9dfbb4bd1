package org.workshopfleet.cloud;

/**
 * One port every machine opens to the facilitator's CIDR.
 *
 * @param protocol    {@code tcp} or {@code udp}
 * @param port        port number
 * @param description why the port is open (shown in the cloud console)
 */
public record IngressRule(String protocol, int port, String description) {
}
