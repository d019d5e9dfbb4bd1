package org.workshopfleet.cloud.ec2.fake;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * What stands behind the fake's instances. The default hands out TEST-NET addresses (RFC 5737) that nothing ever
 * contacts; the lab harness can plug in real lab machines so the EC2 code path runs end to end.
 */
public interface InstanceBackend {

    /** Boots a machine for this instance from its raw (decoded) user data; returns its public IPv4 address. */
    String boot(String instanceId, String rawUserData);

    /** Destroys the machine behind this instance; called once, on TerminateInstances. */
    void terminate(String instanceId);

    /** Addresses from 198.51.100.0/24 and 203.0.113.0/24, never contacted. */
    static InstanceBackend testNet() {
        AtomicInteger next = new AtomicInteger();
        return new InstanceBackend() {
            @Override
            public String boot(String instanceId, String rawUserData) {
                int n = next.getAndIncrement() % 508;
                return (n < 254 ? "198.51.100." : "203.0.113.") + (n % 254 + 1);
            }

            @Override
            public void terminate(String instanceId) {
            }
        };
    }
}
