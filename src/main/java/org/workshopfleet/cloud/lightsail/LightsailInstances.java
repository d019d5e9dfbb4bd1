package org.workshopfleet.cloud.lightsail;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import org.workshopfleet.cloud.CloudResource;
import org.workshopfleet.cloud.LaunchContext;
import org.workshopfleet.cloud.Machine;
import org.workshopfleet.cloud.MachineState;
import org.workshopfleet.cloud.NodeRequest;
import org.workshopfleet.cloud.ResourceKind;
import org.workshopfleet.cloud.TaggingExtension;
import org.workshopfleet.error.BadInput;
import org.workshopfleet.error.CloudFailure;
import org.workshopfleet.error.FleetException;
import org.workshopfleet.spec.Tags;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.lightsail.model.Instance;
import software.amazon.awssdk.services.lightsail.model.InvalidInputException;
import software.amazon.awssdk.services.lightsail.model.NotFoundException;
import software.amazon.awssdk.services.lightsail.model.OperationFailureException;
import software.amazon.awssdk.services.lightsail.model.Tag;

/**
 * The workshop's instances {@code <workshop>-NN}: created one per machine (a name already in use is adopted when it
 * carries this workshop's tags and refused otherwise), waited for until running with their firewall re-checked, listed,
 * deleted and waited for until gone, and retagged ({@link TaggingExtension}).
 */
final class LightsailInstances implements TaggingExtension {

    private static final Pattern INSTANCE_NAME = Pattern.compile("\\w[\\w\\-]*\\w");
    /** States after which an instance will not become running by itself. */
    private static final Set<MachineState> SETTLED = Set.of(MachineState.STOPPING, MachineState.STOPPED,
            MachineState.SHUTTING_DOWN, MachineState.TERMINATED);

    private final LightsailSession session;
    private final LightsailInstanceScan scan;
    private final LightsailFirewall firewalls;
    private final LightsailLaunch launch;

    LightsailInstances(LightsailSession session, LightsailInstanceScan scan, LightsailFirewall firewalls,
                       LightsailLaunch launch) {
        this.session = session;
        this.scan = scan;
        this.firewalls = firewalls;
        this.launch = launch;
    }

    /**
     * Launches one instance per request (one CreateInstances call each, a few at a time), records it, and puts its
     * firewall. Before creating anything, one scan of the region finds names already in use: this workshop's are
     * adopted (their firewall re-applied only if it differs), anybody else's stop the launch with nothing created.
     */
    List<Machine> create(LaunchContext context, List<NodeRequest> requests) {
        Firewall firewall = LightsailFirewall.declared(context);
        Set<String> names = new HashSet<>();
        for (NodeRequest r : requests) {
            if (!INSTANCE_NAME.matcher(r.name()).matches()) {
                throw new BadInput("machine name '" + r.name() + "' is not a valid Lightsail name: use letters,"
                        + " digits, '-' and '_' (choose another -Dname)");
            }
            if (!names.add(r.name())) {
                throw new BadInput("machine name " + r.name() + " is requested twice: each attendee needs its own name");
            }
            if (r.userData() == null || r.userData().isBlank()) {
                throw new BadInput("the launch script for " + r.name() + " is empty: Lightsail machines get their"
                        + " host key and login key from it; render it before launching");
            }
        }
        firewalls.useForFleet(firewall);
        Map<String, Instance> existing = scan.all();
        for (NodeRequest r : requests) {
            Instance i = existing.get(r.name());
            if (i != null && !session.isOurs(i.tags())) {
                throw foreign(r.name(), i);
            }
        }
        List<Callable<Machine>> tasks = new ArrayList<>();
        for (NodeRequest r : requests) {
            Instance i = existing.get(r.name());
            tasks.add(i == null ? () -> launch(r, context, firewall) : () -> adoptListed(i, firewall));
        }
        return session.fanOut().all(tasks);
    }

    private Machine adoptListed(Instance i, Firewall firewall) {
        Machine m = LightsailInstanceScan.machine(i);
        session.recorder().created(new CloudResource(ResourceKind.INSTANCE, i.name(), i.name(), m.attendee()));
        firewalls.putUnlessMatching(i, firewall);
        return m;
    }

