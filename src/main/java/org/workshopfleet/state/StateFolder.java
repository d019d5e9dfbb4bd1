package org.workshopfleet.state;

import org.workshopfleet.error.BadInput;
import org.workshopfleet.error.FleetException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * A workshop's folder ({@code workshops/<name>/}): the ledger, secrets, logs and handout. The folder and everything
 * secret in it are private to the user (0700 / 0600); files are replaced atomically and fsync'd.
 */
public record StateFolder(Path root) {

    private static final Set<PosixFilePermission> DIR_PRIVATE = PosixFilePermissions.fromString("rwx------");
    private static final Set<PosixFilePermission> FILE_PRIVATE = PosixFilePermissions.fromString("rw-------");

    public Path ledgerFile() {
        return root.resolve("ledger.json");
    }

    /** The changes since {@link #ledgerFile()} was last written whole ({@link LedgerJournal}). */
    public Path ledgerJournal() {
        return root.resolve("ledger.journal");
    }

    /** The last good ledger, kept when a command first replaces it ({@link Ledger}). */
    public Path ledgerBackup() {
        return root.resolve("ledger.json.bak");
    }

    /** The lock a changing command holds ({@link WorkshopLock}). */
    public Path lockFile() {
        return root.resolve("fleet.lock");
    }

    public Path secretsDir() {
        return root.resolve("secrets");
    }

    public Path logsDir() {
        return root.resolve("logs");
    }

    public Path handoutDir() {
        return root.resolve("handout");
    }

    /**
     * Creates the folder (0700) if needed, and a {@code .gitignore} so it is never committed by accident.
     *
     * @throws FleetException when the folder cannot be created or written (a read-only {@code workshops/}, a
     *                        {@code -DstateDir} inside a file): bad input, said before anything is created
     */
    public StateFolder ensure() {
        try {
            makePrivateDir(root);
            Path ignore = root.resolve(".gitignore");
            if (!Files.exists(ignore)) {
                writeAtomically(ignore, "*\n".getBytes(java.nio.charset.StandardCharsets.UTF_8), false);
            }
        } catch (UncheckedIOException e) {
            IOException cause = e.getCause();
            throw new BadInput("cannot write the state folder " + root + " (" + cause.getClass().getSimpleName()
                    + (cause.getMessage() == null ? "" : " " + cause.getMessage())
                    + "): make it (and its parent) a folder writable by you, or choose another -DstateDir");
        }
        return this;
    }

    public static void makePrivateDir(Path dir) {
        try {
            Files.createDirectories(dir);
            Files.setPosixFilePermissions(dir, DIR_PRIVATE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + dir, e);
        }
    }

    /**
     * Replaces {@code target} with {@code content}: write a temporary file beside it, fsync, rename over, fsync the
     * folder. A reader sees the old or the new file, never a half-written one.
     *
     * @param secret true for 0600 (always used for anything holding a key or password)
     */
    public static void writeAtomically(Path target, byte[] content, boolean secret) {
        Path dir = target.toAbsolutePath().getParent();
        try {
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, "." + target.getFileName(), ".tmp",
                    PosixFilePermissions.asFileAttribute(FILE_PRIVATE));
            try {
                try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                    ch.write(java.nio.ByteBuffer.wrap(content));
                    ch.force(true);
                }
                if (!secret) {
                    Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
                }
                try {
                    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
                }
            } finally {
                Files.deleteIfExists(tmp);
            }
            try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
                d.force(true);
            } catch (IOException ignored) {
                // Some file systems cannot fsync a directory; the rename itself is still atomic.
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + target, e);
        }
    }
}
