package org.workshopfleet.lab.standins;

import java.io.IOException;
import java.net.InetAddress;
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

    /** @param args the work folder (default {@code target/rehearsal}); the sources file is written inside it */
    public static void main(String[] args) throws IOException, InterruptedException {
        Path work = Path.of(args.length > 0 ? args[0] : "target/rehearsal").toAbsolutePath();
        LabMachines network = new LabMachines(SCOPE);
        network.ensureNetwork();
        StandIns standIns;
        try {
            standIns = StandIns.start(InetAddress.getByName(LabNetwork.HOST_ADDRESS), work);
        } catch (IOException | RuntimeException e) {
            network.destroyAll();
            throw e;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            standIns.close();
            network.destroyAll();
        }));
        Path file = standIns.writeSourcesFile(work.resolve("sources.properties"));
        System.out.println("mirror serving at " + standIns.baseUri() + "; in another terminal:");
        System.out.println("  mvn -q exec:java -Dprovider=lab -Dcount=2 -Dyes -Dsources=" + file);
        System.out.println("Ctrl-C stops the mirror.");
        new CountDownLatch(1).await();
    }
}
