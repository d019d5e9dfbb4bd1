package org.workshopfleet.cloud.ec2;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.workshopfleet.cloud.AwsCredentialFailure;
import org.workshopfleet.cloud.CapacityExtension;
import org.workshopfleet.cloud.Cloud;
import org.workshopfleet.cloud.ProviderProfile;
import org.workshopfleet.cloud.CloudResource;
import org.workshopfleet.cloud.ImageExtension;
import org.workshopfleet.cloud.IngressExtension;
import org.workshopfleet.cloud.LaunchConfig;
import org.workshopfleet.cloud.LaunchContext;
import org.workshopfleet.cloud.Machine;
import org.workshopfleet.cloud.NodeRequest;
import org.workshopfleet.cloud.ResourceRecorder;
import org.workshopfleet.cloud.TaggingExtension;
import org.workshopfleet.concurrent.FanOut;
import org.workshopfleet.concurrent.Waiter;
import org.workshopfleet.error.BadInput;
import org.workshopfleet.spec.WorkshopSpec;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.servicequotas.ServiceQuotasClient;

/**
 * EC2 behind the {@link Cloud} contract, on the real SDK v2 {@link Ec2Client}: one imported key pair
 * ({@code Ec2KeyPair}) and one security group ({@code Ec2SecurityGroup}) per workshop, one {@code RunInstances} per
 * machine with a deterministic client token ({@code Ec2Launcher}), everything tagged at creation and found again by tag
 * ({@code Ec2Instances}), and a teardown that survives a lost ledger. This class builds the parts and orders them;
 * its capabilities are the parts themselves.
 *
 * <p>One thread uses an instance at a time (launches fan out internally, and {@link #launchAndAwait} polls on the
 * calling thread while they run). Waits follow the injected {@link Waiter};
 * HTTP-level retries (throttling, 5xx) are the SDK client's.
 */
public final class Ec2Cloud implements Cloud {

    private static final ProviderProfile PROFILE = new Ec2Profile();

    /** EC2's limit on raw (pre-base64) user data (Amazon EC2 User Guide, "Work with instance user data"). */
    public static final int MAX_USER_DATA_BYTES = Ec2Launcher.MAX_USER_DATA_BYTES;
    /**
     * Polls start 2 s apart and grow by half up to 15 s, each pause shortened by up to 20 % so many clients do not
     * poll in step; termination is waited for up to 10 min.
     */
    public static final Waiter PRODUCTION_WAITER = new Waiter(Duration.ofSeconds(2), Duration.ofSeconds(15), 1.5, 0.2,
            Duration.ofMinutes(10));

    private final Ec2Workshop workshop;
    private final Ec2KeyPair keyPair;
    private final Ec2SecurityGroup securityGroup;
    private final Ec2Instances instances;
    private final Ec2Launcher launcher;
    private final Ec2Images images;
    /** Null when no quota source was given: no pre-check (EC2's refusal at launch still applies). */
    private final Ec2Capacity capacity;
    /** The clients this cloud built and must close; empty when the caller owns them. */
    private List<AutoCloseable> owned = List.of();

    /** Production waiting ({@link #PRODUCTION_WAITER}). */
    public Ec2Cloud(Ec2Client ec2, LaunchConfig config, ResourceRecorder recorder, AmiCatalog amis) {
        this(ec2, config, recorder, amis, PRODUCTION_WAITER);
    }

    /**
     * @param ec2      a built client for the workshop's region; this cloud does not close it unless created by
     *                 {@link #create}
     * @param config   the workshop (name, region, instance types in order of preference; see {@link #config})
     * @param recorder receives every create and delete right after the call that made it returns
     * @param amis     where the image comes from
     * @param waiting  poll intervals; its timeout bounds the wait for terminated instances, and (at most 5 min) the
     *                 retries of the security group's deletion
     */
    public Ec2Cloud(Ec2Client ec2, LaunchConfig config, ResourceRecorder recorder, AmiCatalog amis, Waiter waiting) {
        this(ec2, config, recorder, amis, waiting, null);
    }

