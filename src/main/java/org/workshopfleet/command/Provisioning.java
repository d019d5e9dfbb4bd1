package org.workshopfleet.command;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.UnaryOperator;
import org.workshopfleet.cloud.Cloud;
import org.workshopfleet.cloud.LaunchContext;
import org.workshopfleet.cloud.Machine;
import org.workshopfleet.cloud.NodeRequest;
import org.workshopfleet.provision.MachineResult;
import org.workshopfleet.provision.Pipeline;
import org.workshopfleet.provision.ProvisionListener;
import org.workshopfleet.provision.Runner;
import org.workshopfleet.render.Bundle;
import org.workshopfleet.render.MachineModel;
import org.workshopfleet.report.FleetSpend;
import org.workshopfleet.report.PriceTable;
import org.workshopfleet.report.ProgressBoard;
import org.workshopfleet.report.ProvisionBoard;
import org.workshopfleet.spec.WorkshopSpec;
import org.workshopfleet.ssh.SshLogin;
import org.workshopfleet.state.Ledger;
import org.workshopfleet.state.MachineRecord;

/**
 * Launch → wait → provision of a set of machines (numbered, each with its seat or as a spare), overlapped: each machine
 * is handed to the runner as soon as the cloud reports it running with an address, so the first machines are
 * provisioned while the others still boot. Machines the cloud already runs are provisioned (resumed), not launched.
 * Each new machine's record, with its seat, is in the ledger before its launch call.
 */
final class Provisioning {

    /** Every machine to provision, rendered. */
    record Rendered(Map<Integer, MachineModel> models, Map<Integer, String> userData, Map<Integer, Bundle> bundles) {
    }

    /** The machines' results, in number order, and whether Ctrl-C stopped the run. */
    record Outcome(List<MachineResult> results, boolean interrupted) {
    }

    private final WorkshopContext ctx;
    private final FleetRun run;
    private final Cloud cloud;

    Provisioning(WorkshopContext ctx, FleetRun run, Cloud cloud) {
        this.ctx = ctx;
        this.run = run;
        this.cloud = cloud;
    }

    /** Renders these machine numbers (before any cloud call: a broken template is bad input, refused up front). */
    Rendered render(Iterable<Integer> numbers) {
        Map<Integer, MachineModel> models = new TreeMap<>();
        Map<Integer, String> userData = new TreeMap<>();
        Map<Integer, Bundle> bundles = new TreeMap<>();
        for (int n : numbers) {
            MachineModel model = run.model(ctx, n);
            models.put(n, model);
            userData.put(n, run.renderer().userData(model, cloud.profile().userDataFormat()));
            bundles.put(n, run.renderer().bundle(model));
        }
        return new Rendered(models, userData, bundles);
    }

    /**
     * Brings {@code machines} (number → seat) to ready: launches those the cloud does not run, provisions all of them.
     *
     * @param title the progress board's title
     */
    Outcome run(LaunchContext context, Map<Integer, Integer> machines, Rendered rendered, String title) {
        return run(context, UnaryOperator.identity(), machines, rendered, title);
    }

    /**
     * As {@link #run(LaunchContext, Map, Rendered, String)}, the machines it launches launching from {@code
     * forNewMachines} applied to {@code context} (asked only when there is one to launch, so a fully running fleet
     * prints nothing about images).
     */
    Outcome run(LaunchContext context, UnaryOperator<LaunchContext> forNewMachines, Map<Integer, Integer> machines,
                Rendered rendered, String title) {
        WorkshopSpec spec = ctx.spec();
        Ledger ledger = run.ledger();
        Map<Integer, Machine> live = new TreeMap<>();
        for (Machine m : cloud.listNodes()) {
            if (machines.containsKey(m.attendee()) && !m.state().isGone()) {
                live.put(m.attendee(), m);
            }
        }
        List<NodeRequest> requests = new ArrayList<>();
        for (Map.Entry<Integer, Integer> e : machines.entrySet()) {
            int n = e.getKey();
            int seat = e.getValue();
            MachineRecord known = ledger.snapshot().machines().get(n);
            if (known == null || known.seatNumber() != seat) {
                // Recorded before the launch: a crash after it leaves a machine whose seat the ledger knows.
                ledger.updateMachine(n, spec.machineName(n), r -> r.forSeat(seat));
            }
            if (!live.containsKey(n)) {
                requests.add(new NodeRequest(n, spec.machineName(n), rendered.userData().get(n),
                        ctx.tags(n, seat, run.expiresAt())));
            }
        }
        LaunchContext launchFrom = requests.isEmpty() ? context : forNewMachines.apply(context);
        Wiring wiring = ctx.wiring();
        Pipeline pipeline = new Pipeline(new SshLogin(wiring.sshUser(), run.loginKey()), wiring.layout(),
                run.folder().logsDir(), run.dashboards(), wiring.sshTimeout(), Duration.ofSeconds(180))
                .withBootHostKey(cloud.profile().userDataFormat().bootHostKey());
        String atATime = Math.min(spec.parallelism(), machines.size()) + " at a time; logs in " + run.folder().logsDir();
        ctx.out().println(requests.isEmpty()
                ? "provisioning " + live.size() + " machine(s), " + atATime
                : "launching " + requests.size() + " machine(s) on " + cloud.providerName()
                        + "; each is provisioned as soon as it runs, " + atATime);
        List<MachineResult> results;
        boolean interrupted;
        try (ProgressBoard board = progressBoard(title)) {
            machines.keySet().forEach(n -> board.expect(n, spec.machineName(n)));
            Runner runner = new Runner(pipeline, ledger, spec.parallelism(),
                    ProvisionListener.all(List.of(new ProvisionBoard(board), wiring.display())));
            Runner.Batch batch = runner.start(machines.size());
            Launch launch = new Launch(wiring, cloud, ledger, rendered.models(), rendered.bundles(), run.renderer(),
                    run::tls, board, batch);
            results = new ArrayList<>(new InterruptibleBatch(runner, batch, ctx.out())
                    .run(run.exporterPin(), () -> launch.run(launchFrom, requests, live)));
            interrupted = batch.wasInterrupted();
        }
        results.sort(Comparator.comparingInt(MachineResult::attendee));
        return new Outcome(results, interrupted);
    }

    /**
     * The live board: in place in a terminal, timestamped lines otherwise; cost so far from the ledger, each machine at
     * the price of the type it was launched with.
     */
    private ProgressBoard progressBoard(String title) {
        PriceTable prices = PriceTable.load();
        WorkshopSpec spec = ctx.spec();
        Ledger ledger = run.ledger();
        return new ProgressBoard(ctx.out(), ProgressBoard.Mode.detect(), ctx.wiring().clock(), title)
                .costSource(() -> FleetSpend.fromLedger(ledger.snapshot(), prices, ctx.profile(), spec.region(),
                        ctx.profile().sizeName(spec), ctx.wiring().clock().instant())).start();
    }
}
