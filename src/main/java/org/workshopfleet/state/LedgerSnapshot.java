package org.workshopfleet.state;

import org.workshopfleet.error.BadInput;
import org.workshopfleet.error.FleetException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;

/**
 * {@code ledger.json} as read: its bytes, its content, and its {@code snapshotId}, which names this write of the file
 * for the journal that extends it ({@link LedgerJournal}); null in files written before journals.
 *
 * @param bytes the file
 * @param data  its content
 * @param id    its {@code snapshotId}, or null
 */
record LedgerSnapshot(byte[] bytes, LedgerData data, String id) {

    /** The field of {@code ledger.json} naming this write of it. */
    static final String SNAPSHOT_ID = "snapshotId";

    /**
     * Reads {@code ledger.json} of {@code folder}.
     *
     * @throws Ledger.Unreadable when it is not a ledger (not JSON, or without its workshop, provider or region)
     * @throws FleetException    when it belongs to another workshop or was written by a newer workshop-fleet
     */
    static LedgerSnapshot read(StateFolder folder, String workshop) {
        byte[] bytes;
        LedgerData loaded;
        com.fasterxml.jackson.databind.JsonNode tree;
        try {
            bytes = Files.readAllBytes(folder.ledgerFile());
            tree = Ledger.JSON.readTree(bytes);
            // Checked before the fields are read: a newer format may mean something else by them.
            int format = tree == null ? 0 : tree.path("formatVersion").asInt(0);
            if (format > LedgerData.FORMAT_VERSION) {
                throw new BadInput("ledger " + folder.ledgerFile() + " was written by a newer workshop-fleet"
                        + " (format " + format + ", this one reads " + LedgerData.FORMAT_VERSION + "): upgrade"
                        + " workshop-fleet; the ledger was left as it is");
            }
            loaded = tree == null || !tree.isObject() ? null : Ledger.JSON.treeToValue(tree, LedgerData.class);
        } catch (IOException e) {
            throw new Ledger.Unreadable(folder, e.getClass().getSimpleName());
        }
        if (loaded == null) {
            throw new Ledger.Unreadable(folder, "not a JSON object");
        }
        for (String[] field : new String[][] {{"workshop", loaded.workshop()}, {"provider", loaded.provider()},
                {"region", loaded.region()}}) {
            if (field[1] == null || field[1].isBlank()) {
                throw new Ledger.Unreadable(folder, "no \"" + field[0] + "\"");
            }
        }
        try {
            org.workshopfleet.spec.Provider.parse(loaded.provider());
        } catch (FleetException e) {
            throw new Ledger.Unreadable(folder, "unknown provider '" + loaded.provider() + "'");
        }
        if (!loaded.workshop().equals(workshop)) {
            throw new BadInput("ledger " + folder.ledgerFile() + " belongs to workshop '" + loaded.workshop()
                    + "': use -Dname=" + loaded.workshop() + " or another state folder");
        }
        return new LedgerSnapshot(bytes, loaded, tree.path(SNAPSHOT_ID).textValue());
    }

    /** {@code content} as {@code ledger.json} holds it, naming the write {@code id} (null: none). */
    static byte[] bytes(LedgerData content, String id) {
        try {
            com.fasterxml.jackson.databind.node.ObjectNode tree = Ledger.JSON.valueToTree(content);
            if (id != null) {
                tree.put(SNAPSHOT_ID, id);
            }
            return Ledger.JSON.writeValueAsBytes(tree);
        } catch (IOException | IllegalArgumentException e) {
            throw new UncheckedIOException("cannot serialise the ledger", e instanceof IOException io ? io
                    : new IOException(e));
        }
    }
}
