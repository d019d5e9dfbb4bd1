package org.workshopfleet.render;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.stream.Stream;

/** Copies the project's templates/, scripts/ and dashboards/ into a temporary root, so a test can break one. */
final class ProjectCopy {
    private ProjectCopy() {
    }

    static Path of(Path target) throws IOException {
        for (String dir : List.of("templates", "scripts", "dashboards")) {
            Path src = Path.of(dir);
            try (Stream<Path> s = Files.walk(src)) {
                for (Path p : s.toList()) {
                    Path dest = target.resolve(src.relativize(p).toString().isEmpty() ? dir : dir + "/" + src.relativize(p));
                    if (Files.isDirectory(p)) {
                        Files.createDirectories(dest);
                    } else {
                        Files.copy(p, dest, StandardCopyOption.COPY_ATTRIBUTES);
                    }
                }
            }
        }
        return target;
    }
}
