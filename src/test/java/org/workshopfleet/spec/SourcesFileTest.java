package org.workshopfleet.spec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.RecordComponent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.workshopfleet.error.BadInput;

/** The {@code -Dsources} file: each key overrides exactly its component, and every bad value is one fix-it line. */
class SourcesFileTest {

    private static final String SHA_A = "a".repeat(64);

    @TempDir
    Path dir;

    private Path file(String text) throws IOException {
        return Files.writeString(dir.resolve("sources.properties"), text);
    }

    @Test
    void everyComponentOfTheRecordHasAKeyAndNoKeyIsExtra() {
        List<String> components = Arrays.stream(SourceLocations.class.getRecordComponents())
                .map(RecordComponent::getName).toList();
        assertEquals(components.stream().sorted().toList(), SourcesFile.keyNames().stream().sorted().toList());
    }

    @Test
    void aKeyOverridesExactlyItsComponentAndTheOthersKeepTheirDefaults() throws IOException {
        SourceLocations loaded = SourcesFile.load(file("""
                # a mirror at the venue
                releaseBase = http://10.0.0.5:8080/gh
                attendeeGitRemote=file:///srv/git/ebpf_exporter.git
                grafanaKeyFingerprint=b53a e77b adb6 30a6 8304  6005 963f a277 1045 8545
                ebpfExporterSha256=%s
                """.formatted(SHA_A.toUpperCase())));
        SourceLocations d = SourceLocations.defaults();
        assertEquals(new SourceLocations("http://10.0.0.5:8080/gh", d.grafanaAptRepo(), d.grafanaAptKeyUrl(),
                "B53AE77BADB630A683046005963FA27710458545", "file:///srv/git/ebpf_exporter.git", d.attendeeGitBranch(),
                d.ddebsRepo(), SHA_A, d.prometheusSha256(), d.libbpfSha256()), loaded);
    }

    @Test
    void anEmptyFileIsTheDefaults() throws IOException {
        assertEquals(SourceLocations.defaults(), SourcesFile.load(file("# nothing overridden\n")));
    }

    @Test
    void formatReadsBackToTheSameSources() throws IOException {
        SourceLocations all = new SourceLocations("http://h:1", "http://h:1/apt", "http://h:1/apt/key.gpg",
                "0123456789ABCDEF0123456789ABCDEF01234567", "http://h:1/git/x.git", "feature/x", "http://h:1/ddebs",
                SHA_A, "b".repeat(64), "c".repeat(64));
        assertEquals(all, SourcesFile.load(file(SourcesFile.format(all))));
        // The defaults have no exporter checksum: it is written as a comment, and reads back as none.
        String defaults = SourcesFile.format(SourceLocations.defaults());
        assertTrue(defaults.contains("# ebpfExporterSha256="), defaults);
        assertEquals(SourceLocations.defaults(), SourcesFile.load(file(defaults)));
    }

    @Test
    void anUnknownKeySuggestsTheNearestOne() throws IOException {
        BadInput e = assertThrows(BadInput.class, () -> SourcesFile.load(file("relaseBase=http://h/\n")));
        assertTrue(e.getMessage().contains("unknown key 'relaseBase' (did you mean releaseBase?): fix or remove it"),
                e.getMessage());
        BadInput far = assertThrows(BadInput.class, () -> SourcesFile.load(file("mirror=http://h/\n")));
        assertFalse(far.getMessage().contains("did you mean"), far.getMessage());
        assertTrue(far.getMessage().contains("the keys are releaseBase, "), far.getMessage());
    }

    @Test
    void aMissingFileNamesItAndTheKeys() {
        BadInput e = assertThrows(BadInput.class, () -> SourcesFile.load(dir.resolve("nope.properties")));
        assertTrue(e.getMessage().startsWith("-Dsources=" + dir.resolve("nope.properties") + ": no such file"), e.getMessage());
    }

    @Test
    void aFolderIsNotReadable() {
        BadInput e = assertThrows(BadInput.class, () -> SourcesFile.load(dir));
        assertTrue(e.getMessage().contains("cannot be read"), e.getMessage());
    }

    @Test
    void badValuesAreRefusedWithTheirFix() throws IOException {
        String[][] rows = {
            {"releaseBase=ftp://h/", "releaseBase 'ftp://h/' is not an http(s) URL"},
            {"grafanaAptRepo=apt.grafana.com", "grafanaAptRepo 'apt.grafana.com' is not an http(s) URL"},
            {"grafanaAptKeyUrl=file:///k.gpg", "grafanaAptKeyUrl 'file:///k.gpg' is not an http(s) URL"},
            {"ddebsRepo=http://h/a b", "ddebsRepo is not an http(s) URL"},
            {"releaseBase=http:///path", "has no host"},
            {"attendeeGitRemote=git@github.com:egmc/ebpf_exporter.git", "is not an http(s) URL or a file: URL"},
            {"attendeeGitBranch=-x", "attendeeGitBranch '-x' is not a git branch name"},
            {"attendeeGitBranch=a..b", "is not a git branch name"},
            {"prometheusSha256=abc", "prometheusSha256 'abc' is not a SHA-256: 64 hex digits"},
            {"ebpfExporterSha256=" + "g".repeat(64), "is not a SHA-256"},
            {"grafanaKeyFingerprint=B53AE77B", "grafanaKeyFingerprint 'B53AE77B' is not a key fingerprint: its 40 hex digits"},
            {"ddebsRepo=", "ddebsRepo is empty: give an http(s) URL, e.g. https://mirror.example/path, or remove the line"
                    + " to keep the default (http://ddebs.ubuntu.com)"},
            {"prometheusSha256=   ", "prometheusSha256 is empty"},
        };
        for (String[] row : rows) {
            BadInput e = assertThrows(BadInput.class, () -> SourcesFile.load(file(row[0] + "\n")), row[0]);
            assertTrue(e.getMessage().startsWith(dir.resolve("sources.properties") + ": "), e.getMessage());
            assertTrue(e.getMessage().contains(row[1]), row[0] + " -> " + e.getMessage());
        }
    }

    @Test
    void credentialsInAUrlAreRefusedWithoutRepeatingThem() throws IOException {
        for (String url : List.of("https://user:s3cr3t-token@mirror.example/gh", "ftp://user:s3cr3t-token@h/")) {
            BadInput e = assertThrows(BadInput.class, () -> SourcesFile.load(file("releaseBase=" + url + "\n")));
            assertTrue(e.getMessage().contains("carries a user name or password"), e.getMessage());
            assertFalse(e.getMessage().contains("s3cr3t"), e.getMessage());
        }
    }
}
