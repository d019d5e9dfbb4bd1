package org.workshopfleet.bake;

import org.workshopfleet.error.MachineFailure;
import org.workshopfleet.error.FleetException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.workshopfleet.error.BadInput;
import org.workshopfleet.cloud.Cloud;
import org.workshopfleet.cloud.ImageExtension;
import org.workshopfleet.cloud.ImageFailed;
import org.workshopfleet.cloud.LaunchContext;
import org.workshopfleet.cloud.Machine;
import org.workshopfleet.cloud.MachineImage;
import org.workshopfleet.cloud.NodeRequest;
import org.workshopfleet.provision.MachineJob;
import org.workshopfleet.provision.MachineLayout;
import org.workshopfleet.provision.MachineResult;
import org.workshopfleet.provision.Pipeline;
import org.workshopfleet.provision.ProvisionListener;
import org.workshopfleet.render.Bundle;
import org.workshopfleet.spec.WorkshopSpec;
import org.workshopfleet.ssh.Remote;
import org.workshopfleet.ssh.SshLogin;
import org.workshopfleet.ssh.SshTarget;

/**
 * Makes sure the cloud has the image of a recipe: finds it, or launches one builder machine from the stock image, runs
 * the image steps on it with the normal {@link Pipeline}, seals it ({@code scripts/seal.sh}), captures the image and
 * destroys the builder. The builder is a resource of the workshop (recorded in its ledger by the cloud, so a teardown
 * after a crash removes it); the image is not.
 */
public final class ImageBaker {

    /**
     * The builder's attendee number: one no attendee can have, so every cloud accepts it and the fleet's attendee range
     * (1..count) never includes it; a builder left by a crash is destroyed before the next bake.
     */
    public static final int BUILDER_ATTENDEE = WorkshopSpec.MAX_COUNT + 1;

    private static final String FIX_AND_RERUN = "fix the failing step and re-run up -Dimage=bake";

    /**
     * One builder machine.
     *
     * @param request      its launch request (name {@code <workshop>-bake}, its own user data and tags)
     * @param hostKey      its pinned host key, one OpenSSH public key line without comment
     * @param bundle       the bundle it receives, with only the image steps ({@link ImageRecipe#builderBundle})
     */
    public record Builder(NodeRequest request, String hostKey, Bundle bundle) {
    }

    /**
     * The image of a recipe.
     *
     * @param image                     the image, found or baked now
     * @param builderEbpfExporterSha256 the ebpf_exporter hash the builder observed (what a baked attendee machine
     *                                  reports as its own), or null when the image was reused or none was observed
     */
    public record Baked(MachineImage image, String builderEbpfExporterSha256) {
    }

    /**
     * The builder failed (launch, a step, the seal, or the image it was captured into ended broken): a machine-level
     * failure, not bad input; the builder is destroyed before this reaches the caller, and no attendee machine was
     * launched.
     */
    public static final class Failed extends MachineFailure {
        private static final long serialVersionUID = 1L;

        private final transient MachineResult builder;
        private final String next;

        Failed(String oneLine, MachineResult builder, String next) {
            super(oneLine);
            this.builder = builder;
            this.next = next;
        }

        /** What the facilitator does now, e.g. {@code fix the failing step and re-run up -Dimage=bake}. */
        public String next() {
            return next;
        }

        /**
         * How the builder ended, as a failed machine of a normal {@code up} is reported: the failing step ({@code launch},
         * a setup step, {@code seal}, {@code capture}), its reason and the tail of the builder's log.
         */
        public MachineResult builder() {
            return builder;
        }
    }

    private final SshLogin login;
    private final MachineLayout layout;
    private final int sshPort;
    private final Path logsDir;
    private final Duration launchTimeout;
    private final Duration sshTimeout;
    private final Duration captureTimeout;
    private final PrintStream out;

    public ImageBaker(SshLogin login, MachineLayout layout, int sshPort, Path logsDir, Duration launchTimeout,
                      Duration sshTimeout, Duration captureTimeout, PrintStream out) {
        this.login = login;
        this.layout = layout;
        this.sshPort = sshPort;
        this.logsDir = logsDir;
        this.launchTimeout = launchTimeout;
        this.sshTimeout = sshTimeout;
        this.captureTimeout = captureTimeout;
        this.out = out;
    }

