package org.workshopfleet.cloud.ec2;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.workshopfleet.cloud.LaunchContext;
import org.workshopfleet.cloud.Machine;
import org.workshopfleet.cloud.NodeRequest;
import org.workshopfleet.cloud.ResourceRecorder;
import org.workshopfleet.concurrent.FanOut;
import org.workshopfleet.concurrent.Waiter;
import org.workshopfleet.error.BadInput;
import org.workshopfleet.error.CloudFailure;
import org.workshopfleet.error.FleetException;
import org.workshopfleet.error.Interrupted;
import org.workshopfleet.spec.Tags;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.Ec2Exception;
import software.amazon.awssdk.services.ec2.model.HttpTokensState;
import software.amazon.awssdk.services.ec2.model.Instance;
import software.amazon.awssdk.services.ec2.model.InstanceMetadataEndpointState;
import software.amazon.awssdk.services.ec2.model.ResourceType;
import software.amazon.awssdk.services.ec2.model.RunInstancesRequest;
import software.amazon.awssdk.services.ec2.model.RunInstancesResponse;
import software.amazon.awssdk.services.ec2.model.ShutdownBehavior;

/**
 * {@code RunInstances}, one call per machine: user data is per machine (it carries that machine's pinned host key) and
 * EC2 takes one user-data document per call, so up to {@value #PARALLELISM} calls run at a time and the fleet's launch
 * takes about as long as one machine's. Each call carries a deterministic client token, so a retry or a re-run gets
 * its reservation back; where EC2 lacks capacity the machine is tried in each availability zone, then with the next
 * instance type; a quota refusal stops new launches and counts what was launched.
 */
final class Ec2Launcher {

    /** EC2's limit on raw (pre-base64) user data (Amazon EC2 User Guide, "Work with instance user data"). */
    static final int MAX_USER_DATA_BYTES = 16384;
    /** RunInstances calls in flight at once; their rate is set by {@link RequestBucket}, not by this. */
    static final int PARALLELISM = 8;
    /**
     * Extra RunInstances attempts, with backoff, when EC2 still throttles after the SDK's retries (another client
     * spending the account's tokens); with the production waiter's 2 s to 15 s pauses, about three minutes.
     */
    static final int THROTTLED_RETRIES = 16;
    private static final Pattern LIMIT_VALUE = Pattern.compile("limit of (\\d+)|allows for (\\d+) more");

    private final Ec2Client ec2;
    private final Ec2Workshop workshop;
    private final ResourceRecorder recorder;
    private final Waiter waiting;
    private final AmiCatalog amis;
    private final Ec2InstanceTypes types;
    /** The catalog's Ubuntu for this region, looked up once; any other image launched is a baked one. */
    private String stockImage;
    /** The region's availability zones, asked once, the first time a machine does not fit wherever EC2 chose. */
    private List<String> zones;
    /** EC2's RunInstances request bucket, mirrored: the launch workers take a token before each call. */
    private final RequestBucket runBucket;

    Ec2Launcher(Ec2Client ec2, Ec2Workshop workshop, ResourceRecorder recorder, Waiter waiting, AmiCatalog amis,
                Ec2InstanceTypes types, RequestBucket runBucket) {
        this.ec2 = ec2;
        this.runBucket = runBucket;
        this.workshop = workshop;
        this.recorder = recorder;
        this.waiting = waiting;
        this.amis = amis;
        this.types = types;
    }

    /** Looks up (again) the catalog's image, which also checks that its owner is Canonical, before anything exists. */
    void lookUpStockImage() {
        stockImage = amis.imageFor(workshop.region(), ec2);
    }

    /** The AMI to launch: the context's baked image when set, else the catalog's Ubuntu (looked up once). */
    String image(LaunchContext context) {
        if (context.imageId() != null) {
            return context.imageId();
        }
        if (stockImage == null) {
            lookUpStockImage();
        }
        return stockImage;
    }

    /** Refuses, before any call, user data over EC2's limit and attendees that are repeated or not positive. */
    static void check(List<NodeRequest> requests) {
        Set<Integer> seen = new HashSet<>();
        for (NodeRequest r : requests) {
            int size = r.userData() == null ? 0 : r.userData().getBytes(StandardCharsets.UTF_8).length;
            if (size > MAX_USER_DATA_BYTES) {
                throw new BadInput("user data for " + r.name() + " is " + size + " bytes, over EC2's limit of "
                        + MAX_USER_DATA_BYTES + ": shrink the cloud-config (move files into the SSH bundle)");
            }
            if (!seen.add(r.attendee()) || r.attendee() < 1) {
                throw new BadInput("attendee " + r.attendee() + " is requested twice or is not positive: this is a"
                        + " bug in the caller, please report it");
            }
        }
    }

