package org.workshopfleet.state;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import org.workshopfleet.cloud.ResourceKind;

/**
 * One change to the ledger: what {@link Ledger} applies in memory and what {@link LedgerJournal} writes as one line
 * ({@code {"op":"machine",…}}), so a replayed journal goes through the very code the change first went through.
 * Each change says what to set, not what to add to, so replaying one onto a ledger that already has it changes nothing;
 * {@link #applyTo} then returns the very same ledger object.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "op")
@JsonSubTypes({
        @JsonSubTypes.Type(value = LedgerChange.Created.class, name = "created"),
        @JsonSubTypes.Type(value = LedgerChange.Deleted.class, name = "deleted"),
        @JsonSubTypes.Type(value = LedgerChange.Machine.class, name = "machine"),
        @JsonSubTypes.Type(value = LedgerChange.MachineRemoved.class, name = "machineRemoved"),
        @JsonSubTypes.Type(value = LedgerChange.Setting.class, name = "setting"),
        @JsonSubTypes.Type(value = LedgerChange.Image.class, name = "image"),
        @JsonSubTypes.Type(value = LedgerChange.Closed.class, name = "closed")})
sealed interface LedgerChange {

    /** The ledger with this change made. */
    LedgerData applyTo(LedgerData data);

    /** A resource was created (the fleet is open again); nothing when the ledger already records it. */
    record Created(ResourceEntry resource) implements LedgerChange {
        @Override
        public LedgerData applyTo(LedgerData data) {
            boolean known = data.resources().stream().anyMatch(e -> e.kind() == resource.kind()
                    && e.id().equals(resource.id())
                    && (e.deletedAt() == null || Objects.equals(e.createdAt(), resource.createdAt())));
            if (known) {
                return data;
            }
            List<ResourceEntry> list = new ArrayList<>(data.resources());
            list.add(resource);
            return data.withResources(list).reopened();
        }
    }

    /** A resource was deleted at {@code at}: its live entry gets the time. */
    record Deleted(ResourceKind kind, String id, Instant at) implements LedgerChange {
        @Override
        public LedgerData applyTo(LedgerData data) {
            List<ResourceEntry> list = new ArrayList<>();
            boolean changed = false;
            for (ResourceEntry e : data.resources()) {
                boolean match = e.kind() == kind && e.id().equals(id) && e.deletedAt() == null;
                list.add(match ? e.deleted(at) : e);
                changed |= match;
            }
            return changed ? data.withResources(list) : data;
        }
    }

    /** A machine's record is now {@code record} (the whole record: a replay needs no earlier one). */
    record Machine(MachineRecord record) implements LedgerChange {
        @Override
        public LedgerData applyTo(LedgerData data) {
            Map<Integer, MachineRecord> machines = new TreeMap<>(data.machines());
            machines.put(record.attendee(), record);
            return data.withMachines(machines);
        }
    }

    /** Attendee {@code attendee}'s record is gone. */
    record MachineRemoved(int attendee) implements LedgerChange {
        @Override
        public LedgerData applyTo(LedgerData data) {
            if (!data.machines().containsKey(attendee)) {
                return data;
            }
            Map<Integer, MachineRecord> machines = new TreeMap<>(data.machines());
            machines.remove(attendee);
            return data.withMachines(machines);
        }
    }

    /** Setting {@code key} is now {@code value}. */
    record Setting(String key, String value) implements LedgerChange {
        @Override
        public LedgerData applyTo(LedgerData data) {
            if (value.equals(data.settings().get(key))) {
                return data;
            }
            Map<String, String> settings = new TreeMap<>(data.settings());
            settings.put(key, value);
            return data.withSettings(settings);
        }
    }

    /** The fleet's baked image is now {@code image} ({@code null}: the stock image). */
    record Image(BakedImage image) implements LedgerChange {
        @Override
        public LedgerData applyTo(LedgerData data) {
            return Objects.equals(image, data.image()) ? data : data.withImage(image);
        }
    }

    /** The workshop was torn down at {@code at}. */
    record Closed(Instant at) implements LedgerChange {
        @Override
        public LedgerData applyTo(LedgerData data) {
            return data.closed(at);
        }
    }
}