    private Machine launch(NodeRequest r, LaunchContext context, Firewall firewall) {
        List<Tag> tags = LightsailTags.of(tagsFor(r, context));
        Machine machine;
        try {
            launch.create(r, context.imageId(), tags);
            session.recorder().created(new CloudResource(ResourceKind.INSTANCE, r.name(), r.name(), r.attendee()));
            machine = new Machine(r.name(), r.name(), r.attendee(), MachineState.PENDING, null,
                    session.config().sizes().get(0), Instant.now().truncatedTo(ChronoUnit.SECONDS));
        } catch (InvalidInputException e) {
            if (!LightsailTags.isNameExists(e)) {
                throw ApiFailure.of("launching " + r.name(), session.region(), e);
            }
            machine = adoptAfterNameExists(r);
        } catch (SdkException e) {
            throw ApiFailure.of("launching " + r.name(), session.region(), e);
        }
        try {
            firewalls.put(r.name(), firewall);
        } catch (FleetException e) {
            // Refused while the instance is still pending: awaitRunning puts it again once the instance runs.
            if (!(e.getCause() instanceof InvalidInputException || e.getCause() instanceof OperationFailureException)) {
                throw e;
            }
        }
        return machine;
    }

    /** NameExists after the scan said the name was free: most likely our own create whose response was lost. */
    private Machine adoptAfterNameExists(NodeRequest r) {
        Instance i;
        try {
            i = session.client().getInstance(b -> b.instanceName(r.name())).instance();
        } catch (NotFoundException e) {
            throw new BadInput("the name " + r.name() + " is taken by another Lightsail resource (key pair, disk,"
                    + " static IP...) in " + session.region() + ": delete it or choose another workshop name (-Dname=...)");
        } catch (SdkException e) {
            throw ApiFailure.of("reading instance " + r.name(), session.region(), e);
        }
        if (!session.isOurs(i.tags())) {
            throw foreign(r.name(), i);
        }
        session.recorder().created(new CloudResource(ResourceKind.INSTANCE, r.name(), r.name(), r.attendee()));
        return LightsailInstanceScan.machine(i);
    }

    private FleetException foreign(String name, Instance i) {
        String owner = LightsailTags.value(i.tags(), Tags.WORKSHOP);
        return new BadInput("Lightsail instance " + name + " in " + session.region() + " already exists and is not"
                + " this workshop's (" + (owner == null ? "no Workshop tag" : "Workshop=" + owner) + "): choose another"
                + " workshop name (-Dname=...) or delete that instance");
    }

    private Map<String, String> tagsFor(NodeRequest r, LaunchContext context) {
        Map<String, String> tags = new LinkedHashMap<>();
        tags.put(Tags.NAME, r.name());
        tags.put(Tags.ATTENDEE, String.format(Locale.ROOT, "%02d", r.attendee()));
        tags.put(Tags.EXPIRES_AT, context.expiresAt().truncatedTo(ChronoUnit.SECONDS).toString());
        tags.putAll(new TreeMap<>(r.tags()));
        tags.putAll(session.config().baseTags());
        return tags;
    }

    /**
     * Polls the whole region (all GetInstances pages) with backoff until every named instance is running with a
     * public address or has settled in a state it will not leave by itself, or until the timeout. Each machine is
     * reported from the poll that saw it running, once its firewall was checked. Instances never listed come back as
     * {@link MachineState#UNKNOWN}.
     */
    List<Machine> awaitRunning(Collection<String> machineIds, Duration timeout, Consumer<Machine> onRunning) {
        List<String> names = List.copyOf(machineIds);
        Set<String> reported = new HashSet<>();
        if (names.isEmpty()) {
            return List.of();
        }
        Instant deadline = Instant.now().plus(timeout);
        int attempt = 0;
        Map<String, Instance> seen = Map.of();
        Set<String> firewallChecked = new HashSet<>();
        while (true) {
            session.polling().pause(attempt, deadline, LightsailSession.WAITING_FOR);
            try {
                seen = scan.all();
            } catch (FleetException e) {
                if (!(e.getCause() instanceof SdkException s && ApiFailure.isTransient(s))) {
                    throw e;
                }
            }
            firewalls.recheck(names, seen, firewallChecked);
            for (String n : names) {
                Instance i = seen.get(n);
                if (i != null && LightsailInstanceScan.machine(i).isRunningWithAddress() && reported.add(n)) {
                    onRunning.accept(LightsailInstanceScan.machine(i));
                }
            }
            Map<String, Instance> now = seen;
            boolean done = names.stream().allMatch(n -> now.containsKey(n)
                    && settled(LightsailInstanceScan.machine(now.get(n))));
            if (done || !Instant.now().isBefore(deadline)) {
                break;
            }
            attempt++;
        }
        List<Machine> out = new ArrayList<>();
        for (String n : names) {
            Instance i = seen.get(n);
            out.add(i != null ? LightsailInstanceScan.machine(i) : new Machine(n, n,
                    LightsailInstanceScan.attendeeFromName(n), MachineState.UNKNOWN, null,
                    session.config().sizes().get(0), null));
        }
        return out;
    }

