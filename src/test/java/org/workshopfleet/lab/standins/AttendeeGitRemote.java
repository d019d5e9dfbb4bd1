package org.workshopfleet.lab.standins;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Stand-in for the attendee sources' git remote ({@code https://github.com/egmc/ebpf_exporter.git}): a bare repository
 * at the same path below the artifact server ({@code /egmc/ebpf_exporter.git}), prepared for git's dumb HTTP protocol
 * ({@code git update-server-info}), so {@code git clone -b ebpf-php-sample http://HOST:PORT/egmc/ebpf_exporter.git}
 * works against the plain static file server.
 *
 * <p>Branch {@code master} holds a README; branch {@code ebpf-php-sample} adds {@code examples/php.bpf.c},
 * {@code examples/php.yaml} and {@code examples/Makefile}, our own PHP USDT example exporting the metrics of
 * DashboardTest's table (not the workshop's original files), and {@code Makefile.libbpf} at the top. As on the real
 * branch, {@code examples/Makefile} includes {@code ../Makefile.libbpf} and its BPF objects depend on
 * {@code $(LIBBPF_DEPS)}, whose rule git-clones libbpf v1.4.2 from GitHub unless it was built beforehand.
 * Commits have fixed authors and dates, so commit ids are stable.
 */
public final class AttendeeGitRemote {

    /** URL path of the bare repository. */
    public static final String PATH = "/egmc/ebpf_exporter.git";
    /** The branch the setup scripts check out. */
    public static final String BRANCH = "ebpf-php-sample";

    private AttendeeGitRemote() {
    }

    /** Builds the bare repository under {@code serveRoot + PATH}, replacing any previous one. */
    public static void build(Path serveRoot, Path scratch) throws IOException {
        Path work = scratch.resolve("attendee-work");
        Tree.delete(work);
        Files.createDirectories(work);
        git(work, "init", "-q", "-b", "master");
        new StandInResource("attendee/README.md").copyTo(work.resolve("README.md"), "rw-r--r--");
        git(work, "add", "README.md");
        git(work, "commit", "-q", "-m", "Stand-in of the ebpf_exporter fork for workshop-fleet lab tests");
        git(work, "checkout", "-q", "-b", BRANCH);
        for (String file : new String[] {"php.bpf.c", "php.yaml", "Makefile"}) {
            new StandInResource("attendee/" + file).copyTo(work.resolve("examples").resolve(file), "rw-r--r--");
        }
        new StandInResource("attendee/Makefile.libbpf").copyTo(work.resolve("Makefile.libbpf"), "rw-r--r--");
        git(work, "add", "examples", "Makefile.libbpf");
        git(work, "commit", "-q", "-m", "examples: PHP USDT and libmemcached uprobe metrics");
        git(work, "checkout", "-q", "master");

        Path bare = serveRoot.resolve(PATH.substring(1));
        Tree.delete(bare);
        Files.createDirectories(bare.getParent());
        git(scratch, "clone", "-q", "--bare", work.toString(), bare.toString());
        git(bare, "repack", "-q", "-a", "-d");
        git(bare, "update-server-info");
        Tree.delete(work);
    }

    private static void git(Path dir, String... args) {
        String[] argv = new String[args.length + 1];
        argv[0] = "git";
        System.arraycopy(args, 0, argv, 1, args.length);
        ExternalCommand.in(dir, argv).withEnvironment(Map.of(
                "GIT_CONFIG_GLOBAL", "/dev/null", "GIT_CONFIG_NOSYSTEM", "1",
                "GIT_AUTHOR_NAME", "workshop-fleet tests", "GIT_AUTHOR_EMAIL", "standins@workshop-fleet.invalid",
                "GIT_COMMITTER_NAME", "workshop-fleet tests", "GIT_COMMITTER_EMAIL", "standins@workshop-fleet.invalid",
                "GIT_AUTHOR_DATE", "2024-06-01T00:00:00Z", "GIT_COMMITTER_DATE", "2024-06-01T00:00:00Z")).run();
    }
}
