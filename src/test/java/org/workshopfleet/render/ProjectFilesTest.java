package org.workshopfleet.render;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProjectFilesTest {

    @Test
    void anExplicitRootWinsAndACheckoutIsUsedAsIs(@TempDir Path dir) {
        assertEquals(dir.toAbsolutePath(), ProjectFiles.locate(dir.toString()));
        // Surefire runs in the checkout.
        assertEquals(Path.of("").toAbsolutePath(), ProjectFiles.locate(null));
    }

    @Test
    void theBuildPackagesACompleteProjectBesideTheClasses() throws Exception {
        Path packaged = Path.of(ProjectFiles.class.getResource("/" + ProjectFiles.PACKAGED + "/ami.properties").toURI()).getParent();
        assertTrue(ProjectFiles.isProject(packaged), packaged.toString());
        for (String f : new String[] {"scripts/lib.sh", "security-groups/workshop.json", "dashboards/php-usdt-uprobe.json"}) {
            assertEquals(-1, Files.mismatch(Path.of(f), packaged.resolve(f)), f + " differs from the checkout's");
        }
    }

    @Test
    void aJarsCopyIsUnpackedIntoAPrivateFolder(@TempDir Path dir) throws Exception {
        Path jar = dir.resolve("fleet.jar");
        try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(jar))) {
            for (String[] e : new String[][] {{"templates/fleet.env.ftl", "A=1\n"}, {"scripts/lib.sh", "#!/bin/bash\n"},
                    {"ami.properties", "ap-northeast-1=ami-08f191dd81ec3a3de\n"}}) {
                zip.putNextEntry(new ZipEntry(ProjectFiles.PACKAGED + "/" + e[0]));
                zip.write(e[1].getBytes());
                zip.closeEntry();
            }
        }
        Path root = ProjectFiles.unpackOnce(URI.create("jar:" + jar.toUri() + "!/" + ProjectFiles.PACKAGED + "/ami.properties"));
        assertTrue(ProjectFiles.isProject(root), root.toString());
        assertEquals("A=1\n", Files.readString(root.resolve("templates/fleet.env.ftl")));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(root)));
    }
}
