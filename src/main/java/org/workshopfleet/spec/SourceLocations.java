package org.workshopfleet.spec;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Every external location a machine downloads from, with the real locations as defaults. Tests and rehearsals point
 * them at local stand-ins (see the lab's artifact server); they reach the machine as variables in {@code fleet.env}.
 *
 * @param releaseBase       base URL under which {@code prometheus/v3.1.0/...} and {@code ebpf_exporter/v2.4.2/...}
 *                          release files are found (layout of GitHub releases: {@code <base>/<owner>/<repo>/releases/download/<tag>/<file>})
 * @param grafanaAptRepo    Grafana's apt repository URL
 * @param grafanaAptKeyUrl  URL of Grafana's armored signing key
 * @param grafanaKeyFingerprint fingerprint the downloaded key must have before apt trusts it
 * @param attendeeGitRemote git remote of the attendee sources (ebpf_exporter fork with the PHP example)
 * @param attendeeGitBranch branch checked out in {@code ~ubuntu/ebpf_exporter}
 * @param ddebsRepo         Ubuntu's debug-symbol archive (for {@code bpftrace-dbgsym} on jammy)
 * @param ebpfExporterSha256 pinned SHA-256 of {@code ebpf_exporter.x86_64}, or empty when none is known yet
 * @param prometheusSha256  SHA-256 of {@code prometheus-3.1.0.linux-amd64.tar.gz} (the release's published value by
 *                          default; a stand-in artifact server passes the hash of the file it serves)
 * @param libbpfSha256      SHA-256 of libbpf's source archive {@code <releaseBase>/libbpf/libbpf/archive/refs/tags/v1.4.2.tar.gz},
 *                          which provisioning builds so the attendee's first {@code make} needs no network
 *                          ({@link #LIBBPF_1_4_2_SOURCE_SHA256} by default; a stand-in passes the hash of the file it serves)
 */
public record SourceLocations(
        String releaseBase,
        String grafanaAptRepo,
        String grafanaAptKeyUrl,
        String grafanaKeyFingerprint,
        String attendeeGitRemote,
        String attendeeGitBranch,
        String ddebsRepo,
        String ebpfExporterSha256,
        String prometheusSha256,
        String libbpfSha256) {

    /** SHA-256 of prometheus-3.1.0.linux-amd64.tar.gz from the release's sha256sums.txt (docs/machine.md). */
    public static final String PROMETHEUS_3_1_0_AMD64_SHA256 =
            "9a9d1e115d1745826b13aec3f1409780b9fcf1d4206746cb4faee46ca5add70c";

    /**
     * SHA-256 of GitHub's source archive of libbpf's tag v1.4.2, as Homebrew's libbpf formula at 1.4.2 records it for
     * that URL (docs/machine.md: not re-checked against GitHub from here).
     */
    public static final String LIBBPF_1_4_2_SOURCE_SHA256 =
            "3b473b5647f5ac303f0f439448227c6ee155574b475942c839f4463e8f51ae3f";

    public static SourceLocations defaults() {
        return new SourceLocations(
                "https://github.com",
                "https://apt.grafana.com",
                "https://apt.grafana.com/gpg-full.key",
                "B53AE77BADB630A683046005963FA27710458545",
                "https://github.com/egmc/ebpf_exporter.git",
                "ebpf-php-sample",
                "http://ddebs.ubuntu.com",
                "",
                PROMETHEUS_3_1_0_AMD64_SHA256,
                LIBBPF_1_4_2_SOURCE_SHA256);
    }

    /** Shell variable assignments, in a stable order, for {@code fleet.env}. */
    public Map<String, String> asEnvironment() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("RELEASE_BASE", releaseBase);
        env.put("GRAFANA_APT_REPO", grafanaAptRepo);
        env.put("GRAFANA_APT_KEY_URL", grafanaAptKeyUrl);
        env.put("GRAFANA_KEY_FINGERPRINT", grafanaKeyFingerprint);
        env.put("ATTENDEE_GIT_REMOTE", attendeeGitRemote);
        env.put("ATTENDEE_GIT_BRANCH", attendeeGitBranch);
        env.put("DDEBS_REPO", ddebsRepo);
        env.put("EBPF_EXPORTER_SHA256", ebpfExporterSha256);
        env.put("PROMETHEUS_SHA256", prometheusSha256);
        env.put("LIBBPF_SHA256", libbpfSha256);
        return env;
    }

    public SourceLocations withEbpfExporterSha256(String sha256) {
        return new SourceLocations(releaseBase, grafanaAptRepo, grafanaAptKeyUrl, grafanaKeyFingerprint,
                attendeeGitRemote, attendeeGitBranch, ddebsRepo, sha256, prometheusSha256, libbpfSha256);
    }

    /** The same locations with another pin for libbpf's source archive (e.g. the hash of a stand-in's archive). */
    public SourceLocations withLibbpfSha256(String sha256) {
        return new SourceLocations(releaseBase, grafanaAptRepo, grafanaAptKeyUrl, grafanaKeyFingerprint,
                attendeeGitRemote, attendeeGitBranch, ddebsRepo, ebpfExporterSha256, prometheusSha256, sha256);
    }
}