    /**
     * The image of {@code recipe}: the cloud's, or baked now from {@code builder} (with the exporter hash the builder
     * observed, for the caller to record).
     *
     * @param context the fleet's launch context (stock image: the builder starts from the base)
     * @throws Failed when the builder fails (its step, reason and log are named); nothing is left running
     */
    public Baked ensure(Cloud cloud, LaunchContext context, ImageRecipe recipe, Builder builder) {
        ImageExtension images = cloud.images().orElseThrow(() -> new BadInput(cloud.providerName()
                + " cannot bake images: leave out -Dimage=bake"));
        Optional<MachineImage> found = images.findImage(recipe.hash());
        if (found.isPresent()) {
            out.println("image: " + found.get().name() + " (" + found.get().id() + ") matches recipe " + recipe.shortHash()
                    + ", baked " + found.get().createdAt() + "; reused");
            return new Baked(found.get(), null);
        }
        Instant start = Instant.now();
        String name = builder.request().name();
        out.println("image: none for recipe " + recipe.shortHash() + " (" + recipe.baseImage() + " + "
                + recipe.imageSteps().size() + " image steps); baking it on one builder machine, " + name);
        List<String> stale = cloud.listNodes().stream()
                .filter(m -> m.name().equals(name) || m.attendee() == BUILDER_ATTENDEE).map(Machine::id).toList();
        if (!stale.isEmpty()) {
            out.println("image: destroying builder(s) left by an earlier run: " + String.join(", ", stale));
            cloud.destroyNodes(stale);
        }
        List<Machine> launched = cloud.createNodes(context.withImage(null), List.of(builder.request()));
        String id = launched.get(0).id();
        try {
            Machine m = cloud.awaitRunning(List.of(id), launchTimeout).get(0);
            if (!m.isRunningWithAddress()) {
                String why = "did not start (" + m.state() + ")";
                throw new Failed("image: builder " + name + " " + why + "; nothing was baked",
                        new MachineResult(BUILDER_ATTENDEE, name, m.publicIp(), false, "launch", why, List.of(), null),
                        "re-run up -Dimage=bake (no step ran; a new builder is launched)");
            }
            SshTarget target = new SshTarget(m.publicIp(), sshPort, builder.hostKey());
            // A Lightsail builder presents its image's host key until its launch script has run.
            Pipeline pipeline = new Pipeline(login, layout, logsDir, List.of(), sshTimeout, Duration.ofSeconds(180))
                    .withBootHostKey(cloud.profile().userDataFormat().bootHostKey());
            MachineResult r = pipeline.provision(new MachineJob(BUILDER_ATTENDEE, name, target, null, builder.bundle()),
                    ProvisionListener.NONE);
            if (!r.ok()) {
                throw new Failed("image: builder " + name + " failed at " + r.failedStep() + ": " + r.error()
                        + "; log: " + pipeline.logFile(name) + "; no attendee machine was launched", r, FIX_AND_RERUN);
            }
            Duration steps = Duration.between(start, Instant.now());
            try (Remote remote = Remote.await(target, login, sshTimeout)) {
                int code = remote.run(login.sudo() + layout.runScript(ImageRecipe.SEAL_SCRIPT),
                        pipeline.logFile(name));
                if (code != 0) {
                    String why = "seal.sh exited with " + code;
                    throw new Failed("image: sealing builder " + name + " failed (exit " + code + "); log: "
                            + pipeline.logFile(name) + "; no attendee machine was launched",
                            new MachineResult(BUILDER_ATTENDEE, name, m.publicIp(), false, "seal", why,
                                    Pipeline.tail(pipeline.logFile(name), Pipeline.TAIL_LINES), null), FIX_AND_RERUN);
                }
            }
            MachineImage image;
            try {
                image = images.captureImage(id, recipe.hash(), captureTimeout);
            } catch (ImageFailed e) {
                // The steps and the seal passed; the image made of them did not: reported as the builder's failure,
                // like one at a step, so the facilitator sees the same results table either way.
                // The reason only: what to do comes once, as the failure's next step.
                throw new Failed("image: capturing builder " + name + " failed: " + e.reason()
                        + "; no attendee machine was launched",
                        new MachineResult(BUILDER_ATTENDEE, name, m.publicIp(), false, "capture", e.reason(), List.of(),
                                null),
                        "re-run up -Dimage=bake (the broken image is replaced)");
            }
            out.printf(java.util.Locale.ROOT, "image: baked %s (%s) in %d s (image steps %d s, seal and capture %d s)%n",
                    image.name(), image.id(), Duration.between(start, Instant.now()).toSeconds(), steps.toSeconds(),
                    Duration.between(start, Instant.now()).minus(steps).toSeconds());
            return new Baked(image, r.ebpfExporterSha256());
        } finally {
            cloud.destroyNodes(List.of(id));
        }
    }
}
