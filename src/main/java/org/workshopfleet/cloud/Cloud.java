package org.workshopfleet.cloud;

import org.workshopfleet.error.FleetException;
import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * A place that makes machines for one workshop: EC2, Lightsail, or the local lab. One instance serves one workshop
 * (its name and region are fixed at construction) and reports every resource it creates or deletes to the
 * {@link ResourceRecorder} it was given, before the call that made it returns.
 *
 * <p>What only some clouds can do is a capability the caller asks for ({@link #images()}, {@link #ingress()},
 * {@link #tagging()}, {@link #capacity()}), answered empty where the cloud lacks it.
 *
 * <p>Every operation is idempotent: calling it again after a crash or a partial failure adopts what exists instead of
 * creating it twice, and deleting what is already gone succeeds.
 */
public interface Cloud extends AutoCloseable {

    /**
     * The facts of this cloud's provider (its user-data format among them): the same profile the registry gives for
     * the provider, so what a caller plans and what the cloud does cannot differ.
     */
    ProviderProfile profile();

    /** Short provider id: {@code ec2}, {@code lightsail}, {@code lab}. */
    default String providerName() {
        return profile().provider().id();
    }

    /**
     * Ensures the workshop's shared resources exist: the login key pair and the ingress rules (or, per instance,
     * firewalls are applied in {@link #createNodes}). Fails with a one-line {@code FleetException} for a missing default
     * VPC, bad credentials and the like, before any machine exists.
     */
    void prepare(LaunchContext context);

    /**
     * Launches one machine per request (each with its own user data), tagged at creation. Requests for attendees that
     * already have a live machine of this workshop adopt that machine. Returns the machines as the cloud reported them (often pending,
     * without an address yet).
     */
    List<Machine> createNodes(LaunchContext context, List<NodeRequest> requests);

    /**
     * Waits until every given machine is running with a public address, polling the whole set at once with backoff, and
     * hands each machine to {@code onRunning} as soon as the cloud reports it running with an address (once per machine,
     * on the calling thread), so work on the first machines can start while the others boot. Returns them in the order
     * given; machines that never run are only in the returned list, in their final state.
     */
    List<Machine> awaitRunning(Collection<String> machineIds, Duration timeout, Consumer<Machine> onRunning);

    /** As {@link #awaitRunning(Collection, Duration, Consumer)}, without the per-machine callback. */
    default List<Machine> awaitRunning(Collection<String> machineIds, Duration timeout) {
        return awaitRunning(machineIds, timeout, m -> { });
    }

    /**
     * {@link #createNodes} and {@link #awaitRunning(Collection, Duration, Consumer)} of those machines and of the
     * already live {@code liveIds}, overlapped where the cloud can: each machine goes to {@code launched} as soon as its
     * own launch returned (possibly on another thread, and while other launches still run), and is waited for only
     * after that callback returned, so the caller records it before anything else learns of it. {@code onRunning} is
     * called as by {@code awaitRunning}, on the calling thread. One poll still covers every machine launched so far.
     * The timeout counts from the return of the last launch. This default launches everything, then waits.
     *
     * @return the final state of every machine, the live ones first, as {@code awaitRunning} returns them
     */
    default List<Machine> launchAndAwait(LaunchContext context, List<NodeRequest> requests, Collection<String> liveIds,
                                         Duration timeout, Consumer<Machine> launched, Consumer<Machine> onRunning) {
        Set<String> ids = new LinkedHashSet<>(liveIds);
        if (!requests.isEmpty()) {
            for (Machine m : createNodes(context, requests)) {
                launched.accept(m);
                ids.add(m.id());
            }
        }
        return awaitRunning(List.copyOf(ids), timeout, onRunning);
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

    /** Baking and launching from images, if this cloud has them. */
    default Optional<ImageExtension> images() {
        return Optional.empty();
    }

    /** Changing the live fleet's ingress CIDR, if this cloud has ingress rules. */
    default Optional<IngressExtension> ingress() {
        return Optional.empty();
    }

    /** Changing tags on live machines, if this cloud has tags. */
    default Optional<TaggingExtension> tagging() {
        return Optional.empty();
    }

    /** Checking the account's limits before a launch, if this cloud can read them. */
    default Optional<CapacityExtension> capacity() {
        return Optional.empty();
    }

    @Override
    default void close() {
    }
}
