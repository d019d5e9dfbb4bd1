package org.workshopfleet.lab.standins;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.workshopfleet.cloud.lab.HostState;
import org.workshopfleet.cloud.lab.LabNetwork;
import org.workshopfleet.cloud.lab.LabPaths;
import org.workshopfleet.cloud.lab.LabPrerequisites;
import org.workshopfleet.lab.standins.StandIns.Artifact;
import org.workshopfleet.spec.SourceLocations;
import org.workshopfleet.spec.SourcesFile;

/**
 * The offline rehearsal's mirror (README, "Offline rehearsal in the lab"): while it serves, every download of the
 * sources file it writes is on the lab bridge's host address and answers with the bytes its pin names, and the file is
 * one the command line's {@code -Dsources} accepts; closed, it leaves the host as it found it.
 */
class RehearsalMirrorIT {

    /** Kept between runs so the stand-ins' Prometheus tarball is built once. */
    private static final Path WORK = Path.of("target/rehearsal-it");

    @Test
    void servesEveryDownloadOnTheLabBridgeAndLeavesTheHostAsItFoundIt() throws Exception {
        LabPrerequisites.require();
        LabPaths paths = LabPaths.standard();
        HostState before = HostState.capture(paths);
        try (RehearsalMirror.Serving mirror = RehearsalMirror.open(WORK)) {
            SourceLocations read = SourcesFile.load(mirror.sourcesFile());
            for (String url : List.of(read.releaseBase(), read.grafanaAptRepo(), read.grafanaAptKeyUrl(),
                    read.attendeeGitRemote())) {
                assertEquals(LabNetwork.HOST_ADDRESS, URI.create(url).getHost(), url);
            }
            // Followed as curl -L follows GitHub's redirect to its download host; the stand-in's target is on the mirror too.
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10))
                    .followRedirects(HttpClient.Redirect.NORMAL).build();
            HttpResponse<byte[]> exporter = http.send(HttpRequest.newBuilder(
                    URI.create(read.releaseBase() + Artifact.EBPF_EXPORTER.urlPath())).timeout(Duration.ofSeconds(30))
                    .build(), HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(200, exporter.statusCode());
            assertEquals(LabNetwork.HOST_ADDRESS, exporter.uri().getHost(), "served from the mirror after redirects");
            assertEquals(read.ebpfExporterSha256(), Sha256.of(exporter.body()), "the file's pin names what is served");
            assertTrue(HostState.capture(paths).links().contains("wf-br0"), "the lab bridge is up while it serves");
        }
        HostState.assertRestored(before, HostState.capture(paths));
    }
}