    /**
     * As {@link #Ec2Cloud(Ec2Client, LaunchConfig, ResourceRecorder, AmiCatalog, Waiter)}, with the vCPU quota that
     * {@link #capacity()} reads before anything is created (null: no pre-check).
     */
    public Ec2Cloud(Ec2Client ec2, LaunchConfig config, ResourceRecorder recorder, AmiCatalog amis, Waiter waiting,
                    OnDemandVcpuQuota quota) {
        this(ec2, config, recorder, amis, waiting, quota, RequestBucket.runInstances());
    }

    /**
     * As {@link #Ec2Cloud(Ec2Client, LaunchConfig, ResourceRecorder, AmiCatalog, Waiter, OnDemandVcpuQuota)}, with the
     * bucket the launches take their tokens from ({@link RequestBucket#runInstances()}: EC2's own figures; a stand-in
     * without throttling may pass {@link RequestBucket#unlimited()}).
     */
    public Ec2Cloud(Ec2Client ec2, LaunchConfig config, ResourceRecorder recorder, AmiCatalog amis, Waiter waiting,
                    OnDemandVcpuQuota quota, RequestBucket runInstances) {
        Objects.requireNonNull(ec2, "ec2");
        Objects.requireNonNull(recorder, "recorder");
        Objects.requireNonNull(amis, "amis");
        Objects.requireNonNull(waiting, "waiting");
        this.workshop = new Ec2Workshop(Objects.requireNonNull(config, "config"));
        Ec2InstanceTypes types = new Ec2InstanceTypes(ec2, config.region());
        this.keyPair = new Ec2KeyPair(ec2, workshop, recorder);
        this.instances = new Ec2Instances(ec2, workshop, recorder, waiting);
        this.securityGroup = new Ec2SecurityGroup(ec2, workshop, recorder, waiting, instances);
        this.launcher = new Ec2Launcher(ec2, workshop, recorder, waiting, amis, types,
                Objects.requireNonNull(runInstances, "runInstances"));
        this.images = new Ec2Images(ec2, waiting, config.region());
        this.capacity = quota == null ? null : new Ec2Capacity(ec2, workshop, quota, types);
    }

    /**
     * An EC2 cloud on a client built the standard way: the default credential chain (environment, system properties,
     * profiles, SSO, container/instance roles), the spec's region, the SDK's default retry strategy, and the
     * {@code AWS_ENDPOINT_URL_EC2} (preferred) / {@code AWS_ENDPOINT_URL} variables, which the SDK honours by itself
     * (checked by {@code Ec2EndpointTest}). The vCPU quota is read from Service Quotas on a client built the same way
     * ({@code AWS_ENDPOINT_URL_SERVICE_QUOTAS} / {@code AWS_ENDPOINT_URL}). The clients are closed with this cloud.
     *
     * @param amiProperties the project's {@code ami.properties}
     */
    public static Ec2Cloud create(WorkshopSpec spec, ResourceRecorder recorder, Path amiProperties) {
        LaunchConfig config = config(spec);
        AmiCatalog amis = AmiCatalog.load(amiProperties);
        Ec2Client client = defaultClient(config.region());
        ServiceQuotasClient quotas = OnDemandVcpuQuota.defaultClient(config.region());
        Ec2Cloud cloud = new Ec2Cloud(client, config, recorder, amis, PRODUCTION_WAITER, new OnDemandVcpuQuota(quotas));
        cloud.owned = List.of(client, quotas);
        return cloud;
    }

    /** The workshop as EC2 sees it: its instance types, preferred first, are the sizes. */
    public static LaunchConfig config(WorkshopSpec spec) {
        return LaunchConfig.of(spec, spec.instanceTypes());
    }

