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
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.UnaryOperator;
import org.workshopfleet.cloud.CloudResource;
import org.workshopfleet.cloud.ResourceKind;
import org.workshopfleet.cloud.ResourceRecorder;

/**
 * The workshop's state: {@code workshops/<name>/ledger.json} and, beside it, its journal ({@link LedgerJournal}):
 * every resource created, every machine's progress. Every change is on disk (fsync'd) before the method returns (but
 * {@link #updateMachineSoon}'s), so a crash at any point leaves a ledger that names everything that exists.
 * Thread-safe: the runner's threads share one ledger.
 *
 * <p>A change is appended to the journal as one line, so it costs its own size, not the whole ledger's: with the
 * whole file rewritten per change, a fleet of N machines wrote O(N) bytes per change and O(N²) per command. The
 * whole file is written (atomically: temporary file, fsync, rename, folder fsync) at a compaction, which ends the
 * journal: at the first write of a process (which also keeps the backup, see {@link #write}), when the journal has
 * grown past the file's size (so compactions cost, over a command, about what the journal does, whatever N), and at
 * {@link #compact} (the end of every command that holds the workshop's lock) and {@link #close}. Between commands
 * {@code ledger.json} alone is therefore the whole ledger, as it was before journals; after a crash {@link #open}
 * replays the journal, here and in any other process that reads the ledger ({@code status}, a later teardown).
 *
 * <p>Changes from many threads share writes (group commit, as databases do with their log): a change is applied in
 * memory, then its caller waits until a write that includes it has reached the disk, doing that write itself when
 * no other is in progress. Thirty machines report some twenty progress events each; with one fsync'd write per event,
 * serialised, the writes alone held every machine back by seconds on a busy host. A failed write is reported to every
 * caller whose change it carried (each retries once, as its own writer); the change stays in memory and reaches the
 * disk with the next write, which is a compaction (nothing is appended after a line that may be torn).
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

    /**
     * The journal is compacted once it is larger than the file and than this: a small ledger is not rewritten every
     * few changes, and a replay reads at most this much more than the file.
     */
    static final long JOURNAL_FLOOR = 16 * 1024;

    private final StateFolder folder;
    private final Clock clock;
    private final LedgerJournal journal;
    private LedgerData data;
    /**
     * The ledger as this process found it, until it is kept as {@code ledger.json.bak} just before the first write
     * replaces it; then null. Guarded by the writer's turn ({@code writing}).
     */
    private byte[] lastGood;
    /** Changes applied in memory so far; the last one a finished write included. Guarded by {@code this}. */
    private long version;
    private long durable;
    private boolean writing;
    /** Changes applied and not yet taken by a write, in order. Guarded by {@code this}. */
    private final List<LedgerChange> pending = new ArrayList<>();
    /**
     * Whether the next write is a compaction: the first of a process, the one after a failed write, and those
     * {@link #compact}, {@link #close} and {@link #save} ask for. Guarded by {@code this}.
     */
    private boolean compactNext = true;
    /** The bytes of this process's journal (0: none since the last compaction). Guarded by {@code this}. */
    private long journalBytes;
    /** The id and size of {@code ledger.json} as the last compaction wrote it. Guarded by the writer's turn. */
    private String snapshotId;
    private long snapshotBytes;
    /** How long a background write ({@link #updateMachineSoon}) waits before taking what has been applied. */
    private static final long SOON_MILLIS = 100;
    private final java.util.concurrent.atomic.AtomicBoolean writeQueued = new java.util.concurrent.atomic.AtomicBoolean();

    /**
     * Ledger writes of this process so far, their fsyncs and bytes; for benchmarks, which read the difference across a
     * command.
     *
     * @param writes writes: journal appends (one fsync; two for the first, which creates the journal) and whole-file
     *               writes of {@code ledger.json} or its backup (two fsyncs: the file's and its folder's)
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
    private static final java.util.concurrent.atomic.AtomicLong FSYNCS = new java.util.concurrent.atomic.AtomicLong();
    private static final java.util.concurrent.atomic.AtomicLong BYTES = new java.util.concurrent.atomic.AtomicLong();

    /** Every ledger write of this process so far. */
    public static WriteCount writesSoFar() {
        return new WriteCount(WRITES.get(), FSYNCS.get(), BYTES.get());
    }

    private final java.util.concurrent.atomic.AtomicLong ownWrites = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong ownFsyncs = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong ownBytes = new java.util.concurrent.atomic.AtomicLong();

    /** The writes of this ledger object so far (what {@link #writesSoFar()} counts for the whole process). */
    public WriteCount writeCount() {
        return new WriteCount(ownWrites.get(), ownFsyncs.get(), ownBytes.get());
    }

    private Ledger(StateFolder folder, Clock clock, LedgerData data, byte[] lastGood) {
        this.folder = folder;
        this.clock = clock;
        this.data = data;
        this.lastGood = lastGood;
        this.journal = new LedgerJournal(folder.ledgerJournal());
    }

    /**
     * Opens the ledger of this folder, creating an empty one (not yet written) if there is none; replays the journal
     * a crash left beside it.
     *
     * @throws Unreadable    when the file is not a ledger (not JSON, or without its workshop, provider or region), or
     *                       its journal holds a line this version does not know
     * @throws FleetException when it belongs to another workshop or was written by a newer workshop-fleet
     */
    public static Ledger open(StateFolder folder, String workshop, String provider, String region, Clock clock) {
        if (!Files.exists(folder.ledgerFile())) {
            return new Ledger(folder, clock, LedgerData.empty(workshop, provider, region, clock.instant()), null);
        }
        LedgerJournal journal = new LedgerJournal(folder.ledgerJournal());
        for (int attempt = 1; ; attempt++) {
            LedgerSnapshot file = LedgerSnapshot.read(folder, workshop);
            LedgerJournal.Contents since;
            try {
                since = journal.read();
            } catch (IOException e) {
                throw new Unreadable(folder, "its journal " + folder.ledgerJournal().getFileName()
                        + (e instanceof com.fasterxml.jackson.core.JsonProcessingException
                        ? " holds a line this version cannot read: " : " cannot be read: ") + e.getClass().getSimpleName());
            }
            if (since != null && file.id() != null && file.id().equals(since.extendsSnapshot())) {
                LedgerData replayed = file.data();
                for (LedgerChange change : since.changes()) {
                    replayed = change.applyTo(replayed);
                }
                // The backup names no snapshot, so that no journal is ever replayed onto it when it is restored.
                return new Ledger(folder, clock, replayed, since.changes().isEmpty() ? file.bytes()
                        : LedgerSnapshot.bytes(replayed, null));
            }
            // No journal extends this file. Unless a writer compacted between the two reads (replacing the file and
            // removing the journal that extended it), the file alone is the ledger; a journal naming another file is
            // stale, or the file was restored from the backup, whose state wins.
            if (file.id() == null || attempt == 3 || file.id().equals(LedgerSnapshot.read(folder, workshop).id())) {
                return new Ledger(folder, clock, file.data(), file.bytes());
            }
        }
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
     * Renames an unreadable ledger to {@code ledger.json.corrupt-<time>} beside it (and its journal, if any, to
     * {@code ledger.journal.corrupt-<time>}), so teardown can start a new one without losing the old file; returns
     * the new name.
     */
    public static Path moveAside(StateFolder folder, Clock clock) {
        String stamp = clock.instant().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString().replace(":", "");
        Path target = folder.root().resolve("ledger.json.corrupt-" + stamp);
        try {
            Path moved = Files.move(folder.ledgerFile(), target);
            if (Files.exists(folder.ledgerJournal())) {
                Files.move(folder.ledgerJournal(), folder.root().resolve(folder.ledgerJournal().getFileName()
                        + ".corrupt-" + stamp));
            }
            return moved;
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
            change = applyChange(new LedgerChange.Created(
                    new ResourceEntry(r.kind(), r.id(), r.name(), r.attendee(), clock.instant(), null)));
        }
        awaitDurable(change);
    }

    @Override
    public void deleted(ResourceKind kind, String id) {
        long change;
        synchronized (this) {
            change = applyChange(new LedgerChange.Deleted(kind, id, clock.instant()));
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
        MachineRecord before = data.machines().get(attendee);
        if (before == null) {
            before = MachineRecord.planned(attendee, name, clock.instant());
        }
        MachineRecord after = change.apply(before).touched(clock.instant());
        return new Applied(after, applyChange(new LedgerChange.Machine(after)));
    }

    public void removeMachine(int attendee) {
        long change;
        synchronized (this) {
            change = applyChange(new LedgerChange.MachineRemoved(attendee));
        }
        awaitDurable(change);
    }

    /** Stores a free-form setting (cidr, expiry, pinned hashes) that later commands need. */
    public void putSetting(String key, String value) {
        long change;
        synchronized (this) {
            change = applyChange(new LedgerChange.Setting(key, value));
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
            change = applyChange(new LedgerChange.Image(image));
        }
        awaitDurable(change);
    }

    /** The baked image the fleet was launched from, or null: the stock image (or a ledger older than the record). */
    public synchronized BakedImage image() {
        return data.image();
    }

    /** Marks the workshop as torn down: nothing of it is live any more. Written whole ({@link #compact}). */
    public void close() {
        long change;
        synchronized (this) {
            change = applyChange(new LedgerChange.Closed(clock.instant()));
            compactNext = true;
        }
        awaitDurable(change);
    }

    /** Writes the whole ledger to {@code ledger.json} now, ending the journal. */
    public void save() {
        long change;
        synchronized (this) {
            compactNext = true;
            change = ++version;
        }
        awaitDurable(change);
    }

    /**
     * Writes the whole ledger to {@code ledger.json} and removes the journal, if this process changed the ledger since
     * it last did: at the end of a command ({@link WorkshopLock#beforeRelease}), so that between commands the file
     * alone is the ledger, and every version of workshop-fleet reads all of it.
     */
    public void compact() {
        synchronized (this) {
            if (journalBytes == 0 && durable == version) {
                return;
            }
        }
        save();
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

    /**
     * Makes {@code change} in memory and queues it for the next write (the caller holds this object's lock); returns
     * its number for {@link #awaitDurable}, or 0 (already durable) when it changed nothing.
     */
    private long applyChange(LedgerChange change) {
        LedgerData next = change.applyTo(data);
        if (next == data) {
            return 0;
        }
        data = next;
        pending.add(change);
        return ++version;
    }

    /** Returns once a write that includes change {@code change} is on disk, writing it here if nobody else is. */
    private void awaitDurable(long change) {
        while (true) {
            LedgerData toWrite;
            long upTo;
            List<LedgerChange> changes;
            boolean whole;
            synchronized (this) {
                while (writing && durable < change) {
                    try {
                        wait();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new Interrupted("writing the ledger " + folder.ledgerFile(), e);
                    }
                }
                if (durable >= change) {
                    return;
                }
                writing = true;
                toWrite = data;
                upTo = version;
                changes = List.copyOf(pending);
                pending.clear();
                whole = compactNext || journalBytes > Math.max(snapshotBytes, JOURNAL_FLOOR);
                compactNext = false;
            }
            long journalAfter = -1;
            try {
                journalAfter = whole ? write(toWrite) : append(changes);
            } finally {
                synchronized (this) {
                    writing = false;
                    if (journalAfter >= 0) {
                        durable = Math.max(durable, upTo);
                        journalBytes = journalAfter;
                    } else {
                        // The changes taken are in memory only, and the journal may end in a torn line: the next
                        // write is the whole file.
                        compactNext = true;
                    }
                    notifyAll();
                }
            }
        }
    }

    private void counted(long fsyncs, long bytes) {
        WRITES.incrementAndGet();
        FSYNCS.addAndGet(fsyncs);
        BYTES.addAndGet(bytes);
        ownWrites.incrementAndGet();
        ownFsyncs.addAndGet(fsyncs);
        ownBytes.addAndGet(bytes);
    }

    /** Appends {@code changes} to the journal (starting it after a compaction); returns the journal's size. */
    private long append(List<LedgerChange> changes) {
        long before = journalBytes;
        if (changes.isEmpty()) {
            return before;
        }
        try {
            long written = before == 0 ? journal.start(snapshotId, changes) : journal.append(changes);
            counted(before == 0 ? 2 : 1, written);
            return before + written;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot append to the ledger's journal", e);
        }
    }

    /** Compacts: writes {@code content} as the whole {@code ledger.json} and ends the journal; returns 0 (its size). */
    private long write(LedgerData content) {
        folder.ensure();
        if (lastGood != null) {
            // Once per process, not per write: the ledger as the previous command left it (it parsed, so it is
            // good) is the one worth restoring, and one more write per command costs nothing next to group commit.
            StateFolder.writeAtomically(folder.ledgerBackup(), lastGood, true);
            counted(2, lastGood.length);
            lastGood = null;
        }
        String id = java.util.UUID.randomUUID().toString();
        byte[] bytes = LedgerSnapshot.bytes(content, id);
        StateFolder.writeAtomically(folder.ledgerFile(), bytes, true);
        counted(2, bytes.length);
        snapshotId = id;
        snapshotBytes = bytes.length;
        try {
            journal.delete();
        } catch (IOException e) {
            // It extends the file this write replaced, so it is never replayed onto the new one; the next append
            // replaces it.
        }
        return 0;
    }
}
