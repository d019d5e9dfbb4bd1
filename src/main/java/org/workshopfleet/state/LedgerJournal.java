package org.workshopfleet.state;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The ledger's journal, {@code ledger.journal} beside {@code ledger.json}: the changes made since that file was last
 * written whole, one JSON line each ({@link LedgerChange}), appended and fsync'd, so that a change costs its own size
 * on disk, not the whole ledger's. The first line names the snapshot the journal extends ({@code {"extends":"<id>"}},
 * the {@code snapshotId} of {@code ledger.json}); a journal naming another snapshot is not that file's (one left by a
 * crash between a compaction's two steps, or one beside a ledger restored from its backup) and is ignored.
 *
 * <p>A crash in the middle of an append leaves a torn last line; reading stops at the first line that is not whole
 * (no newline after it, or not JSON). Nothing is lost by that: a change is promised to its caller only once its
 * append was fsync'd, and nothing is ever appended after a torn line, because a failed append is followed by a
 * compaction, which starts a new journal.
 */
final class LedgerJournal {

    private static final ObjectWriter LINE = Ledger.JSON.writer().without(SerializationFeature.INDENT_OUTPUT);
    private static final ObjectWriter CHANGE_LINE = LINE.forType(LedgerChange.class);
    private static final ObjectReader CHANGE = Ledger.JSON.readerFor(LedgerChange.class)
            .with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private final Path file;

    /**
     * What a journal holds.
     *
     * @param extendsSnapshot the {@code snapshotId} of the {@code ledger.json} these changes follow
     * @param changes         its whole lines, in the order they were made
     */
    record Contents(String extendsSnapshot, List<LedgerChange> changes) {
    }

    LedgerJournal(Path file) {
        this.file = file;
    }

    /**
     * The journal on disk; null when there is none, or when even its first line is not whole.
     *
     * @throws IOException when it cannot be read, or holds a whole line that is not a change this version knows
     */
    Contents read() throws IOException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return null;
        }
        String base = null;
        List<LedgerChange> changes = new ArrayList<>();
        int start = 0;
        for (int end = next(bytes, start); end >= 0; start = end + 1, end = next(bytes, start)) {
            try {
                if (base == null) {
                    JsonNode header = Ledger.JSON.readTree(bytes, start, end - start);
                    base = header == null ? null : header.path("extends").textValue();
                    if (base == null) {
                        return null;
                    }
                } else {
                    changes.add(CHANGE.readValue(bytes, start, end - start));
                }
            } catch (JsonParseException torn) {
                break;
            }
        }
        return base == null ? null : new Contents(base, changes);
    }

    private static int next(byte[] bytes, int from) {
        for (int i = from; i < bytes.length; i++) {
            if (bytes[i] == '\n') {
                return i;
            }
        }
        return -1;
    }

    /**
     * Starts the journal of snapshot {@code snapshotId} with {@code changes}: written whole (temporary file, fsync,
     * rename, folder fsync), so its first line is never torn. Returns the bytes written.
     */
    long start(String snapshotId, List<LedgerChange> changes) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(LINE.writeValueAsBytes(Map.of("extends", snapshotId)));
        out.write('\n');
        out.write(lines(changes));
        byte[] bytes = out.toByteArray();
        StateFolder.writeAtomically(file, bytes, true);
        return bytes.length;
    }

    /**
     * Appends {@code changes} and fsyncs the file (its data and size; its name is already on disk since
     * {@link #start}). Returns the bytes written.
     */
    long append(List<LedgerChange> changes) throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap(lines(changes));
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
            channel.force(false);
        }
        return buffer.capacity();
    }

    /** Removes the journal once {@code ledger.json} holds all of it (a stale one left by a crash is ignored anyway). */
    void delete() throws IOException {
        Files.deleteIfExists(file);
    }

    private static byte[] lines(List<LedgerChange> changes) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (LedgerChange change : changes) {
            out.write(CHANGE_LINE.writeValueAsBytes(change));
            out.write('\n');
        }
        return out.toByteArray();
    }
}
