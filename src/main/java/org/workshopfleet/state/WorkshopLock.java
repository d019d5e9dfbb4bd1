package org.workshopfleet.state;

import org.workshopfleet.error.BadInput;
import org.workshopfleet.error.FleetException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The exclusive hold one command has on a workshop folder while it changes anything there (ledger, secrets, handout,
 * the cloud resources the ledger records): an OS file lock on {@code workshops/<name>/fleet.lock}, which the kernel
 * releases when the holder exits, is killed or crashes, so a lock is never left behind. The holder writes who it is
 * (pid, action, since) into the file, so a second command is refused with a line naming it.
 *
 * <p>Within one JVM (tests run several commands at once) the holds are also kept in a table: the
 * {@link FileChannel} documentation warns that closing any channel of a locked file may release the JVM's lock on
 * it, so a second attempt from the same JVM must not even open the file; it is refused from the table.
 */
public final class WorkshopLock implements AutoCloseable {

    private static final java.nio.file.attribute.FileAttribute<?> PRIVATE =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));
    /** Holds of this JVM, by lock file: who holds it. Guarded by itself. */
    private static final Map<Path, String> HELD = new HashMap<>();

    private final Path file;
    private final FileChannel channel;
    private final FileLock lock;
    /** The folders this lock created (the workshop's, perhaps workshops/), innermost first. */
    private final List<Path> made;
    /** What runs just before the lock is released, in order ({@link #beforeRelease}). Guarded by {@code HELD}. */
    private final List<Runnable> beforeRelease = new ArrayList<>();
    private boolean released;

    private WorkshopLock(Path file, FileChannel channel, FileLock lock, List<Path> made) {
        this.file = file;
        this.channel = channel;
        this.lock = lock;
        this.made = made;
    }

    /**
     * Takes the workshop's lock for {@code action}, creating the folder if needed.
     *
     * @throws FleetException naming the holder when another command holds it, or when the folder cannot be written
     */
    public static WorkshopLock acquire(StateFolder folder, String workshop, String action) {
        Path root = folder.root().toAbsolutePath().normalize();
        List<Path> made = new ArrayList<>();
        for (Path d = root; d != null && !Files.exists(d); d = d.getParent()) {
            made.add(d);
        }
        folder.ensure();
        Path file = folder.lockFile().toAbsolutePath().normalize();
        String me = "pid " + ProcessHandle.current().pid() + " running -Daction=" + action + " since "
                + Instant.now().truncatedTo(ChronoUnit.SECONDS);
        synchronized (HELD) {
            String holder = HELD.get(file);
            if (holder != null) {
                throw busy(workshop, file, holder);
            }
            for (int attempt = 0; ; attempt++) {
                FileChannel channel = null;
                try {
                    channel = FileChannel.open(file, Set.of(StandardOpenOption.CREATE, StandardOpenOption.READ,
                            StandardOpenOption.WRITE), PRIVATE);
                    Object opened = fileKey(file);
                    FileLock lock;
                    try {
                        lock = channel.tryLock();
                    } catch (OverlappingFileLockException e) {
                        lock = null; // held by this JVM through a channel the table does not know: held all the same
                    }
                    if (lock == null) {
                        String other = new String(Files.readAllBytes(file), StandardCharsets.UTF_8).strip();
                        channel.close();
                        throw busy(workshop, file, other.isEmpty() ? "another workshop-fleet command" : other);
                    }
                    if (opened == null || !opened.equals(fileKey(file))) {
                        // A holder removed the file (see close) between our open and our lock: lock the new one.
                        closeQuietly(channel);
                        if (attempt < 3) {
                            continue;
                        }
                        throw busy(workshop, file, "another workshop-fleet command");
                    }
                    channel.truncate(0);
                    channel.write(ByteBuffer.wrap((me + "\n").getBytes(StandardCharsets.UTF_8)), 0);
                    channel.force(false);
                    HELD.put(file, me);
                    return new WorkshopLock(file, channel, lock, made);
                } catch (IOException e) {
                    closeQuietly(channel);
                    throw new BadInput("cannot lock " + file + " (" + e.getClass().getSimpleName() + "): make "
                            + folder.root() + " writable by you, or choose another -DstateDir");
                }
            }
        }
    }

    /** The file's identity (device and inode), or null when it is gone. */
    private static Object fileKey(Path file) {
        try {
            return Files.readAttributes(file, BasicFileAttributes.class).fileKey();
        } catch (IOException e) {
            return null;
        }
    }

    private static FleetException busy(String workshop, Path file, String holder) {
        return new BadInput("workshop " + workshop + " is busy: " + holder + " (lock " + file
                + "); wait until it ends, or stop it, then re-run");
    }

    /**
     * Runs {@code action} when this lock is released, while it is still held (so no other command sees the folder in
     * between): the ledger's compaction at the end of a command ({@link Ledger#compact}). Nothing when the lock has
     * been released already.
     */
    public void beforeRelease(Runnable action) {
        synchronized (HELD) {
            if (!released) {
                beforeRelease.add(action);
            }
        }
    }

    /**
     * Releases the lock (the kernel does the same if the process dies). A command refused before it wrote anything
     * (bad input, a declined confirmation) leaves no trace: the folders this lock created are removed again if they
     * hold nothing but the lock and the {@code .gitignore}.
     */
    @Override
    public void close() {
        List<Runnable> actions;
        synchronized (HELD) {
            if (released) {
                return;
            }
            released = true;
            actions = List.copyOf(beforeRelease);
        }
        // Outside the table's monitor: a compaction's fsyncs must not hold up other workshops' locks.
        for (Runnable action : actions) {
            try {
                action.run();
            } catch (RuntimeException e) {
                // Neither keeps the lock nor hides the command's own outcome: a ledger left with its journal is read
                // whole all the same, and compacted by the next command that writes it.
            }
        }
        synchronized (HELD) {
            try {
                channel.truncate(0);
                removeWhatOnlyTheLockMade();
                lock.release();
            } catch (IOException e) {
                // The channel's close below releases the lock all the same.
            } finally {
                closeQuietly(channel);
                HELD.remove(file);
            }
        }
    }

    /** Deletes the lock file (still locked, so no one can be holding it) and the folders, if nothing else is there. */
    private void removeWhatOnlyTheLockMade() throws IOException {
        if (made.isEmpty()) {
            return;
        }
        Path root = file.getParent();
        try (java.util.stream.Stream<Path> entries = Files.list(root)) {
            if (!entries.allMatch(p -> p.equals(file) || p.getFileName().toString().equals(".gitignore"))) {
                return;
            }
        }
        Files.deleteIfExists(root.resolve(".gitignore"));
        Files.delete(file);
        for (Path d : made) {
            try {
                Files.delete(d);
            } catch (java.nio.file.DirectoryNotEmptyException e) {
                return; // something else lives there now
            }
        }
    }

    private static void closeQuietly(FileChannel channel) {
        if (channel == null) {
            return;
        }
        try {
            channel.close();
        } catch (IOException ignored) {
            // Closing releases the lock whatever the outcome.
        }
    }
}
