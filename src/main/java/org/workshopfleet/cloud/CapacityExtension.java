package org.workshopfleet.cloud;

import java.util.Optional;

/**
 * A cloud whose account limits can be read before launching (EC2's vCPU quota). Asked for with
 * {@link Cloud#capacity()}; Lightsail and the lab have no readable limit and answer empty.
 */
public interface CapacityExtension {

    /**
     * Checks, before anything is created, that the account's limits let this workshop have machines for attendees
     * 1..{@code fleetSize}: its machines that are already live count as in use, the missing ones as needed. Fails with a
     * one-line {@code BadInput} naming the limit, its value, what is in use, what the fleet needs and how to fix it.
     * Makes read-only calls only. When the limit cannot be read it returns a notice for the caller to print and the
     * launch goes ahead (the cloud's own refusal at launch stays the safety net).
     */
    Optional<String> checkCapacity(int fleetSize);
}
