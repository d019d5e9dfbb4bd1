package org.workshopfleet.lab.standins;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Stand-in for the cloudflare/ebpf_exporter v2.4.2 release asset {@code ebpf_exporter.x86_64}, at its GitHub download
 * path. The file is a Python script (the lab machines have python3), not the static Go binary: {@code --version}
 * prints the real version line format, and {@code --config.dir=DIR --config.names=php} refuses to start without
 * {@code DIR/php.bpf.o}, then serves on {@code :9435/metrics}, in the Prometheus text format with php.yaml's names,
 * labels and histogram layout, the counts bpftrace takes from the machine's real PHP and libmemcached probes (its
 * docstring says what differs from the real exporter: no BPF object is loaded).
 * The release publishes no checksum for this asset, so none is served; the stand-in's own SHA-256 is the pin.
 */
public final class EbpfExporterRelease {

    /** URL path of the binary, as on github.com. */
    public static final String BINARY_PATH = "/cloudflare/ebpf_exporter/releases/download/v2.4.2/ebpf_exporter.x86_64";

    private EbpfExporterRelease() {
    }

    /** Writes the stand-in under {@code serveRoot} and returns its SHA-256. */
    public static String build(Path serveRoot) throws IOException {
        Path target = serveRoot.resolve(BINARY_PATH.substring(1));
        new StandInResource("ebpf_exporter/ebpf_exporter").copyTo(target, "rwxr-xr-x");
        return Sha256.of(target);
    }
}
