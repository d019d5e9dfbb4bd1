package org.workshopfleet.command;

import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiFunction;
import org.workshopfleet.cloud.Cloud;
import org.workshopfleet.cloud.LaunchContext;
import org.workshopfleet.cloud.Machine;
import org.workshopfleet.cloud.NodeRequest;
import org.workshopfleet.provision.MachineJob;
import org.workshopfleet.provision.Runner;
import org.workshopfleet.render.Bundle;
import org.workshopfleet.render.MachineModel;
import org.workshopfleet.report.ProgressBoard;
import org.workshopfleet.report.ProgressEvent;
import org.workshopfleet.report.Stage;
import org.workshopfleet.ssh.SshTarget;
import org.workshopfleet.state.Ledger;
import org.workshopfleet.tls.TlsMaterial;

/**
 * {@code up}'s launch step: launches the missing machines, then hands every machine to the provisioning batch as soon
 * as the cloud reports it running with an address; machines that never run are recorded as failed at {@code launch}.
 * Ledger first, always.
 */
final class Launch {

    private final Cloud cloud;
    private final Ledger ledger;
    private final int sshPort;
    private final Duration launchTimeout;
    private final Map<Integer, MachineModel> models;
    private final Map<Integer, Bundle> bundles;
    private final MachineRendering rendering;
    private final BiFunction<Integer, String, TlsMaterial> tls;
    private final ProgressBoard board;
    private final Runner.Batch batch;
    /**
     * Who a machine is comes from our own list: a cloud may answer for an id it lost without name or attendee. Filled
     * from launch threads too (see {@link #launched}), in launch order.
     */
    private final Map<String, Machine> byId = Collections.synchronizedMap(new LinkedHashMap<>());
    private final Set<String> fed = ConcurrentHashMap.newKeySet();

    /**
     * @param bundles   each machine's bundle as rendered before launch, without its TLS files (used when {@code tls}
     *                  is null)
     * @param rendering adds {@code tls}'s material to a machine's bundle once its address is known
     * @param tls       the certificate and key of machine {@code n} at an address (null: bundles as given)
     */
    Launch(Wiring wiring, Cloud cloud, Ledger ledger, Map<Integer, MachineModel> models, Map<Integer, Bundle> bundles,
           MachineRendering rendering, BiFunction<Integer, String, TlsMaterial> tls, ProgressBoard board,
           Runner.Batch batch) {
        this.cloud = cloud;
        this.ledger = ledger;
        this.sshPort = wiring.sshPort();
        this.launchTimeout = wiring.launchTimeout();
        this.models = models;
        this.bundles = bundles;
        this.rendering = rendering;
        this.tls = tls;
        this.board = board;
        this.batch = batch;
    }

    /**
     * Launches {@code requests} from {@code context} and feeds every machine, and the {@code live} ones, to the batch as
     * soon as it runs: a machine is waited for from the moment its own launch returned, not after the fleet's last.
     */
    void run(LaunchContext context, List<NodeRequest> requests, Map<Integer, Machine> live) {
        requests.forEach(r -> board.update(ProgressEvent.stage(r.attendee(), r.name(), Stage.LAUNCHING, null)));
        live.values().forEach(m -> byId.put(m.id(), m));
        List<Machine> states = cloud.launchAndAwait(context, requests, List.copyOf(byId.keySet()), launchTimeout,
                this::launched, this::feed);
        for (Machine m : states) {
            Machine known = byId.get(m.id());
            if (known == null || fed.contains(m.id())) {
                continue;
            }
            if (m.isRunningWithAddress()) {
                feed(m); // running, though the cloud did not report it while waiting
                continue;
            }
            String why = "the cloud reports it " + m.state().name().toLowerCase(Locale.ROOT) + " without an address";
            ledger.updateMachine(known.attendee(), known.name(),
                    r -> (r.cloudId() == null ? r.launched(m.id(), m.instanceType(), m.launchedAt()) : r)
                            .withAddress(m.publicIp()));
            batch.failedBefore(known.attendee(), known.name(), m.publicIp(), "launch", why);
        }
    }

    /** Records a machine whose launch returned; may run on a launch thread, before the machine is waited for. */
    private void launched(Machine m) {
        // The type comes from the launch answer: EC2 may have fallen back to a later -DinstanceType.
        ledger.updateMachine(m.attendee(), m.name(), r -> r.launched(m.id(), m.instanceType(), m.launchedAt()));
        byId.put(m.id(), m);
    }

    /**
     * Hands a running machine to the batch, once, with the bundle rendered before launch; the batch completes it on the
     * machine's own thread ({@link #withTls}). Kept this small because machines reported together (all of a re-run's, at
     * once) are fed in turn by one thread while the first of them already compete for the CPU.
     */
    private void feed(Machine m) {
        Machine known = byId.get(m.id());
        if (known == null || !fed.add(m.id())) {
            return;
        }
        MachineModel model = models.get(known.attendee());
        batch.submit(new MachineJob(known.attendee(), known.name(),
                new SshTarget(m.publicIp(), sshPort, model.hostKey().publicKeyNoComment()),
                model.grafanaPassword(), bundles.get(known.attendee())), job -> withTls(job, known, m, model));
        // Not waited for: machines reported together would otherwise start one fsync'd write apart. The instance is in
        // the ledger since its launch; this adds its address (and, for a machine of an older ledger, the type the
        // cloud describes), which the machine's end writes for sure.
        ledger.updateMachineSoon(known.attendee(), known.name(),
                r -> (r.cloudId() == null ? r.launched(m.id(), m.instanceType(), m.launchedAt())
                        : r.withTypeIfUnknown(m.instanceType())).withAddress(m.publicIp()));
    }

    /**
     * The machine's job with its TLS files: the certificate names the machine's address, known only now, so they are
     * added to the bundle rendered before launch (and the fingerprint recorded). Runs on the machine's provisioning
     * thread.
     */
    private MachineJob withTls(MachineJob job, Machine known, Machine m, MachineModel model) {
        TlsMaterial material = tls == null ? null : tls.apply(known.attendee(), m.publicIp());
        if (material == null) {
            return job;
        }
        ledger.updateMachineSoon(known.attendee(), known.name(), r -> r.withTlsSha256(material.sha256()));
        return job.withBundle(rendering.withTls(job.bundle(), model.withTls(material)));
    }
}
