package org.workshopfleet.command;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.workshopfleet.provision.Runner;
import org.workshopfleet.render.MachineModel;
import org.workshopfleet.spec.WorkshopSpec;
import org.workshopfleet.ssh.SshKeyPair;
import org.workshopfleet.state.Ledger;
import org.workshopfleet.state.Secrets;
import org.workshopfleet.state.StateFolder;
import org.workshopfleet.tls.TlsMaterial;

/**
 * What a command that launches machines ({@code up}, {@code replace}) works with once confirmed: the state, the keys,
 * the rendering and the spec every machine is rendered from.
 *
 * @param machineSpec the spec with the exporter hash every machine verifies (the pin, or the one the ledger recorded)
 * @param exporterPin that hash, or empty before any machine reported one
 * @param givenTls    the facilitator's own certificate and key for every machine ({@link TlsMaterial#given}), or null:
 *                    each machine gets its own self-signed one for its address
 */
record FleetRun(StateFolder folder, Ledger ledger, Secrets secrets, SshKeyPair loginKey, MachineRendering renderer,
                WorkshopSpec machineSpec, String exporterPin, Instant expiresAt, List<Path> dashboards,
                TlsMaterial givenTls) {

    /** Opens the secrets and the rendering for {@code ledger}'s workshop, expiring at {@code expiresAt}. */
    static FleetRun open(WorkshopContext ctx, StateFolder folder, Ledger ledger, Instant expiresAt) {
        return open(ctx, folder, ledger, expiresAt, null);
    }

    /** As {@link #open(WorkshopContext, StateFolder, Ledger, Instant)}, serving HTTPS with {@code givenTls} if not null. */
    static FleetRun open(WorkshopContext ctx, StateFolder folder, Ledger ledger, Instant expiresAt, TlsMaterial givenTls) {
        WorkshopSpec spec = ctx.spec();
        Secrets secrets = new Secrets(folder, spec.name());
        WorkshopSpec machineSpec = machineSpec(spec, ledger);
        return new FleetRun(folder, ledger, secrets, secrets.loginKey(), ctx.rendering(), machineSpec,
                machineSpec.sources().ebpfExporterSha256(), expiresAt, ctx.dashboards(), givenTls);
    }

    /**
     * {@code spec} with the exporter hash every machine verifies: the pin, or else the one {@code ledger} recorded. The
     * same for all machines, so fleet.env, and with it every step's content hash and the image recipe, is too.
     */
    static WorkshopSpec machineSpec(WorkshopSpec spec, Ledger ledger) {
        String exporterPin = Runner.exporterPin(spec.sources().ebpfExporterSha256(), ledger);
        return spec.withSources(spec.sources().withEbpfExporterSha256(exporterPin));
    }

    /**
     * What machine {@code n} at {@code address} serves HTTPS with: the given certificate, else its own self-signed one
     * for that address, valid at least until the fleet expires.
     */
    TlsMaterial tls(int n, String address) {
        if (givenTls != null) {
            return givenTls;
        }
        Duration left = Duration.between(Instant.now(), expiresAt);
        return secrets.tlsMaterial(n, address, expiresAt, left.compareTo(Duration.ofHours(1)) < 0 ? Duration.ofHours(1) : left);
    }

    /** Machine {@code n} as the templates see it. */
    MachineModel model(WorkshopContext ctx, int n) {
        return ctx.model(machineSpec, n, ledger.snapshot().machines().get(n), secrets, loginKey, expiresAt);
    }
}
