package org.workshopfleet.bake;

import org.workshopfleet.error.FleetException;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.workshopfleet.render.Bundle;
import org.workshopfleet.render.MachineModel;
import org.workshopfleet.spec.OsProfile;
import org.workshopfleet.render.Renderer;
import org.workshopfleet.render.SetupStep;
import org.workshopfleet.spec.Provider;
import org.workshopfleet.spec.SourceLocations;
import org.workshopfleet.spec.WorkshopSpec;
import org.workshopfleet.ssh.SshKeyPair;

class ImageRecipeTest {

    private static final String BASE = "lab:6d0daf8607d3";
    private static final String LOGIN = SshKeyPair.generate("workshop-fleet@a").publicKeyLine();

    private static WorkshopSpec spec(String name, int count) {
        WorkshopSpec d = WorkshopSpec.defaults(count, Provider.LAB);
        return new WorkshopSpec(name, count, Provider.LAB, d.region(), null, null, null, false, null, 8,
                Path.of("workshops"), SourceLocations.defaults());
    }

    /** A machine with its own host key, passwords, name and expiry: everything per machine differs. */
    private static MachineModel machine(WorkshopSpec spec, int n, String login, Instant expires) {
        return new MachineModel(spec, n, spec.machineName(n), OsProfile.DEBIAN_12, SshKeyPair.generate("host@" + n), login,
                "GrafanaPw" + n + "x2345abcd", "SshPw" + n + "x2345abcdefg", expires);
    }

    private static ImageRecipe recipe(Path root, MachineModel m) {
        return ImageRecipe.of(BASE, new Renderer(root).bundle(m));
    }

    @Test
    void everyMachineOfAFleetAndOfLaterWorkshopsHasTheSameRecipe() {
        Path root = Path.of("");
        WorkshopSpec monday = spec("monday", 30);
        WorkshopSpec friday = spec("friday-class", 2);
        ImageRecipe first = recipe(root, machine(monday, 1, LOGIN, Instant.parse("2026-11-26T04:30:00Z")));
        for (MachineModel other : List.of(
                machine(monday, 30, LOGIN, Instant.parse("2026-11-26T04:30:00Z")),
                machine(friday, 2, SshKeyPair.generate("workshop-fleet@b").publicKeyLine(), Instant.parse("2026-12-04T18:00:00Z")))) {
            ImageRecipe r = recipe(root, other);
            assertEquals(first.hash(), r.hash(), other.machineName());
            assertEquals(first.imageSteps(), r.imageSteps(), "image steps' content hashes are machine-independent");
        }
        assertEquals(List.of("01-packages", "02-apache-php", "03-ebpf-exporter", "04-prometheus", "05-grafana",
                "06-attendee", "06-web-terminal"), first.imageSteps().stream().map(SetupStep::name).toList());
        assertTrue(first.hash().matches("[0-9a-f]{64}"), first.hash());
        assertEquals(first.hash().substring(0, 12), first.shortHash());
        // The per-machine steps still differ where the machine does: the password is not baked.
        Bundle a = new Renderer(root).bundle(machine(monday, 1, LOGIN, Instant.parse("2026-11-26T04:30:00Z")));
        Bundle b = new Renderer(root).bundle(machine(monday, 2, LOGIN, Instant.parse("2026-11-26T04:30:00Z")));
        assertNotEquals(step(a, "08-grafana-admin"), step(b, "08-grafana-admin"));
        assertNotEquals(step(a, "07-login"), step(b, "07-login"));
    }

    @Test
    void changingAnyImageInputChangesTheRecipeAndAPerMachineInputDoesNot(@TempDir Path tmp) throws IOException {
        WorkshopSpec spec = spec("monday", 3);
        MachineModel m = machine(spec, 1, LOGIN, Instant.parse("2026-11-26T04:30:00Z"));
        String before = recipe(copy(tmp.resolve("p0")), m).hash();

        assertNotEquals(before, ImageRecipe.of("lab:otherbase", new Renderer(copy(tmp.resolve("p1"))).bundle(m)).hash(),
                "base image");
        for (String file : List.of("scripts/01-packages.sh", "scripts/06-attendee.sh", "templates/prometheus/prometheus.yml.ftl",
                "templates/grafana/datasource.yaml.ftl", "scripts/php/index.html", "scripts/lib.sh", "scripts/seal.sh")) {
            Path root = copy(tmp.resolve("p-" + file.replace('/', '_')));
            Files.writeString(root.resolve(file), "\n# changed\n", StandardOpenOption.APPEND);
            assertNotEquals(before, recipe(root, m).hash(), file);
        }
        MachineModel otherSources = new MachineModel(spec.withSources(SourceLocations.defaults()
                .withEbpfExporterSha256("a".repeat(64))), 1, m.hostname(), m.os(), m.hostKey(), m.loginPublicKey(),
                m.grafanaPassword(), m.sshPassword(), m.expiresAt());
        assertNotEquals(before, recipe(copy(tmp.resolve("p2")), otherSources).hash(), "fleet.env (a source location)");

        for (String file : List.of("templates/login/sshd-login.conf.ftl", "scripts/07-login.sh",
                "scripts/08-grafana-admin.sh", "templates/grafana/workshop-fleet.env.ftl", "templates/machine.env.ftl")) {
            Path root = copy(tmp.resolve("q-" + file.replace('/', '_')));
            Files.writeString(root.resolve(file), "\n# changed\n", StandardOpenOption.APPEND);
            assertEquals(before, recipe(root, m).hash(), file + " is per machine: not baked");
        }
    }

    @Test
    void anImageStepAfterAPerMachineStepIsRefused(@TempDir Path tmp) throws IOException {
        Path root = copy(tmp.resolve("p"));
        Path late = root.resolve("scripts/09-late.sh");
        Files.writeString(late, "#!/usr/bin/env bash\n# inputs:\n# phase: image\nset -euo pipefail\n");
        MachineModel m = machine(spec("monday", 3), 1, LOGIN, Instant.parse("2026-11-26T04:30:00Z"));
        FleetException e = assertThrows(FleetException.class, () -> recipe(root, m));
        assertTrue(e.getMessage().contains("09-late.sh is an image step but comes after the per-machine step 07-login"),
                e.getMessage());
        Files.writeString(late, "#!/usr/bin/env bash\n# inputs:\n# phase: sometimes\nset -euo pipefail\n");
        e = assertThrows(FleetException.class, () -> recipe(root, m));
        assertTrue(e.getMessage().contains("'# phase: sometimes'"), e.getMessage());
    }

    @Test
    void theBuilderRunsOnlyTheImageSteps() {
        Bundle b = new Renderer(Path.of("")).bundle(machine(spec("monday", 3), 1, LOGIN, Instant.now()));
        ImageRecipe r = ImageRecipe.of(BASE, b);
        Bundle builder = r.builderBundle(b);
        assertEquals(r.imageSteps(), builder.steps());
        assertEquals(b.files(), builder.files());
        assertTrue(builder.file(ImageRecipe.SEAL_SCRIPT).isPresent(), "the seal travels in the bundle");
    }

    private static String step(Bundle b, String name) {
        return b.steps().stream().filter(s -> s.name().equals(name)).findFirst().orElseThrow().contentHash();
    }

    private static Path copy(Path target) throws IOException {
        for (String dir : List.of("templates", "scripts", "dashboards")) {
            Path src = Path.of(dir);
            try (Stream<Path> s = Files.walk(src)) {
                for (Path p : s.toList()) {
                    Path dest = target.resolve(dir).resolve(src.relativize(p).toString());
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