    /** The expiry tag is what makes a forgotten fleet visible; the context's expiry fills it in when absent. */
    static NodeRequest withExpiry(NodeRequest r, LaunchContext context) {
        if (r.tags().containsKey(Tags.EXPIRES_AT) || context.expiresAt() == null) {
            return r;
        }
        Map<String, String> tags = new TreeMap<>(r.tags());
        tags.put(Tags.EXPIRES_AT, context.expiresAt().toString());
        return new NodeRequest(r.attendee(), r.name(), r.userData(), tags);
    }

    /** Shared by the launch workers of one {@link #launch} call. */
    private static final class LaunchRun {
        final String sgId;
        /** The AMI every instance of this call boots: a baked image, or the catalog's Ubuntu. */
        final String imageId;
        final int wanted;
        final AtomicInteger launched;
        /** type|zone pairs that ran out of capacity during this call ({@code *} = wherever EC2 chose). */
        final Set<String> exhausted = ConcurrentHashMap.newKeySet();
        final AtomicReference<RuntimeException> failure = new AtomicReference<>();
        /** True once the caller wants no further launch (its wait for the machines failed). */
        final BooleanSupplier stop;

        LaunchRun(String sgId, String imageId, int wanted, int adopted, BooleanSupplier stop) {
            this.sgId = sgId;
            this.imageId = imageId;
            this.wanted = wanted;
            this.launched = new AtomicInteger(adopted);
            this.stop = stop;
        }

        boolean stopped() {
            return failure.get() != null || stop.getAsBoolean();
        }
    }

