package org.workshopfleet.state;

import org.workshopfleet.error.BadInput;
import org.workshopfleet.error.FleetException;
import org.workshopfleet.error.Interrupted;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.UnaryOperator;
import org.workshopfleet.cloud.CloudResource;
import org.workshopfleet.cloud.ResourceKind;
import org.workshopfleet.cloud.ResourceRecorder;

/**
 * The workshop's state file ({@code workshops/<name>/ledger.json}): every resource created, every machine's progress.
 * Every change is written to disk (atomically, fsync'd) before the method returns, so a crash at any point leaves a
 * ledger that names everything that exists. Thread-safe: the runner's threads share one ledger.
 *
 * <p>Changes from many threads share writes (group commit, as databases do with their log): a change is applied in
 * memory, then its caller waits until a write that includes it has reached the disk, doing that write itself when
 * no other is in progress. Thirty machines report some twenty progress events each; with one fsync'd write per event,
 * serialised, the writes alone held every machine back by seconds on a busy host. A failed write is reported to every
 * caller whose change it carried (each retries once, as its own writer); the change stays in memory and reaches the
 * disk with the next write that succeeds.
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
    /**
     * The file as this process found it, until it is kept as {@code ledger.json.bak} just before the first write
     * replaces it; then null. Guarded by the writer's turn ({@code writing}).
     */
    private byte[] lastGood;
    /** Changes applied in memory so far; the last one a finished write included. Guarded by {@code this}. */
    private long version;
    private long durable;
    private boolean writing;
    /** How long a background write ({@link #updateMachineSoon}) waits before taking what has been applied. */
    private static final long SOON_MILLIS = 100;
    private final java.util.concurrent.atomic.AtomicBoolean writeQueued = new java.util.concurrent.atomic.AtomicBoolean();

    /**
     * Ledger files written by this process so far (each an atomic replace: two fsyncs, the file's and its folder's)
     * and their bytes; for benchmarks, which read the difference across a command.
     *
     * @param writes whole-file writes of {@code ledger.json} (the one backup per process included)
     * @param fsyncs fsync calls those writes made
     * @param bytes  bytes written
     */
    public record WriteCount(long writes, long fsyncs, long bytes) {
        /** What was written between {@code before} and this count. */
        public WriteCount since(WriteCount before) {
            return new WriteCount(writes - before.writes, fsyncs - before.fsyncs, bytes - before.bytes);
        }
    }

    private static final java.util.concurrent.atomic.AtomicLong WRITES = new java.util.concurrent.atomic.AtomicLong();
    private static final java.util.concurrent.atomic.AtomicLong BYTES = new java.util.concurrent.atomic.AtomicLong();

    /** Every ledger write of this process so far. */
    public static WriteCount writesSoFar() {
        long w = WRITES.get();
        return new WriteCount(w, 2 * w, BYTES.get());
    }

    private final java.util.concurrent.atomic.AtomicLong ownWrites = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong ownBytes = new java.util.concurrent.atomic.AtomicLong();

    /** The writes of this ledger object so far (what {@link #writesSoFar()} counts for the whole process). */
    public WriteCount writeCount() {
        long w = ownWrites.get();
        return new WriteCount(w, 2 * w, ownBytes.get());
    }

    private Ledger(StateFolder folder, Clock clock, LedgerData data) {
        this.folder = folder;
        this.clock = clock;
        this.data = data;
    }

    /**
     * Opens the ledger of this folder, creating an empty one (not yet written) if there is none.
     *
     * @throws Unreadable    when the file is not a ledger (not JSON, or without its workshop, provider or region)
     * @throws FleetException when it belongs to another workshop or was written by a newer workshop-fleet
     */
    public static Ledger open(StateFolder folder, String workshop, String provider, String region, Clock clock) {
        if (!Files.exists(folder.ledgerFile())) {
            return new Ledger(folder, clock, LedgerData.empty(workshop, provider, region, clock.instant()));
        }
        byte[] bytes;
        LedgerData loaded;
        try {
            bytes = Files.readAllBytes(folder.ledgerFile());
            com.fasterxml.jackson.databind.JsonNode tree = JSON.readTree(bytes);
            // Checked before the fields are read: a newer format may mean something else by them.
            int format = tree == null ? 0 : tree.path("formatVersion").asInt(0);
            if (format > LedgerData.FORMAT_VERSION) {
                throw new BadInput("ledger " + folder.ledgerFile() + " was written by a newer workshop-fleet"
                        + " (format " + format + ", this one reads " + LedgerData.FORMAT_VERSION + "): upgrade"
                        + " workshop-fleet; the ledger was left as it is");
            }
            loaded = tree == null || !tree.isObject() ? null : JSON.treeToValue(tree, LedgerData.class);
        } catch (IOException e) {
            throw new Unreadable(folder, e.getClass().getSimpleName());
        }
        if (loaded == null) {
            throw new Unreadable(folder, "not a JSON object");
        }
        for (String[] field : new String[][] {{"workshop", loaded.workshop()}, {"provider", loaded.provider()},
                {"region", loaded.region()}}) {
            if (field[1] == null || field[1].isBlank()) {
                throw new Unreadable(folder, "no \"" + field[0] + "\"");
            }
        }
        try {
            org.workshopfleet.spec.Provider.parse(loaded.provider());
        } catch (FleetException e) {
            throw new Unreadable(folder, "unknown provider '" + loaded.provider() + "'");
        }
        if (!loaded.workshop().equals(workshop)) {
            throw new BadInput("ledger " + folder.ledgerFile() + " belongs to workshop '" + loaded.workshop()
                    + "': use -Dname=" + loaded.workshop() + " or another state folder");
        }
        Ledger ledger = new Ledger(folder, clock, loaded);
        ledger.lastGood = bytes;
        return ledger;
    }

    /**
     * A ledger file that cannot be read. Every action but teardown stops at it (the facilitator restores the backup);
     * teardown moves it aside ({@link #moveAside}) and finds the resources by tag.
     */
    public static final class Unreadable extends BadInput {
        private static final long serialVersionUID = 1L;

        Unreadable(StateFolder folder, String why) {
            super("ledger " + folder.ledgerFile() + " is unreadable (" + why + "): restore it from "
                    + folder.ledgerBackup().getFileName() + (Files.exists(folder.ledgerBackup()) ? " (there is one beside it)"
                    : " (none was kept)") + ", or run -Daction=teardown, which moves it aside and finds resources by tag");
        }
    }

    /**
     * Renames an unreadable ledger to {@code ledger.json.corrupt-<time>} beside it, so teardown can start a new one
     * without losing the old file; returns the new name.
     */
    public static Path moveAside(StateFolder folder, Clock clock) {
        String stamp = clock.instant().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString().replace(":", "");
        Path target = folder.root().resolve("ledger.json.corrupt-" + stamp);
        try {
            return Files.move(folder.ledgerFile(), target);
        } catch (IOException e) {
            throw new BadInput("cannot move the unreadable ledger " + folder.ledgerFile() + " aside ("
                    + e.getClass().getSimpleName() + "): move or delete it yourself, then re-run -Daction=teardown");
        }
    }

    /** Whether a ledger file exists in this folder. */
    public static boolean exists(StateFolder folder) {
        return Files.exists(folder.ledgerFile());
    }

    /** The ledger file's name, for messages that tell the facilitator which file to edit or move. */
    public String ledgerFileName() {
        return folder.ledgerFile().toString();
    }

    public synchronized LedgerData snapshot() {
        return data;
    }

    @Override
    public void created(CloudResource r) {
        long change;
        synchronized (this) {
            List<ResourceEntry> list = new ArrayList<>(data.resources());
            boolean known = list.stream().anyMatch(e -> e.kind() == r.kind() && e.id().equals(r.id()) && e.deletedAt() == null);
            if (known) {
                return;
            }
            list.add(new ResourceEntry(r.kind(), r.id(), r.name(), r.attendee(), clock.instant(), null));
            change = apply(data.withResources(list).reopened());
        }
        awaitDurable(change);
    }

    @Override
    public void deleted(ResourceKind kind, String id) {
        long change;
        synchronized (this) {
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
            if (!changed) {
                return;
            }
            change = apply(data.withResources(list));
        }
        awaitDurable(change);
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
    public MachineRecord updateMachine(int attendee, String name, UnaryOperator<MachineRecord> change) {
        Applied applied = applyToMachine(attendee, name, change);
        awaitDurable(applied.change());
        return applied.record();
    }

    /**
     * As {@link #updateMachine}, for progress that may lag on disk: returns once the change is applied in memory, and a
     * background write (shared, like every write, with changes made meanwhile) puts it on disk moments later. For the
     * many small progress events of a run (phases, steps): a crash may lose the last of them, which costs nothing,
     * because a re-run resumes from the step markers on the machines, not from the ledger. A background write that
     * fails is not reported here; the next change that waits for the disk writes everything again, or fails.
     */
    public MachineRecord updateMachineSoon(int attendee, String name, UnaryOperator<MachineRecord> change) {
        Applied applied = applyToMachine(attendee, name, change);
        writeSoon();
        return applied.record();
    }

    /** A machine's record after a change, and the change's number. */
    private record Applied(MachineRecord record, long change) {
    }

    private synchronized Applied applyToMachine(int attendee, String name, UnaryOperator<MachineRecord> change) {
        Map<Integer, MachineRecord> machines = new TreeMap<>(data.machines());
        MachineRecord before = machines.getOrDefault(attendee, MachineRecord.planned(attendee, name, clock.instant()));
        MachineRecord after = change.apply(before).touched(clock.instant());
        machines.put(attendee, after);
        return new Applied(after, apply(data.withMachines(machines)));
    }

    public void removeMachine(int attendee) {
        long change;
        synchronized (this) {
            Map<Integer, MachineRecord> machines = new TreeMap<>(data.machines());
            if (machines.remove(attendee) == null) {
                return;
            }
            change = apply(data.withMachines(machines));
        }
        awaitDurable(change);
    }

    /** Stores a free-form setting (cidr, expiry, pinned hashes) that later commands need. */
    public void putSetting(String key, String value) {
        long change;
        synchronized (this) {
            Map<String, String> settings = new TreeMap<>(data.settings());
            if (value.equals(settings.put(key, value))) {
                return;
            }
            change = apply(data.withSettings(settings));
        }
        awaitDurable(change);
    }

    public synchronized String setting(String key) {
        return data.settings().get(key);
    }

    /** Records the baked image the fleet is launched from ({@code null}: the stock image) and saves. */
    public void putImage(BakedImage image) {
        long change;
        synchronized (this) {
            if (java.util.Objects.equals(image, data.image())) {
                return;
            }
            change = apply(data.withImage(image));
        }
        awaitDurable(change);
    }

    /** The baked image the fleet was launched from, or null: the stock image (or a ledger older than the record). */
    public synchronized BakedImage image() {
        return data.image();
    }

    /** Marks the workshop as torn down: nothing of it is live any more. */
    public void close() {
        long change;
        synchronized (this) {
            change = apply(data.closed(clock.instant()));
        }
        awaitDurable(change);
    }

    /** Writes the ledger now (also called implicitly by every change). */
    public void save() {
        long change;
        synchronized (this) {
            change = apply(data);
        }
        awaitDurable(change);
    }

    /** Starts a background write of everything applied so far, unless one is already waiting to start. */
    private void writeSoon() {
        if (!writeQueued.compareAndSet(false, true)) {
            return;
        }
        Thread writer = new Thread(() -> {
            try {
                // Progress comes in bursts from many machines at once; a short wait lets one write carry a burst.
                Thread.sleep(SOON_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            long upTo;
            synchronized (this) {
                // Cleared before reading the version: a change applied after this point queues a write of its own.
                writeQueued.set(false);
                upTo = version;
            }
            try {
                awaitDurable(upTo);
            } catch (RuntimeException e) {
                // Written again by the next change that waits for the disk, which reports a lasting failure.
            }
        }, "ledger-writer");
        writer.setDaemon(true);
        writer.start();
    }

    /** Makes {@code next} the ledger in memory; returns the change's number for {@link #awaitDurable}. */
    private long apply(LedgerData next) {
        data = next;
        return ++version;
    }

    /** Returns once a write that includes change {@code change} is on disk, writing it here if nobody else is. */
    private void awaitDurable(long change) {
        while (true) {
            LedgerData toWrite;
            long upTo;
            synchronized (this) {
                while (writing && durable < change) {
                    try {
                        wait();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new Interrupted("writing the ledger " + folder.ledgerFile());
                    }
                }
                if (durable >= change) {
                    return;
                }
                writing = true;
                toWrite = data;
                upTo = version;
            }
            boolean written = false;
            try {
                write(toWrite);
                written = true;
            } finally {
                synchronized (this) {
                    writing = false;
                    if (written) {
                        durable = Math.max(durable, upTo);
                    }
                    notifyAll();
                }
            }
        }
    }

    private void counted(long bytes) {
        WRITES.incrementAndGet();
        BYTES.addAndGet(bytes);
        ownWrites.incrementAndGet();
        ownBytes.addAndGet(bytes);
    }

    private void write(LedgerData content) {
        folder.ensure();
        if (lastGood != null) {
            // Once per process, not per write: the ledger as the previous command left it (it parsed, so it is
            // good) is the one worth restoring, and one more write per command costs nothing next to group commit.
            StateFolder.writeAtomically(folder.ledgerBackup(), lastGood, true);
            counted(lastGood.length);
            lastGood = null;
        }
        try {
            byte[] bytes = JSON.writeValueAsBytes(content);
            StateFolder.writeAtomically(folder.ledgerFile(), bytes, true);
            counted(bytes.length);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot serialise the ledger", e);
        }
    }
}