    /** The client {@link #create} uses: default credentials (mid-run failures reported) and retries, Apache HTTP, the given region. */
    public static Ec2Client defaultClient(String region) {
        return Ec2Client.builder()
                .region(Region.of(region))
                .credentialsProvider(AwsCredentialFailure.defaultChain())
                .httpClientBuilder(ApacheHttpClient.builder())
                .build();
    }

    @Override
    public void close() {
        for (AutoCloseable c : owned) {
            try {
                c.close();
            } catch (Exception e) {
                // Closing an SDK client only releases connections; nothing to report.
            }
        }
    }

    @Override
    public ProviderProfile profile() {
        return PROFILE;
    }

    /** The imported key pair's name: {@code workshop-fleet-<workshop>}. */
    public String keyPairName() {
        return keyPair.name();
    }

    /** The security group's name: {@code workshop-fleet-<workshop>}. */
    public String securityGroupName() {
        return securityGroup.name();
    }

    @Override
    public Optional<ImageExtension> images() {
        return Optional.of(images);
    }

    @Override
    public Optional<IngressExtension> ingress() {
        return Optional.of(securityGroup);
    }

    @Override
    public Optional<TaggingExtension> tagging() {
        return Optional.of(instances);
    }

    /** Only when this cloud was given where to read the vCPU quota (EC2's refusal at launch still applies without). */
    @Override
    public Optional<CapacityExtension> capacity() {
        return Optional.ofNullable(capacity);
    }


    /** The stock image (checked to be Canonical's), the default VPC, the key pair, then the group and its ingress. */
    @Override
    public void prepare(LaunchContext context) {
        if (context.loginPublicKey() == null || !context.loginPublicKey().startsWith("ssh-")) {
            throw new BadInput("the login public key is not an OpenSSH line: delete the workshop's login key files"
                    + " in " + workshop.config().stateDir() + " so a new one is generated");
        }
        workshop.call("prepare", () -> {
            launcher.lookUpStockImage();
            String vpcId = securityGroup.defaultVpc();
            keyPair.ensure(context.loginPublicKey());
            securityGroup.ensure(vpcId, context);
            return null;
        });
    }

    /** Adopts the attendees' live machines found by tag, and launches the others. */
    @Override
    public List<Machine> createNodes(LaunchContext context, List<NodeRequest> requests) {
        Ec2Launcher.check(requests);
        return createNodes(context, requests, m -> { }, () -> false);
    }

    /**
     * As {@link #createNodes(LaunchContext, List)}, handing each machine to {@code launched} as soon as it is known,
     * and starting no further launch once {@code stop} is true.
     */
    private List<Machine> createNodes(LaunchContext context, List<NodeRequest> requests, Consumer<Machine> launched,
                                      BooleanSupplier stop) {
        if (requests.isEmpty()) {
            return List.of();
        }
        List<NodeRequest> tagged = requests.stream().map(r -> Ec2Launcher.withExpiry(r, context)).toList();
        return workshop.call("launch", () -> {
            String group = securityGroup.id();
            String image = launcher.image(context);
            Map<Integer, Machine> byAttendee = instances.adoptLive();
            List<NodeRequest> missing = tagged.stream().filter(r -> !byAttendee.containsKey(r.attendee())).toList();
            requests.stream().map(r -> byAttendee.get(r.attendee())).filter(Objects::nonNull).forEach(launched);
            for (Machine m : launcher.launch(missing, group, image, requests.size(), requests.size() - missing.size(),
                    launched, stop)) {
                byAttendee.put(m.attendee(), m);
            }
            return requests.stream().map(r -> byAttendee.get(r.attendee())).toList();
        });
    }

