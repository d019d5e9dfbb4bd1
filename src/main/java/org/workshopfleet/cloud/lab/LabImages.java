package org.workshopfleet.cloud.lab;

import org.workshopfleet.error.BadInput;
import org.workshopfleet.error.CloudFailure;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.workshopfleet.cloud.MachineImage;

/**
 * Baked lab images: the overlay upper layer of a sealed builder machine, kept in
 * {@code <cache>/images/<recipe hash>/layer} with {@code image.properties} (recipe hash, name, creation time, base
 * image). A machine launched from one mounts the layer read-only as a lower layer above the {@link BaseImage}, so it
 * starts with everything the builder installed. The lab's equivalent of an AMI: shared by every workshop (no scope),
 * never removed by a teardown, only by {@link #remove}.
 */
public final class LabImages {

    private static final Pattern HASH = Pattern.compile("[0-9a-f]{64}");
    private static final String META = "image.properties";

    private final LabPaths paths;

    public LabImages(LabPaths paths) {
        this.paths = paths;
    }

    /** The layer to mount for this image id, or a one-line error when there is no such image. */
    public Path layer(String imageId) {
        return find(imageId).map(i -> dir(i.recipeHash()).resolve("layer")).orElseThrow(() -> new CloudFailure(
                "lab: no baked image " + imageId + " in " + root() + ": bake it again (-Dimage=bake)"));
    }

    /** The image baked for this recipe, if complete (its metadata is written last). */
    public Optional<MachineImage> find(String recipeHash) {
        if (recipeHash == null || !HASH.matcher(recipeHash).matches()) {
            return Optional.empty();
        }
        Path meta = dir(recipeHash).resolve(META);
        if (!Files.isRegularFile(meta)) {
            return Optional.empty();
        }
        Properties p = new Properties();
        try (var in = Files.newInputStream(meta)) {
            p.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Optional.of(new MachineImage(recipeHash, p.getProperty("name"), recipeHash,
                Instant.parse(p.getProperty("createdAt"))));
    }

    /** Every complete image, oldest first. */
    public List<MachineImage> list() {
        if (!Files.isDirectory(root())) {
            return List.of();
        }
        List<MachineImage> out = new ArrayList<>();
        try (Stream<Path> dirs = Files.list(root())) {
            for (Path d : dirs.sorted().toList()) {
                find(d.getFileName().toString()).ifPresent(out::add);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        out.sort(Comparator.comparing(MachineImage::createdAt));
        return out;
    }

    /**
     * Makes {@code layer} (a sealed machine's upper layer, moved out of its machine folder) the image of this recipe.
     * When another process finished the same recipe first, its image is kept and {@code layer} deleted.
     */
    MachineImage adopt(String recipeHash, Path layer, String baseImage) {
        requireHash(recipeHash);
        Path dir = dir(recipeHash);
        try (HostLock ignored = HostLock.acquire(paths.lockFile())) {
            Optional<MachineImage> done = find(recipeHash);
            if (done.isPresent()) {
                HostCommand.check("rm", "-rf", "--one-file-system", layer.toString());
                return done.get();
            }
            if (Files.exists(dir)) {
                HostCommand.check("rm", "-rf", "--one-file-system", dir.toString()); // an unfinished earlier attempt
            }
            Files.createDirectories(dir);
            Files.move(layer, dir.resolve("layer"));
            Properties p = new Properties();
            Instant now = Instant.now();
            p.setProperty("recipeHash", recipeHash);
            p.setProperty("name", "workshop-fleet-" + recipeHash.substring(0, 12));
            p.setProperty("createdAt", now.toString());
            p.setProperty("baseImage", baseImage);
            Path tmp = dir.resolve(META + ".tmp");
            try (var out = Files.newOutputStream(tmp)) {
                p.store(out, "workshop-fleet lab image");
            }
            Files.move(tmp, dir.resolve(META), StandardCopyOption.ATOMIC_MOVE);
            return find(recipeHash).orElseThrow();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A staging folder on the cache's file system, where a builder's layer is moved before it becomes an image. */
    Path staging(String recipeHash) {
        requireHash(recipeHash);
        Path d = root().resolve(".staging-" + recipeHash.substring(0, 12) + "-" + ProcessHandle.current().pid());
        try {
            Files.createDirectories(d);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return d;
    }

    /**
     * Deletes the image. Refused while any lab machine (of any workshop) was launched from it: its file system would
     * lose a layer underneath it.
     */
    public void remove(MachineImage image) {
        requireHash(image.recipeHash());
        try (HostLock ignored = HostLock.acquire(paths.lockFile())) {
            List<String> users = LabMachineRecord.readAll(paths.recordsDir()).stream()
                    .filter(r -> image.id().equals(r.image())).map(LabMachineRecord::name).toList();
            if (!users.isEmpty()) {
                throw new BadInput("lab: image " + image.name() + " is in use by " + String.join(", ", users)
                        + ": tear those machines down first");
            }
            Path dir = dir(image.recipeHash());
            if (Files.exists(dir)) {
                // Metadata first: a half-deleted image is never found as complete.
                Files.deleteIfExists(dir.resolve(META));
                HostCommand.check("rm", "-rf", "--one-file-system", dir.toString());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Path root() {
        return paths.cacheDir().resolve("images");
    }

    private Path dir(String recipeHash) {
        return root().resolve(recipeHash);
    }

    private static void requireHash(String h) {
        if (h == null || !HASH.matcher(h).matches()) {
            throw new BadInput("lab: '" + h + "' is not an image recipe hash (64 lower-case hex digits)");
        }
    }
}
