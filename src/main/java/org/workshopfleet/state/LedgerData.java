package org.workshopfleet.state;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * The ledger's content, as written to {@code ledger.json}.
 *
 * <p><b>Format compatibility.</b> {@code formatVersion} is 1 and stays 1 while changes are additive: fields are only
 * added, never renamed or given another meaning. A reader ignores fields it does not know (an older tool reading a newer
 * ledger) and reads a missing field as absent ({@code null} or empty: a newer tool reading an older ledger). Fields
 * added since the first ledgers:
 * <ul>
 *   <li>{@code machines.<n>.instanceType}: the EC2 instance type or Lightsail bundle the machine was launched with
 *       ({@link MachineRecord#instanceType()}), taken from the cloud's launch answer, because EC2 falls back to other
 *       types when capacity is short and a fleet can be mixed. Absent in older ledgers: spend and estimates then price
 *       such a machine as the spec's first type and say that they assumed so; the next {@code up} fills the type in
 *       from the cloud's description of the running machine. (An older tool rewriting a newer ledger drops the field
 *       the same way, and it is filled in the same way.)</li>
 *   <li>{@code machines.<n>.seat}: the seat machine {@code n} serves, {@code 0} for a spare
 *       ({@link MachineRecord#seat()}). Absent in older ledgers, where each machine serves the seat of its own number,
 *       which is how a missing seat is read. An older tool rewriting a newer ledger drops it, and so reads a spare and
 *       a moved seat as the machine's own number: re-run {@code up} with this version before that happens.</li>
 *   <li>{@code settings.spares}: how many spares {@code up} was given, which {@code replace} makes up again.</li>
 *   <li>{@code image}: the baked image {@code up -Dimage=bake} launched the fleet from ({@link BakedImage}: its id and
 *       recipe hash), which {@code replace} and {@code up}'s heal launch new machines from. Absent in older ledgers and
 *       for a fleet launched from the stock image: new machines then come from the stock image, as before. Dropped at
 *       teardown.</li>
 *   <li>{@code snapshotId} (in the file, not in this record): names this write of {@code ledger.json} for the journal
 *       {@code ledger.journal} beside it, whose changes since that write {@link Ledger#open} replays after a crash
 *       (see {@link Ledger}). Absent in older ledgers, which no journal extends. Every command that changes the ledger
 *       ends by writing it whole, so an older tool reads everything but the changes of a command that crashed; it
 *       rewrites the file without the field, and the journal, naming another write, is then ignored.</li>
 * </ul>
 *
 * @param formatVersion file format version
 * @param workshop      workshop name
 * @param provider      provider id
 * @param region        region
 * @param createdAt     when the ledger was first written
 * @param closedAt      when teardown finished, or null while the fleet may exist
 * @param resources     every resource created, with its deletion time once deleted
 * @param machines      per attendee: progress and result
 * @param settings      values later commands need (current cidr, expiry, pinned hashes)
 * @param image         the baked image the fleet was launched from, or null (the stock image)
 */
public record LedgerData(int formatVersion, String workshop, String provider, String region, Instant createdAt,
                         Instant closedAt, List<ResourceEntry> resources, Map<Integer, MachineRecord> machines,
                         Map<String, String> settings, BakedImage image) {

    /** The format this program writes and the newest it reads; a newer ledger is refused, never rewritten. */
    public static final int FORMAT_VERSION = 1;

    public LedgerData {
        resources = resources == null ? List.of() : List.copyOf(resources);
        machines = machines == null ? Map.of() : Map.copyOf(machines);
        settings = settings == null ? Map.of() : Map.copyOf(settings);
    }

    /** A ledger of a fleet launched from the stock image (no {@link #image()}). */
    public LedgerData(int formatVersion, String workshop, String provider, String region, Instant createdAt,
                      Instant closedAt, List<ResourceEntry> resources, Map<Integer, MachineRecord> machines,
                      Map<String, String> settings) {
        this(formatVersion, workshop, provider, region, createdAt, closedAt, resources, machines, settings, null);
    }

    static LedgerData empty(String workshop, String provider, String region, Instant now) {
        return new LedgerData(FORMAT_VERSION, workshop, provider, region, now, null, List.of(), Map.of(), Map.of());
    }

    LedgerData withResources(List<ResourceEntry> r) {
        return new LedgerData(formatVersion, workshop, provider, region, createdAt, closedAt, r, machines, settings, image);
    }

    LedgerData withMachines(Map<Integer, MachineRecord> m) {
        return new LedgerData(formatVersion, workshop, provider, region, createdAt, closedAt, resources, m, settings, image);
    }

    LedgerData withSettings(Map<String, String> s) {
        return new LedgerData(formatVersion, workshop, provider, region, createdAt, closedAt, resources, machines, s, image);
    }

    LedgerData withImage(BakedImage i) {
        return new LedgerData(formatVersion, workshop, provider, region, createdAt, closedAt, resources, machines, settings, i);
    }

    LedgerData closed(Instant at) {
        // The image stays on the cloud (teardown never removes one), but no machine of this ledger comes from it now.
        return new LedgerData(formatVersion, workshop, provider, region, createdAt, at, resources, Map.of(), settings,
                null);
    }

    LedgerData reopened() {
        return closedAt == null ? this
                : new LedgerData(formatVersion, workshop, provider, region, createdAt, null, resources, machines, settings,
                        image);
    }

    /**
     * Whether this ledger says where a fleet lives: not closed, and recording a live resource or a machine. Every
     * action then works on its provider and region, whatever the defaults are.
     */
    public boolean placesFleet() {
        return !isClosed() && (resources.stream().anyMatch(r -> r.deletedAt() == null) || !machines.isEmpty());
    }

    /** True when nothing recorded is still live. */
    public boolean isClosed() {
        return closedAt != null;
    }
}
