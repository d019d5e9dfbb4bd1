package org.workshopfleet.cloud.ec2.fake;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * What stands behind the fake's instances. The default hands out TEST-NET addresses (RFC 5737) that nothing ever
 * contacts; the lab harness can plug in real lab machines so the EC2 code path runs end to end.
 *
 * <p>A backend with disks can also stand behind the account's own images: {@code CreateImage} captures the instance's
 * disk ({@link #capture}), {@code RunInstances} with such an image boots from it ({@link #bootFromImage}), and deleting
 * the image's last EBS snapshot releases it ({@link #release}). The defaults keep nothing: an image is only a name, and
 * an instance launched from it boots as from a stock image.
 */
public interface InstanceBackend {

    /** Boots a machine for this instance from its raw (decoded) user data; returns its public IPv4 address. */
    String boot(String instanceId, String rawUserData);

    /** Destroys the machine behind this instance; called once, on TerminateInstances. */
    void terminate(String instanceId);

    /**
     * Boots a machine for this instance from the disk {@link #capture} kept for {@code imageId} (one of the account's
     * own images, available); returns its public IPv4 address. The default ignores the image.
     */
    default String bootFromImage(String instanceId, String imageId, String rawUserData) {
        return boot(instanceId, rawUserData);
    }

    /**
     * Keeps the disk of the machine behind this instance as the data of image {@code imageId}; called once per
     * CreateImage, and the image stays {@code pending} until it returns ({@code failed} if it throws). The default keeps
     * nothing.
     */
    default void capture(String instanceId, String imageId) {
    }

    /** The image's data is no longer needed: its EBS snapshot was deleted. Called at most once per image. */
    default void release(String imageId) {
    }

    /** Every instance answers at {@code address} (e.g. a loopback sshd standing in for all machines); nothing to destroy. */
    static InstanceBackend at(String address) {
        return new InstanceBackend() {
            @Override
            public String boot(String instanceId, String rawUserData) {
                return address;
            }

            @Override
            public void terminate(String instanceId) {
            }
        };
    }

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
