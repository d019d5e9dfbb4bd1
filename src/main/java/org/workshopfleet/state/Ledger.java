package org.workshopfleet.state;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.UnaryOperator;
import org.workshopfleet.FleetException;
import org.workshopfleet.cloud.CloudResource;
import org.workshopfleet.cloud.ResourceKind;
import org.workshopfleet.cloud.ResourceRecorder;

/**
 * The workshop's state file ({@code workshops/<name>/ledger.json}): every resource created, every machine's progress.
 * Every change is written to disk (atomically, fsync'd) before the method returns, so a crash at any point leaves a
 * ledger that names everything that exists. Thread-safe: the runner's threads share one ledger.
 *
 * <p>The file format is {@link LedgerData}'s; it only grows by optional fields (see there), so ledgers written by
 * earlier versions load unchanged: for example a machine recorded before instance types were recorded has a
 * {@code null} {@link MachineRecord#instanceType()}.
 */
public final class Ledger implements ResourceRecorder {

    static final ObjectMapper JSON = new ObjectMapper()
            .registerModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .setSerializationInclusion(JsonInclude.Include.NON_NULL);

    private final StateFolder folder;
    private final Clock clock;
    private LedgerData data;

    private Ledger(StateFolder folder, Clock clock, LedgerData data) {
        this.folder = folder;
        this.clock = clock;
        this.data = data;
    }

    /** Opens the ledger of this folder, creating an empty one (not yet written) if there is none. */
    public static Ledger open(StateFolder folder, String workshop, String provider, String region, Clock clock) {
        if (Files.exists(folder.ledgerFile())) {
            try {
                LedgerData loaded = JSON.readValue(folder.ledgerFile().toFile(), LedgerData.class);
                if (!loaded.workshop().equals(workshop)) {
                    throw new FleetException("ledger " + folder.ledgerFile() + " belongs to workshop '" + loaded.workshop()
                            + "': use -Dname=" + loaded.workshop() + " or another state folder");
                }
                return new Ledger(folder, clock, loaded);
            } catch (IOException e) {
                throw new FleetException("ledger " + folder.ledgerFile() + " is unreadable (" + e.getClass().getSimpleName()
                        + "): restore it from ledger.json.bak or run -Daction=teardown, which also finds resources by tag");
            }
        }
        return new Ledger(folder, clock, LedgerData.empty(workshop, provider, region, clock.instant()));
    }

    /** Whether a ledger file exists in this folder. */
    public static boolean exists(StateFolder folder) {
        return Files.exists(folder.ledgerFile());
    }

    public synchronized LedgerData snapshot() {
        return data;
    }

    @Override
    public synchronized void created(CloudResource r) {
        List<ResourceEntry> list = new ArrayList<>(data.resources());
        boolean known = list.stream().anyMatch(e -> e.kind() == r.kind() && e.id().equals(r.id()) && e.deletedAt() == null);
        if (!known) {
            list.add(new ResourceEntry(r.kind(), r.id(), r.name(), r.attendee(), clock.instant(), null));
            replace(data.withResources(list).reopened());
        }
    }

    @Override
    public synchronized void deleted(ResourceKind kind, String id) {
        Instant now = clock.instant();
        List<ResourceEntry> list = new ArrayList<>();
        boolean changed = false;
        for (ResourceEntry e : data.resources()) {
            if (e.kind() == kind && e.id().equals(id) && e.deletedAt() == null) {
                list.add(e.deleted(now));
                changed = true;
            } else {
                list.add(e);
            }
        }
        if (changed) {
            replace(data.withResources(list));
        }
    }

    /** Resources created and not yet deleted, machines first. */
    public synchronized List<CloudResource> liveResources() {
        return data.resources().stream()
                .filter(e -> e.deletedAt() == null)
                .sorted(Comparator.comparing(ResourceEntry::kind))
                .map(ResourceEntry::toResource)
                .toList();
    }

    /** Applies {@code change} to attendee {@code n}'s record (creating it from {@code name} if absent) and saves. */
    public synchronized MachineRecord updateMachine(int attendee, String name, UnaryOperator<MachineRecord> change) {
        Map<Integer, MachineRecord> machines = new TreeMap<>(data.machines());
        MachineRecord before = machines.getOrDefault(attendee, MachineRecord.planned(attendee, name, clock.instant()));
        MachineRecord after = change.apply(before).touched(clock.instant());
        machines.put(attendee, after);
        replace(data.withMachines(machines));
        return after;
    }

    public synchronized void removeMachine(int attendee) {
        Map<Integer, MachineRecord> machines = new TreeMap<>(data.machines());
        if (machines.remove(attendee) != null) {
            replace(data.withMachines(machines));
        }
    }

    /** Stores a free-form setting (cidr, expiry, pinned hashes) that later commands need. */
    public synchronized void putSetting(String key, String value) {
        Map<String, String> settings = new TreeMap<>(data.settings());
        if (!value.equals(settings.put(key, value))) {
            replace(data.withSettings(settings));
        }
    }

    public synchronized String setting(String key) {
        return data.settings().get(key);
    }

    /** Marks the workshop as torn down: nothing of it is live any more. */
    public synchronized void close() {
        replace(data.closed(clock.instant()));
    }

    /** Writes the ledger now (also called implicitly by every change). */
    public synchronized void save() {
        replace(data);
    }

    private void replace(LedgerData next) {
        folder.ensure();
        try {
            StateFolder.writeAtomically(folder.ledgerFile(), JSON.writeValueAsBytes(next), true);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot serialise the ledger", e);
        }
        data = next;
    }
}
