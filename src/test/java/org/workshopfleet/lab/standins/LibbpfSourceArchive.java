package org.workshopfleet.lab.standins;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;

/**
 * Stand-in for GitHub's source archive of libbpf's tag v1.4.2 ({@code /libbpf/libbpf/archive/refs/tags/v1.4.2.tar.gz}),
 * which scripts/06-attendee.sh builds where the attendee sources' {@code Makefile.libbpf} would git-clone libbpf.
 *
 * <p>It keeps the archive's layout ({@code libbpf-1.4.2/src/Makefile}, headers in {@code src/}, UAPI headers in
 * {@code include/uapi/linux/}) and the {@code install} and {@code install_uapi_headers} targets with libbpf's variables
 * ({@code DESTDIR}, {@code LIBSUBDIR}, ...), but it is not libbpf 1.4.2: it compiles nothing and installs the host's
 * Debian libbpf 1.1 (library from {@code libbpf1}, headers from {@code libbpf-dev}, UAPI headers from
 * {@code linux-libc-dev}) as {@code usr/<LIBSUBDIR>/libbpf.so.1.4.2} and {@code usr/include/{bpf,linux}}. Those
 * headers have {@code bpf/usdt.bpf.h}, all the PHP example needs. The archive is deterministic (fixed owner and mtime,
 * gzip without a timestamp), so its SHA-256 is stable for given host packages.
 */
public final class LibbpfSourceArchive {

    /** URL path of the archive on the artifact server, as on github.com. */
    public static final String ARCHIVE_PATH = "/libbpf/libbpf/archive/refs/tags/v1.4.2.tar.gz";

    static final String TOP_DIRECTORY = "libbpf-1.4.2";
    /** 2024-05-28T00:00:00Z, around the v1.4.2 tag. */
    private static final long TAG_EPOCH = 1_716_854_400L;
    private static final List<String> UAPI_HEADERS = List.of("bpf.h", "bpf_common.h", "btf.h");

    private final Path library;
    private final Path bpfHeaders;
    private final Path linuxHeaders;

    /** Uses the host's Debian packages libbpf1, libbpf-dev and linux-libc-dev. */
    public LibbpfSourceArchive() {
        this(Path.of("/usr/lib/x86_64-linux-gnu/libbpf.so.1"), Path.of("/usr/include/bpf"), Path.of("/usr/include/linux"));
    }

    LibbpfSourceArchive(Path library, Path bpfHeaders, Path linuxHeaders) {
        this.library = library;
        this.bpfHeaders = bpfHeaders;
        this.linuxHeaders = linuxHeaders;
    }

    /**
     * Writes the archive under {@code serveRoot} and returns its SHA-256.
     *
     * @param serveRoot the artifact server's root
     * @param scratch   a directory for staging
     */
    public String build(Path serveRoot, Path scratch) throws IOException {
        Path usdt = bpfHeaders.resolve("usdt.bpf.h");
        for (Path required : List.of(library, usdt, linuxHeaders.resolve("bpf.h"))) {
            if (!Files.isRegularFile(required)) {
                throw new IllegalStateException("libbpf source stand-in needs " + required
                        + ": install the Debian packages libbpf-dev and linux-libc-dev");
            }
        }
        Path stage = scratch.resolve("libbpf-stage");
        Tree.delete(stage);
        Path top = stage.resolve(TOP_DIRECTORY);
        Path src = Files.createDirectories(top.resolve("src"));
        new StandInResource("libbpf/Makefile").copyTo(src.resolve("Makefile"), "rw-r--r--");
        new StandInResource("libbpf/README.md").copyTo(top.resolve("README.md"), "rw-r--r--");
        copy(library, src.resolve("libbpf.so.1.4.2"));
        try (Stream<Path> headers = Files.list(bpfHeaders)) {
            for (Path h : headers.filter(p -> p.getFileName().toString().endsWith(".h")).sorted().toList()) {
                copy(h, src.resolve(h.getFileName().toString()));
            }
        }
        Path uapi = Files.createDirectories(top.resolve("include/uapi/linux"));
        for (String name : UAPI_HEADERS) {
            copy(linuxHeaders.resolve(name), uapi.resolve(name));
        }
        try (Stream<Path> dirs = Files.walk(top)) {
            for (Path d : dirs.filter(Files::isDirectory).toList()) {
                Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxr-xr-x"));
            }
        }

        Path archive = serveRoot.resolve(ARCHIVE_PATH.substring(1));
        Files.createDirectories(archive.getParent());
        Path tar = scratch.resolve("libbpf-1.4.2.tar");
        ExternalCommand.in(stage, "tar", "--sort=name", "--owner=0", "--group=0", "--numeric-owner",
                "--mtime=@" + TAG_EPOCH, "--format=gnu", "-cf", tar.toString(), TOP_DIRECTORY).run();
        Path partial = archive.resolveSibling(archive.getFileName() + ".partial");
        try (InputStream in = Files.newInputStream(tar);
             OutputStream out = new GZIPOutputStream(Files.newOutputStream(partial), 1 << 16) {
                 {
                     def.setLevel(Deflater.BEST_SPEED);
                 }
             }) {
            in.transferTo(out);
        }
        Files.move(partial, archive, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        Files.delete(tar);
        Tree.delete(stage);
        return Sha256.of(archive);
    }

    private static void copy(Path from, Path to) throws IOException {
        Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING);
        Files.setPosixFilePermissions(to, PosixFilePermissions.fromString("rw-r--r--"));
    }
}
