package org.workshopfleet.lab.standins;

import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import org.workshopfleet.cloud.lab.LabMachines;
import org.workshopfleet.cloud.lab.LabNetwork;

/**
 * The stand-ins as a mirror for an offline rehearsal on the lab: brings the lab bridge up, serves every download on
 * {@link LabNetwork#HOST_ADDRESS}, writes the {@code -Dsources} file pointing at it, and serves until Ctrl-C (then the
 * bridge goes back unless lab machines still use it). Run as root from the checkout, in a second terminal:
 * <pre>
 * mvn -q test-compile exec:java -Dexec.classpathScope=test \
 *     -Dexec.mainClass=org.workshopfleet.lab.standins.RehearsalMirror -Dexec.args=target/rehearsal
 * mvn -q exec:java -Dprovider=lab -Dcount=2 -Dyes -Dsources=target/rehearsal/sources.properties
 * </pre>
 */
public final class RehearsalMirror {

    /** The lab scope that holds the bridge up while the mirror serves on it. */
    static final String SCOPE = "rehearsal-mirror";

    private RehearsalMirror() {
    }

    /** The mirror while it serves: the lab bridge up, the stand-ins on it, the sources file written. */
    public static final class Serving implements AutoCloseable {
        private final LabMachines network;
        private final StandIns standIns;
        private final Path sourcesFile;

        private Serving(LabMachines network, StandIns standIns, Path sourcesFile) {
            this.network = network;
            this.standIns = standIns;
            this.sourcesFile = sourcesFile;
        }

        /** The {@code -Dsources} file that points a lab fleet at this mirror. */
        public Path sourcesFile() {
            return sourcesFile;
        }

        /** Where the stand-ins answer, on {@link LabNetwork#HOST_ADDRESS}. */
        public URI baseUri() {
            return standIns.baseUri();
        }

        /** Stops serving and takes the bridge down, unless lab machines still use it. */
        @Override
        public void close() {
            try {
                standIns.close();
            } finally {
                network.destroyAll();
            }
        }
    }

    /**
     * Brings the lab bridge up, starts the stand-ins on its host address and writes {@code work/sources.properties};
     * on any failure the bridge goes back before the exception leaves.
     *
     * @param work the work folder: the stand-ins' files (reused between runs) and the sources file
     */
    public static Serving open(Path work) throws IOException {
        LabMachines network = new LabMachines(SCOPE);
        network.ensureNetwork();
        StandIns standIns = null;
        try {
            standIns = StandIns.start(InetAddress.getByName(LabNetwork.HOST_ADDRESS), work);
            return new Serving(network, standIns, standIns.writeSourcesFile(work.resolve("sources.properties")));
        } catch (IOException | RuntimeException e) {
            if (standIns != null) {
                standIns.close();
            }
            network.destroyAll();
            throw e;
        }
    }

    /** @param args the work folder (default {@code target/rehearsal}); the sources file is written inside it */
    public static void main(String[] args) throws IOException, InterruptedException {
        Path work = Path.of(args.length > 0 ? args[0] : "target/rehearsal").toAbsolutePath();
        Serving mirror = open(work);
        Runtime.getRuntime().addShutdownHook(new Thread(mirror::close));
        System.out.println("mirror serving at " + mirror.baseUri() + "; in another terminal:");
        System.out.println("  mvn -q exec:java -Dprovider=lab -Dcount=2 -Dyes -Dsources=" + mirror.sourcesFile());
        System.out.println("Ctrl-C stops the mirror.");
        new CountDownLatch(1).await();
    }
}