    /**
     * Launches on one thread while this one polls what has launched so far (one {@code DescribeInstances} per poll for
     * every machine launched yet): with launches paced by EC2's RunInstances bucket (about 105 s for 200 machines), the
     * first machines run and are provisioned while the last are still being launched. When the wait fails (Ctrl-C, a
     * describe error) no further launch starts, and this throws only once the launches in flight have returned and
     * been recorded.
     */
    @Override
    public List<Machine> launchAndAwait(LaunchContext context, List<NodeRequest> requests, Collection<String> liveIds,
                                        Duration timeout, Consumer<Machine> launched, Consumer<Machine> onRunning) {
        Ec2Launcher.check(requests);
        if (requests.isEmpty()) {
            return awaitRunning(liveIds, timeout, onRunning);
        }
        ArrivingIds arriving = new ArrivingIds(liveIds);
        AtomicBoolean stop = new AtomicBoolean();
        Thread launching = FanOut.daemons("ec2-launching").newThread(() -> {
            RuntimeException failure = null;
            try {
                createNodes(context, requests, m -> {
                    launched.accept(m); // recorded by the caller before the wait learns of it
                    arriving.add(m.id());
                }, stop::get);
            } catch (RuntimeException e) {
                failure = e;
            } finally {
                arriving.close(failure);
            }
        });
        launching.start();
        try {
            return instances.awaitRunning(arriving, timeout, onRunning);
        } finally {
            // Only when the wait itself failed (Ctrl-C, a describe error) is the launching still on: stop new launches.
            // Not by interrupting it: the SDK drops the answer of a call whose thread is interrupted while it is in
            // flight, and with it the record of a machine EC2 did make. Launches waiting for a RunInstances token
            // (a few seconds at most) see the stop when they have it; calls in flight return and are recorded.
            if (!arriving.closed()) {
                stop.set(true);
            }
            awaitEnd(launching);
        }
    }

    /**
     * Waits (up to a minute, not interruptibly: a Ctrl-C has already been seen) for the launching thread to end, so no
     * RunInstances is still in flight, and no machine still being recorded, once this cloud hands control back.
     */
    private static void awaitEnd(Thread launching) {
        boolean interrupted = Thread.interrupted();
        long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
        while (launching.isAlive() && System.nanoTime() < deadline) {
            try {
                launching.join(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public List<Machine> awaitRunning(Collection<String> machineIds, Duration timeout, Consumer<Machine> onRunning) {
        return instances.awaitRunning(machineIds, timeout, onRunning);
    }

    @Override
    public List<Machine> listNodes() {
        return workshop.call("list", instances::live);
    }

    @Override
    public void destroyNodes(Collection<String> machineIds) {
        List<String> ids = List.copyOf(new LinkedHashSet<>(machineIds));
        workshop.call("destroy", () -> {
            instances.terminate(ids);
            return null;
        });
    }

    /** Instances first, then the security groups (once their network interfaces let go), then the key pairs. */
    @Override
    public void teardown(Collection<CloudResource> known) {
        workshop.call("teardown", () -> {
            Set<String> instanceIds = new LinkedHashSet<>();
            Set<String> groups = new LinkedHashSet<>();
            Set<String> keys = new LinkedHashSet<>();
            for (CloudResource r : known) {
                switch (r.kind()) {
                    case INSTANCE -> instanceIds.add(r.id());
                    case SECURITY_GROUP -> groups.add(r.id());
                    case KEY_PAIR -> keys.add(r.id());
                    default -> {
                        // Other kinds belong to other clouds.
                    }
                }
            }
            instanceIds.addAll(instances.notTerminatedIds());
            groups.addAll(securityGroup.findOurs());
            keys.addAll(keyPair.findOurs());
            if (!instanceIds.isEmpty()) {
                instances.terminate(List.copyOf(instanceIds));
            }
            groups.forEach(securityGroup::delete);
            keys.forEach(keyPair::delete);
            securityGroup.forget();
            return null;
        });
    }

    @Override
    public String toString() {
        return "Ec2Cloud[" + workshop.config().workshop() + " in " + workshop.region().toLowerCase(Locale.ROOT) + "]";
    }
}
