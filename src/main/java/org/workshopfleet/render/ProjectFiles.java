package org.workshopfleet.render;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Finds the folder holding {@code templates/}, {@code scripts/}, {@code dashboards/}, {@code security-groups/} and
 * {@code ami.properties}: {@code -DprojectRoot} if given, else the working directory when it is a checkout, else the copy
 * packaged in the jar under {@value #PACKAGED} (unpacked once per run into a private temporary folder, removed at exit).
 * So {@code java -jar workshop-fleet-all.jar} works from any folder, and a checkout's edited files win over the jar's.
 */
public final class ProjectFiles {

    /** Where the build copies the project files inside the jar (and {@code target/classes}). */
    public static final String PACKAGED = "workshop-fleet-project";

    private static Path unpacked;

    private ProjectFiles() {
    }

    /**
     * @param explicit the {@code -DprojectRoot} value, or {@code null}
     * @return the project folder to read; the working directory when nothing better is found (commands then report
     *         the missing file by name)
     */
    public static Path locate(String explicit) {
        if (explicit != null && !explicit.isBlank()) {
            return Path.of(explicit).toAbsolutePath();
        }
        Path cwd = Path.of("").toAbsolutePath();
        if (isProject(cwd)) {
            return cwd;
        }
        URL marker = ProjectFiles.class.getResource("/" + PACKAGED + "/ami.properties");
        if (marker == null) {
            return cwd;
        }
        try {
            URI uri = marker.toURI();
            if ("file".equals(uri.getScheme())) {
                return Path.of(uri).getParent();
            }
            return unpackOnce(uri);
        } catch (URISyntaxException e) {
            return cwd;
        }
    }

    static boolean isProject(Path dir) {
        return Files.isDirectory(dir.resolve("templates")) && Files.isDirectory(dir.resolve("scripts"))
                && Files.isRegularFile(dir.resolve("ami.properties"));
    }

    static synchronized Path unpackOnce(URI markerInJar) {
        if (unpacked != null) {
            return unpacked;
        }
        try (FileSystem jar = FileSystems.newFileSystem(markerInJar, Map.of())) {
            Path source = jar.getPath("/" + PACKAGED);
            // createTempDirectory makes the folder 0700, so no other user can swap the scripts we push to machines.
            Path target = Files.createTempDirectory("workshop-fleet-project-");
            try (Stream<Path> all = Files.walk(source)) {
                for (Path p : all.toList()) {
                    Path out = target.resolve(source.relativize(p).toString());
                    if (Files.isDirectory(p)) {
                        Files.createDirectories(out);
                    } else {
                        Files.copy(p, out);
                    }
                }
            }
            Runtime.getRuntime().addShutdownHook(new Thread(() -> delete(target), "workshop-fleet-project-cleanup"));
            unpacked = target;
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot unpack the project files packaged in the jar", e);
        }
    }

    private static void delete(Path dir) {
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            // A temporary folder left behind holds no secret; the OS cleans it.
        }
    }
}
