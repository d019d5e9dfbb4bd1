package org.workshopfleet.command;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.workshopfleet.cloud.IngressRule;
import org.workshopfleet.cloud.PlannedCall;
import org.workshopfleet.cloud.ProviderProfile;
import org.workshopfleet.render.Bundle;
import org.workshopfleet.render.BundleFile;
import org.workshopfleet.render.MachineModel;
import org.workshopfleet.render.SetupStep;
import org.workshopfleet.report.PlanSummary;
import org.workshopfleet.report.PriceTable;
import org.workshopfleet.spec.SourcesFile;
import org.workshopfleet.spec.WorkshopSpec;
import org.workshopfleet.ssh.SshKeyPair;
import org.workshopfleet.state.Ledger;
import org.workshopfleet.state.MachineRecord;
import org.workshopfleet.state.Secrets;
import org.workshopfleet.state.StateFolder;
import org.workshopfleet.state.WorkshopLock;

/**
 * {@code plan}: writes what {@code up} would do into {@code workshops/<name>/plan/}, offline. The folder holds secrets
 * (host keys, passwords): it is private (0700, files 0600).
 */
public final class Plan {

    /** The effective download locations and pins, in the {@code -Dsources} format, in the plan folder. */
    public static final String SOURCES_FILE = "sources.properties";

    private final WorkshopContext ctx;

    /** @param ctx the workshop this command works on, and the steps it shares with the others */
    public Plan(WorkshopContext ctx) {
        this.ctx = ctx;
    }

    /**
     * Per machine its user data, bundle files and steps; {@code cloud-calls.txt}; {@code cost.txt};
     * {@link #SOURCES_FILE}. Returns 0.
     */
    public int run() {
        // Locked like up: plan makes the login key, host keys and passwords up goes on to use, and two commands
        // making them at once would leave machines with keys the folder no longer holds.
        try (WorkshopLock held = ctx.lock("plan")) {
            ctx.placeFromLedger();
            return planLocked();
        }
    }

    private int planLocked() {
        WorkshopSpec spec = ctx.spec();
        StateFolder folder = ctx.folder().ensure();
        Path planDir = folder.root().resolve("plan");
        deleteTree(planDir);
        StateFolder.makePrivateDir(planDir);
        Secrets secrets = new Secrets(folder, spec.name());
        SshKeyPair loginKey = secrets.loginKey();
        Instant now = ctx.wiring().clock().instant();
        Instant expiresAt = now.plus(spec.ttl());
        ProviderProfile profile = ctx.profile();
        String cidr = spec.cidr() != null ? spec.cidr().toString() : profile.defaultCidr().map(Object::toString)
                .orElse("(this computer's public address /32, detected by up)");
        List<IngressRule> ingress = ctx.ingressRules();
        MachineRendering renderer = ctx.rendering();
        int files = 0;
        // A machine the fleet already runs keeps its pinned host key: a lost one is refused, never made again here.
        Ledger ledger = Ledger.exists(folder) ? ctx.openLedger(folder) : null;
        Map<Integer, MachineRecord> recorded = ledger == null ? Map.of() : ledger.snapshot().machines();
        // The exporter hash up would send, so the bundles, their steps' hashes and sources.properties are up's.
        WorkshopSpec machineSpec = ledger == null ? spec : FleetRun.machineSpec(spec, ledger);
        for (int n = 1; n <= spec.machines(); n++) {
            files += writeMachine(planDir.resolve(spec.machineName(n)),
                    ctx.model(machineSpec, n, recorded.get(n), secrets, loginKey, expiresAt), renderer, profile);
        }
        StateFolder.writeAtomically(planDir.resolve("cloud-calls.txt"),
                cloudCalls(profile.plannedCalls(spec, ingress, cidr, expiresAt)).getBytes(StandardCharsets.UTF_8), true);
        // What the machines will fetch, and the pins they check: the facilitator can see a mirror is complete
        // before the day. No secret can be in it (URLs with credentials are refused when read).
        StateFolder.writeAtomically(planDir.resolve(SOURCES_FILE),
                SourcesFile.format(machineSpec.sources()).getBytes(StandardCharsets.UTF_8), true);
        PriceTable prices = PriceTable.load();
        String cost = PlanSummary.costLine(profile, spec, spec.machines(), prices);
        StateFolder.writeAtomically(planDir.resolve("cost.txt"), (cost + "\n").getBytes(StandardCharsets.UTF_8), true);
        ctx.out().println(spec.provider().id() + ": " + PlanSummary.withExpiry(profile, spec, spec.machines(), prices,
                ingress, cidr, now, expiresAt));
        ctx.out().println("plan: " + spec.count() + " machine(s)" + (spec.spares() > 0 ? " + " + spec.spares()
                + " spare(s) (" + spec.machineName(spec.count() + 1) + " on, no seat until a replace)" : "") + ", " + files
                + " bundle file(s), user data, cloud calls and download sources in " + planDir);
        return 0;
    }

    /** One machine's folder: user-data, bundle/, steps.txt; returns how many bundle files it wrote. */
    private int writeMachine(Path dir, MachineModel model, MachineRendering renderer, ProviderProfile profile) {
        StateFolder.makePrivateDir(dir);
        StateFolder.writeAtomically(dir.resolve("user-data"),
                renderer.userData(model, profile.userDataFormat()).getBytes(StandardCharsets.UTF_8), true);
        Bundle bundle = renderer.bundle(model);
        int files = 0;
        for (BundleFile f : bundle.files()) {
            Path target = dir.resolve("bundle").resolve(f.path()).normalize();
            if (!target.startsWith(dir.resolve("bundle"))) {
                throw new IllegalStateException("bundle path escapes the bundle: " + f.path());
            }
            makePrivateDirs(dir, target.getParent());
            StateFolder.writeAtomically(target, f.content(), true);
            files++;
        }
        StringBuilder steps = new StringBuilder();
        for (SetupStep s : bundle.steps()) {
            steps.append(s.name()).append(' ').append(s.script()).append(' ').append(s.contentHash()).append('\n');
        }
        StateFolder.writeAtomically(dir.resolve("steps.txt"), steps.toString().getBytes(StandardCharsets.UTF_8), true);
        return files;
    }

    /** {@code cloud-calls.txt}: the profile's planned calls, numbered. */
    private String cloudCalls(List<PlannedCall> calls) {
        StringBuilder sb = new StringBuilder();
        sb.append("# The operations `up` makes for workshop ").append(ctx.spec().name()).append(" on ")
                .append(ctx.spec().provider().id()).append(", in order (from an empty fleet).\n");
        sb.append("# Each is idempotent; every resource created is recorded in ledger.json before the next call.\n");
        int i = 1;
        for (PlannedCall c : calls) {
            sb.append(i++).append(". ").append(c.operation()).append(": ").append(c.what()).append('\n');
        }
        sb.append("# teardown: instances, wait until terminated, then ingress and key pair (ledger ∪ tag search)\n");
        return sb.toString();
    }

    /** Creates {@code leaf} and the folders between {@code base} and it, each 0700. */
    private static void makePrivateDirs(Path base, Path leaf) {
        Path d = base;
        for (Path part : base.relativize(leaf)) {
            d = d.resolve(part);
            if (!Files.isDirectory(d)) {
                StateFolder.makePrivateDir(d);
            }
        }
    }

    private static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot clear " + dir, e);
        }
    }
}
