package org.workshopfleet.lab.standins;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * What the ebpf_exporter stand-in needs to run on a host without PHP: a placeholder {@code php.bpf.o} that names the
 * probe targets as the real object's sections do, and a bpftrace that replays bpftrace's output for one round of the
 * sample pages ({@code ebpf_exporter/recorded-bpftrace} with {@code bpftrace-php.txt}), each round's counts growing.
 */
final class RecordedBpftrace {

    /** The PHP module the placeholder object names: not a real path, so a test sees it came from the object. */
    static final String PHP_LIB = "/opt/recorded/libphp-test.so";

    private final Path dir;

    private RecordedBpftrace(Path dir) {
        this.dir = dir;
    }

    /** Writes the replaying bpftrace into {@code dir}. */
    static RecordedBpftrace install(Path dir) throws IOException {
        Files.createDirectories(dir);
        new StandInResource("ebpf_exporter/recorded-bpftrace").copyTo(dir.resolve("recorded-bpftrace"), "rwxr-xr-x");
        new StandInResource("ebpf_exporter/bpftrace-php.txt").copyTo(dir.resolve("bpftrace-php.txt"), "rw-r--r--");
        return new RecordedBpftrace(dir);
    }

    /** The stand-in's environment that makes it run this bpftrace. */
    Map<String, String> environment() {
        return Map.of("EBPF_EXPORTER_STANDIN_BPFTRACE", dir.resolve("recorded-bpftrace").toString());
    }

    /** The command line the stand-in gave bpftrace, one argument a line (empty before it ran). */
    String arguments() throws IOException {
        Path args = dir.resolve("recorded-bpftrace.args");
        return Files.exists(args) ? Files.readString(args) : "";
    }

    /** A {@code php.bpf.o} in {@code examples} holding the section names of php.bpf.c's probes (nothing loadable). */
    static void writeObject(Path examples) throws IOException {
        Files.createDirectories(examples);
        String sections = "\0usdt/" + PHP_LIB + ":php:request__startup\0usdt/" + PHP_LIB + ":php:request__shutdown\0"
                + "uprobe//usr/lib/x86_64-linux-gnu/libmemcached.so.11:memcached_set\0";
        Files.write(examples.resolve("php.bpf.o"), ("\u007fELF placeholder" + sections).getBytes(StandardCharsets.ISO_8859_1));
    }
}