    /** A RunInstances not made because the run stopped while this launch waited for its token. */
    private static final class Stopped extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Stopped() {
            super("not launched: the launching stopped", null, false, false);
        }
    }

    /**
     * Launches one machine per request, up to {@link #PARALLELISM} at a time, each recorded as soon as its call
     * returns and then handed to {@code launched} (on the launching worker's thread). The first failure (a quota, a crash
     * while recording) stops new launches; calls already in flight finish and are recorded. So does {@code stop}
     * turning true, without a failure: this returns what was launched once the calls in flight have returned.
     *
     * @param wanted  the fleet's size in this call, adopted machines included (for the quota message)
     * @param adopted machines of the fleet already live
     * @param stop    true once no further RunInstances may start
     */
    List<Machine> launch(List<NodeRequest> requests, String sgId, String image, int wanted, int adopted,
                         Consumer<Machine> launched, BooleanSupplier stop) {
        LaunchRun run = new LaunchRun(sgId, image, wanted, adopted, stop);
        if (requests.size() <= 1) {
            List<Machine> one = requests.isEmpty() ? List.of() : launchOne(requests.get(0), run).stream().toList();
            one.forEach(launched);
            return one;
        }
        List<Callable<Optional<Machine>>> tasks = new ArrayList<>();
        for (NodeRequest request : requests) {
            tasks.add(() -> {
                if (run.stopped()) {
                    return Optional.empty();
                }
                try {
                    Optional<Machine> made = launchOne(request, run);
                    made.ifPresent(launched);
                    return made;
                } catch (RuntimeException e) {
                    run.failure.compareAndSet(null, e);
                    throw e;
                }
            });
        }
        try {
            List<Machine> out = new ArrayList<>();
            new FanOut("ec2-launch", PARALLELISM).all(tasks).forEach(m -> m.ifPresent(out::add));
            return out;
        } catch (Interrupted e) {
            run.failure.compareAndSet(null, new Interrupted("launching (what was launched is adopted)", e));
        } catch (RuntimeException e) {
            run.failure.compareAndSet(null, e);
        }
        RuntimeException failure = run.failure.get();
        // Launches that were in flight when the quota answered have returned now: count them all.
        throw failure instanceof QuotaRefusal q ? q.recount(run.launched.get()) : failure;
    }

    /**
     * Launches one machine: first wherever EC2 places it, then on insufficient capacity in each availability zone,
     * then the same with the next instance type. Empty when another launch of the run failed first.
     */
    private Optional<Machine> launchOne(NodeRequest request, LaunchRun run) {
        List<String> typesTried = new ArrayList<>();
        for (String type : workshop.config().sizes()) {
            typesTried.add(type);
            List<String> placements = new ArrayList<>();
            placements.add(null);
            for (int p = 0; p < placements.size(); p++) {
                String zone = placements.get(p);
                String where = type + "|" + Objects.toString(zone, "*");
                if (!run.exhausted.contains(where)) {
                    if (run.stopped()) {
                        return Optional.empty();
                    }
                    List<Machine> got;
                    try {
                        got = tryLaunch(type, zone, request, run);
                    } catch (Stopped s) {
                        return Optional.empty();
                    }
                    if (!got.isEmpty()) {
                        run.launched.addAndGet(got.size());
                        return Optional.of(got.get(0));
                    }
                    run.exhausted.add(where);
                }
                if (p == 0) {
                    placements.addAll(zones());
                }
            }
        }
        throw new CloudFailure("EC2 has no capacity for 1 more machine(s) of type " + String.join("/", typesTried)
                + " in any zone of " + workshop.region() + " (" + run.launched.get() + " of " + run.wanted
                + " launched): add types with -DinstanceType=…, try another -Dregion, or re-run later");
    }

    /** One RunInstances; empty when this type has no capacity there or is not offered in this zone. */
    private List<Machine> tryLaunch(String type, String zone, NodeRequest request, LaunchRun run) {
        try {
            return run(type, zone, request, run);
        } catch (Ec2Exception e) {
            String code = Ec2Calls.code(e);
            if ("InsufficientInstanceCapacity".equals(code) || "InsufficientCapacity".equals(code)) {
                return List.of();
            } else if ("VcpuLimitExceeded".equals(code) || "InstanceLimitExceeded".equals(code)) {
                throw quotaError(e, type, run.wanted, run.launched.get());
            } else if ("Unsupported".equals(code) || "InvalidParameterValue".equals(code) && zone != null) {
                return List.of(); // the type is not offered in this zone
            }
            throw e;
        }
    }

    private List<Machine> run(String type, String zone, NodeRequest request, LaunchRun run) {
        String sgId = run.sgId;
        String image = run.imageId;
        // Two digits, as on Lightsail and in the Seat tag; instances tagged "3" by earlier versions are still read as
        // attendee 3 (Ec2Workshop parses the number), so a re-run adopts them.
        String attendee = String.format(Locale.ROOT, "%02d", request.attendee());
        Map<String, String> tags = new TreeMap<>(request.tags());
        tags.putAll(workshop.config().baseTags());
        tags.put(Tags.ATTENDEE, attendee);
        tags.put(Tags.NAME, request.name());
        String userData = request.userData() == null ? null
                : Base64.getEncoder().encodeToString(request.userData().getBytes(StandardCharsets.UTF_8));
        RunInstancesRequest.Builder builder = RunInstancesRequest.builder()
                .imageId(image)
                .instanceType(type)
                .keyName(workshop.resourceName())
                .minCount(1)
                .maxCount(1)
                .securityGroupIds(sgId)
                .userData(userData)
                .metadataOptions(m -> m.httpTokens(HttpTokensState.REQUIRED)
                        .httpEndpoint(InstanceMetadataEndpointState.ENABLED))
                .instanceInitiatedShutdownBehavior(ShutdownBehavior.TERMINATE)
                .tagSpecifications(Ec2Calls.tagSpec(ResourceType.INSTANCE, tags),
                        Ec2Calls.tagSpec(ResourceType.VOLUME, tags))
                .clientToken(clientToken(type, zone, attendee, sgId, isBaked(image) ? image : null));
        if (zone != null) {
            builder.placement(p -> p.availabilityZone(zone));
        }
        RunInstancesResponse response = null;
        try {
            // Throttling that outlasts the SDK's own retries (easily so when capacity errors, which the SDK also
            // retries, use up the attempts) is waited out here: the client token makes a repeat safe.
            for (int attempt = 0; response == null; attempt++) {
                try {
                    // RunInstances' request bucket holds 5 tokens refilled at 2/s (docs/aws-facts.md): with one call
                    // per machine, a fleet past five machines would be throttled at once; waiting here for a token
                    // launches at (just under) the rate EC2 allows instead of spending the SDK's retries on refusals.
                    runBucket.take("waiting for EC2's RunInstances rate");
                    if (run.stopped()) {
                        throw new Stopped(); // told to stop while it waited for the token
                    }
                    response = ec2.runInstances(builder.build());
                } catch (Ec2Exception e) {
                    if (!e.isThrottlingException() || attempt >= THROTTLED_RETRIES) {
                        throw e;
                    }
                    waiting.pause(attempt, Ec2Calls.WAITING_FOR);
                }
            }
        } catch (Ec2Exception e) {
            if (isBaked(image) && Objects.toString(Ec2Calls.code(e), "").startsWith("InvalidAMIID.")) {
                throw new CloudFailure("the baked image " + image + " cannot be launched (" + Ec2Calls.code(e)
                        + "): it was removed or is not available; re-run to bake it again");
            }
            if ("IdempotentParameterMismatch".equals(Ec2Calls.code(e))) {
                throw new CloudFailure("EC2 remembers an earlier launch of 1 machine(s) for this"
                        + " workshop that is not visible yet: wait a minute and re-run the same command");
            }
            throw e;
        }
        List<Machine> out = new ArrayList<>();
        for (Instance i : response.instances()) {
            Machine m = workshop.machine(i);
            recorder.created(Ec2Workshop.resource(m));
            out.add(m);
        }
        return out;
    }

    /**
     * The idempotency token of one RunInstances: the same workshop, type, zone, attendee and security group give the
     * same token, so an SDK retry or a re-run after a crash gets the original reservation back instead of a second
     * machine. User data and expiry are left out on purpose: they are re-rendered on a re-run and must not make the
     * token differ. The security group stands for this incarnation of the fleet: a re-run adopts it, while teardown
     * deletes it, so the next {@code up} of the same name (a rehearsal, torn down, then the real morning) gets a new
     * group and new tokens; without it EC2 would answer with the rehearsal's terminated reservation, for as long as it
     * remembers tokens.
     *
     * <p>A launch from a baked image ({@code bakedImage} not null) also covers the image: a builder launched from the
     * stock image for an attendee and terminated after the bake must not come back as that attendee's reservation when
     * the attendee is launched from the image. The image id is stable across re-runs of the same recipe, so a re-run
     * still gets its reservation back.
     */
    String clientToken(String type, String zone, String attendee, String sgId, String bakedImage) {
        String config = workshop.config().workshop() + "|" + workshop.region() + "|" + type + "|"
                + Objects.toString(zone, "*") + "|" + attendee + "|" + sgId + (bakedImage == null ? "" : "|" + bakedImage);
        return "wf-" + sha256(config).substring(0, 48);
    }

    /** True for a baked image from {@link LaunchContext#imageId()}, false for the catalog's Ubuntu. */
    private boolean isBaked(String image) {
        return !image.equals(stockImage);
    }

    private synchronized List<String> zones() {
        if (zones == null) {
            zones = ec2.describeAvailabilityZones(r -> r.filters(Ec2Calls.filter("state", "available"),
                            Ec2Calls.filter("zone-type", "availability-zone")))
                    .availabilityZones().stream().map(z -> z.zoneName()).sorted().toList();
        }
        return zones;
    }

    private FleetException quotaError(Ec2Exception e, String type, int wanted, int launched) {
        String message = Objects.toString(e.awsErrorDetails().errorMessage(), "");
        Matcher m = LIMIT_VALUE.matcher(message);
        String value = m.find() ? " (AWS says: " + (m.group(1) != null ? "limit " + m.group(1) + " vCPUs"
                : m.group(2) + " more instances allowed") + ")" : "";
        String needs = "";
        try {
            needs = "; the fleet of " + wanted + " x " + type + " needs " + (types.vcpus(type) * wanted) + " vCPUs";
        } catch (RuntimeException ignored) {
            // The vCPU figure is a courtesy; the quota message stands without it.
        }
        String head = "EC2 quota " + Ec2Calls.code(e) + " reached" + value + needs + " (";
        String tail = "): ask for more in Service Quotas ('Running On-Demand Standard instances', " + workshop.region()
                + ") or lower -Dcount";
        return new QuotaRefusal(head, tail, launched, e);
    }

    private static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A quota refusal; the number launched is final only once every launch in flight has returned. */
    private static final class QuotaRefusal extends CloudFailure {
        private static final long serialVersionUID = 1L;
        private final String head;
        private final String tail;

        QuotaRefusal(String head, String tail, int launched, Throwable cause) {
            super(head + (launched == 0 ? "nothing launched"
                    : launched + " launched and recorded: -Daction=teardown removes them, or re-run with a -Dcount that fits")
                    + tail, cause);
            this.head = head;
            this.tail = tail;
        }

        /** The final error: a refusal (exit 2) when nothing was launched, a cloud failure once machines exist. */
        FleetException recount(int launched) {
            return launched == 0 ? new BadInput(new QuotaRefusal(head, tail, 0, getCause()).getMessage(), getCause())
                    : new QuotaRefusal(head, tail, launched, getCause());
        }
    }
}
