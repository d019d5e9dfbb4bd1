package org.workshopfleet;

import org.workshopfleet.command.Providers;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Outside the cloud packages, only the registry ({@link Providers}) and the command-line parser (Options, and the
 * {@code Provider} enum with its parse) may name a provider: everything else asks its {@code ProviderProfile}.
 */
class ProviderSwitchesTest {

    private static final Path MAIN = Path.of("src/main/java/org/workshopfleet");
    /** A provider constant used as a value, a case label, or imported statically. */
    private static final Pattern NAMES_A_PROVIDER = Pattern.compile(
            "\\bProvider\\.(EC2|LIGHTSAIL|LAB)\\b|\\bcase\\s+(EC2|LIGHTSAIL|LAB)\\b|import\\s+static\\s+[\\w.]*\\.Provider\\.");
    private static final Set<Path> ALLOWED = Set.of(MAIN.resolve("command/Providers.java"), MAIN.resolve("cli/Options.java"),
            MAIN.resolve("spec/Provider.java"));

    @Test
    void noClassOutsideTheCloudPackagesSwitchesOnTheProvider() throws IOException {
        List<String> found = new ArrayList<>();
        try (Stream<Path> files = Files.walk(MAIN)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).sorted().toList()) {
                if (f.startsWith(MAIN.resolve("cloud")) || ALLOWED.contains(f)) {
                    continue;
                }
                List<String> lines = Files.readAllLines(f);
                for (int i = 0; i < lines.size(); i++) {
                    if (NAMES_A_PROVIDER.matcher(lines.get(i)).find()) {
                        found.add(MAIN.relativize(f) + ":" + (i + 1) + ": " + lines.get(i).strip());
                    }
                }
            }
        }
        assertEquals(List.of(), found, "ask the ProviderProfile instead");
    }

    @Test
    void thePatternFindsWhatItLooksFor() throws IOException {
        for (String line : List.of("if (spec.provider() == Provider.LAB) {", "case LIGHTSAIL -> x;",
                "import static org.workshopfleet.spec.Provider.EC2;", "return p != Provider.EC2;")) {
            assertTrue(NAMES_A_PROVIDER.matcher(line).find(), line);
        }
        for (String line : List.of("ProviderProfile p = profile();", "Provider.parse(text)", "case LABEL -> x;",
                "ProviderX.LAB")) {
            Matcher m = NAMES_A_PROVIDER.matcher(line);
            assertTrue(!m.find(), line);
        }
        assertTrue(NAMES_A_PROVIDER.matcher(Files.readString(MAIN.resolve("cloud/ec2/Ec2Profile.java"))).find(),
                "the profiles name their provider, so the scan reads real sources");
    }
}
