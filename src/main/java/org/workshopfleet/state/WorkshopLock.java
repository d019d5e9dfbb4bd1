package org.workshopfleet.state;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.Map;
import org.workshopfleet.FleetException;

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

    /** Holds of this JVM, by lock file: who holds it. Guarded by itself. */
    private static final Map<Path, String> HELD = new HashMap<>();

    private final Path file;
    private final FileChannel channel;
    private final FileLock lock;

    private WorkshopLock(Path file, FileChannel channel, FileLock lock) {
        this.file = file;
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Takes the workshop's lock for {@code action}, creating the folder if needed.
     *
     * @throws FleetException naming the holder when another command holds it, or when the folder cannot be written
     */
    public static WorkshopLock acquire(StateFolder folder, String workshop, String action) {
        folder.ensure();
        Path file = folder.lockFile().toAbsolutePath().normalize();
        String me = "pid " + ProcessHandle.current().pid() + " running -Daction=" + action + " since "
                + Instant.now().truncatedTo(ChronoUnit.SECONDS);
        synchronized (HELD) {
            String holder = HELD.get(file);
            if (holder != null) {
                throw busy(workshop, file, holder);
            }
            FileChannel channel = null;
            try {
                channel = FileChannel.open(file, java.util.Set.of(StandardOpenOption.CREATE, StandardOpenOption.READ,
                        StandardOpenOption.WRITE), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
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
                channel.truncate(0);
                channel.write(ByteBuffer.wrap((me + "\n").getBytes(StandardCharsets.UTF_8)), 0);
                channel.force(false);
                HELD.put(file, me);
                return new WorkshopLock(file, channel, lock);
            } catch (IOException e) {
                closeQuietly(channel);
                throw new FleetException("cannot lock " + file + " (" + e.getClass().getSimpleName() + "): make "
                        + folder.root() + " writable by you, or choose another -DstateDir");
            }
        }
    }

    private static FleetException busy(String workshop, Path file, String holder) {
        return new FleetException("workshop " + workshop + " is busy: " + holder + " (lock " + file
                + "); wait until it ends, or stop it, then re-run");
    }

    /** Releases the lock (the kernel does the same if the process dies). */
    @Override
    public void close() {
        synchronized (HELD) {
            try {
                channel.truncate(0);
                lock.release();
            } catch (IOException e) {
                // The channel's close below releases the lock all the same.
            } finally {
                closeQuietly(channel);
                HELD.remove(file);
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