    private static boolean settled(Machine m) {
        return m.isRunningWithAddress() || SETTLED.contains(m.state());
    }

    /** Every live instance carrying this workshop's tags. */
    List<Machine> list() {
        return scan.all().values().stream()
                .filter(i -> session.isOurs(i.tags()))
                .map(LightsailInstanceScan::machine)
                .filter(m -> !m.state().isGone())
                .toList();
    }

    /** Deletes these instances of the workshop and waits until they are gone; refuses names held by others. */
    void destroy(Collection<String> machineIds) {
        Set<String> names = new TreeSet<>(machineIds);
        Map<String, Instance> listed = scan.all();
        for (String n : names) {
            Instance i = listed.get(n);
            if (i != null && !session.isOurs(i.tags())) {
                throw foreign(n, i);
            }
        }
        deleteAndAwaitGone(names);
    }

    /**
     * Deletes the ledger's instances (unless someone else's instance now holds the name) and every instance carrying the
     * workshop's tags, and waits until they are gone.
     */
    void deleteAll(Collection<CloudResource> known) {
        Map<String, Instance> listed = scan.all();
        Set<String> instances = new TreeSet<>();
        for (CloudResource r : known) {
            Instance i = listed.get(r.id());
            // A ledger name now held by someone else's instance is not ours to delete.
            if (r.kind() == ResourceKind.INSTANCE && (i == null || session.isOurs(i.tags()))) {
                instances.add(r.id());
            }
        }
        listed.values().stream().filter(i -> session.isOurs(i.tags())).forEach(i -> instances.add(i.name()));
        deleteAndAwaitGone(instances);
    }

    private void deleteAndAwaitGone(Set<String> names) {
        List<Callable<Machine>> tasks = new ArrayList<>();
        for (String name : names) {
            tasks.add(() -> {
                try {
                    session.client().deleteInstance(b -> b.instanceName(name).forceDeleteAddOns(true));
                } catch (NotFoundException e) {
                    // already gone (or a retry after a lost response)
                } catch (SdkException e) {
                    throw ApiFailure.of("deleting instance " + name, session.region(), e);
                }
                session.recorder().deleted(ResourceKind.INSTANCE, name);
                return null;
            });
        }
        session.fanOut().all(tasks);
        awaitGone(names);
    }

    private void awaitGone(Set<String> names) {
        if (names.isEmpty()) {
            return;
        }
        Duration timeout = session.polling().timeout();
        Instant deadline = Instant.now().plus(timeout);
        int attempt = 0;
        while (true) {
            session.polling().pause(attempt, deadline, LightsailSession.WAITING_FOR);
            Map<String, Instance> listed = scan.all();
            Set<String> left = new TreeSet<>();
            for (String n : names) {
                // Listed as shutting down or terminated counts as gone: it will not come back.
                if (listed.containsKey(n) && !LightsailInstanceScan.state(listed.get(n)).isGone()) {
                    left.add(n);
                }
            }
            if (left.isEmpty()) {
                return;
            }
            if (!Instant.now().isBefore(deadline)) {
                throw new CloudFailure("Lightsail still lists " + String.join(", ", left) + " "
                        + timeout.toMinutes() + " min after deleting them: run teardown again");
            }
            attempt++;
        }
    }

    @Override
    public void retag(Collection<String> machineIds, Map<String, String> tags) {
        List<Tag> sdkTags = LightsailTags.of(tags);
        List<Callable<Machine>> tasks = new ArrayList<>();
        for (String name : machineIds) {
            tasks.add(() -> {
                try {
                    session.client().tagResource(b -> b.resourceName(name).tags(sdkTags));
                } catch (SdkException e) {
                    throw ApiFailure.of("tagging " + name, session.region(), e);
                }
                return null;
            });
        }
        session.fanOut().all(tasks);
    }
}
