package org.workshopfleet.cloud;

/**
 * A cloud whose machines admit their ingress ports from one CIDR that can be changed on the live fleet (an EC2
 * security group, Lightsail instance firewalls). Asked for with {@link Cloud#ingress()}; the lab has no such rules
 * (its machines are reachable from the lab host only) and answers empty.
 */
public interface IngressExtension {

    /**
     * Makes the live fleet's ingress ports admit exactly {@code context.cidr()}: adds it first, then removes every other
     * source the cloud holds on them (not only the one the ledger knows, which may be out of date). Safe to repeat.
     */
    void replaceIngress(LaunchContext context);
}
