package org.workshopfleet.lab.standins;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * A file under {@code src/test/resources/standins/} that a stand-in installs or serves.
 *
 * @param name path below {@code standins/}, e.g. {@code grafana/grafana}
 */
record StandInResource(String name) {

    byte[] bytes() {
        try (InputStream in = StandInResource.class.getResourceAsStream("/standins/" + name)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource standins/" + name);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Copies the resource to {@code target} (creating parents) with a mode such as {@code rwxr-xr-x}. */
    Path copyTo(Path target, String mode) throws IOException {
        Files.createDirectories(target.getParent());
        Files.write(target, bytes());
        Files.setPosixFilePermissions(target, PosixFilePermissions.fromString(mode));
        return target;
    }
}
