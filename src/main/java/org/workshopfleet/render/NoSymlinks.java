package org.workshopfleet.render;

import org.workshopfleet.error.BadInput;
import org.workshopfleet.error.FleetException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Refuses symbolic links in the project folders whose files go to the machines ({@code templates/}, {@code scripts/},
 * {@code dashboards/}). A link is followed when read, so {@code scripts/php/x -> ~/.aws/credentials} would put the
 * facilitator's credentials into every bundle, where Apache serves {@code php/} to anyone; the project ships none.
 */
public final class NoSymlinks {

    /** The folders the bundle and the dashboard import read from the project. */
    public static final List<String> SHIPPED = List.of("templates", "scripts", "dashboards");

    private NoSymlinks() {
    }

    /**
     * @param root    the project folder
     * @param folders folders under {@code root} to check, with everything below them (missing ones are skipped)
     * @throws FleetException naming the first link found, before anything reads through it
     */
    public static void refuse(Path root, List<String> folders) {
        for (String folder : folders) {
            Path dir = root.resolve(folder);
            if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                continue;
            }
            // Files.walk does not follow links, so a linked folder is reported itself rather than walked into.
            try (Stream<Path> all = Files.walk(dir)) {
                Optional<Path> link = all.filter(Files::isSymbolicLink).sorted().findFirst();
                if (link.isPresent()) {
                    throw refusal(root, link.get());
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    private static FleetException refusal(Path root, Path link) {
        String target;
        try {
            target = " (to " + Files.readSymbolicLink(link) + ")";
        } catch (IOException e) {
            target = "";
        }
        return new BadInput(root.relativize(link).toString().replace('\\', '/') + " is a symbolic link" + target
                + ": machines get only regular files from the project; replace the link with the file itself or remove it");
    }
}
