package org.workshopfleet.cloud;

import org.workshopfleet.error.FleetException;
import java.time.Duration;
import java.util.Collection;
import java.util.List;

/**
 * A place that makes machines for one workshop: EC2, Lightsail, or the local lab. One instance serves one workshop
 * (its name and region are fixed at construction) and reports every resource it creates or deletes to the
 * {@link ResourceRecorder} it was given, before the call that made it returns.
 *
 * <p>Every operation is idempotent: calling it again after a crash or a partial failure adopts what exists instead of
 * creating it twice, and deleting what is already gone succeeds.
 */
public interface Cloud extends AutoCloseable {

    /** Short provider id: {@code ec2}, {@code lightsail}, {@code lab}. */
    String providerName();

    /** What kind of user data {@link NodeRequest#userData()} must hold for this cloud. */
    UserDataFormat userDataFormat();

    /**
     * Ensures the workshop's shared resources exist: the login key pair and the ingress rules (or, per instance,
     * firewalls are applied in {@link #createNodes}). Fails with a one-line {@code FleetException} for a missing default
     * VPC, bad credentials and the like, before any machine exists.
     */
    void prepare(LaunchContext context);

    /**
     * Checks, before anything is created, that the account's limits let this workshop have machines for attendees
     * 1..{@code fleetSize}: its machines that are already live count as in use, the missing ones as needed. Fails with a
     * one-line {@code FleetException} naming the limit, its value, what is in use, what the fleet needs and how to fix it.
     * Makes read-only calls only. When the limit cannot be read it returns a notice for the caller to print and the
     * launch goes ahead (the cloud's own refusal at launch stays the safety net). Clouds without a readable limit
     * (Lightsail, the lab) answer empty and make no call.
     */
    default java.util.Optional<String> checkCapacity(int fleetSize) {
        return java.util.Optional.empty();
    }

    /**
     * Launches one machine per request, batched, tagged at creation. Requests for attendees that already have a live
     * machine of this workshop adopt that machine. Returns the machines as the cloud reported them (often pending,
     * without an address yet).
     */
    List<Machine> createNodes(LaunchContext context, List<NodeRequest> requests);

    /**
     * Waits until every given machine is running with a public address, polling the whole set at once with backoff.
     * Returns them in the order given. Machines that fail to start are returned in their final state.
     */
    List<Machine> awaitRunning(Collection<String> machineIds, Duration timeout);

    /**
     * As {@link #awaitRunning(Collection, Duration)}, and hands each machine to {@code onRunning} as soon as the cloud
     * reports it running with an address (once per machine, on the calling thread), so work on the first machines can
     * start while the others boot. Machines that never run are only in the returned list, in their final state.
     * This default reports them all when the wait is over; clouds override it to report per poll.
     */
    default List<Machine> awaitRunning(Collection<String> machineIds, Duration timeout,
                                       java.util.function.Consumer<Machine> onRunning) {
        List<Machine> all = awaitRunning(machineIds, timeout);
        all.stream().filter(Machine::isRunningWithAddress).forEach(onRunning);
        return all;
    }

    /** Every live (not terminated) machine of this workshop the cloud knows, found by tag. */
    List<Machine> listNodes();

    /** Destroys these machines and waits until they are gone. */
    void destroyNodes(Collection<String> machineIds);

    /**
     * Removes everything of this workshop: the resources named (from the ledger) and whatever the cloud finds by tag;
     * machines first, then the shared resources, in dependency order. Safe to repeat.
     */
    void teardown(Collection<CloudResource> known);

    /**
     * Makes the live fleet's ingress ports admit exactly {@code newCidr}: adds it first, then removes every other source
     * the cloud holds on them (not only {@code oldCidr}, the ledger's, which may be out of date). Safe to repeat.
     */
    void replaceIngress(LaunchContext context, String oldCidr, String newCidr);

    /**
     * Sets (adds or replaces) these tags on the given machines, e.g. a moved {@code ExpiresAt}. Clouds without tags (the
     * lab) keep such values only in the ledger and on the machine, and do nothing here.
     */
    default void retag(Collection<String> machineIds, java.util.Map<String, String> tags) {
    }

    /**
     * The available image baked for this recipe, if the cloud has one (found by its {@code ImageRecipe} tag or name).
     * Clouds without images answer empty.
     */
    default java.util.Optional<MachineImage> findImage(String recipeHash) {
        return java.util.Optional.empty();
    }

    /**
     * Bakes an image of this machine (already sealed by the caller), tagged {@code ManagedBy=workshop-fleet} and
     * {@code ImageRecipe=<recipeHash>} but not with the workshop, and waits until it is available. Idempotent: an image
     * for the same recipe that already exists (or is still being made) is adopted.
     */
    default MachineImage captureImage(String machineId, String recipeHash, Duration timeout) {
        throw new UnsupportedOperationException(providerName() + " cannot bake images");
    }

    /** Every image workshop-fleet baked in this region, any recipe. */
    default List<MachineImage> listImages() {
        return List.of();
    }

    /** Removes this image and what backs it (EBS snapshots). Removing what is already gone succeeds. */
    default void removeImage(MachineImage image) {
        throw new UnsupportedOperationException(providerName() + " cannot bake images");
    }

    @Override
    default void close() {
    }
}
