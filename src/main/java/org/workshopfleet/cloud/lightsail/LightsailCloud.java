package org.workshopfleet.cloud.lightsail;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import org.workshopfleet.cloud.AwsCredentialFailure;
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
import software.amazon.awssdk.services.lightsail.LightsailClient;

/**
 * Workshop machines on Amazon Lightsail, through the SDK v2 {@link LightsailClient}; this class wires its parts, one
 * per kind of resource.
 *
 * <p>Resources: one imported key pair {@code <workshop>-key} ({@link LightsailKeyPair}) and one instance
 * {@code <workshop>-NN} per attendee ({@link LightsailInstances}: blueprint {@code ubuntu_22_04}, the spec's bundle,
 * IPv4 only), each with a firewall holding exactly the declared ingress for the facilitator's CIDR
 * ({@link LightsailFirewall}). Everything carries the workshop's tags, so teardown finds it without a ledger.
 *
 * <p>Lightsail names are unique across all resource types and CreateInstances is not idempotent, so a name that
 * already exists is adopted when the instance carries this workshop's tags (a re-run, or a retry after a lost
 * response) and is an error otherwise.
 *
 * <p>Bake mode: {@link #images()} makes instance snapshots shared by every workshop of the same image recipe
 * ({@link LightsailImages}), and a {@link LaunchContext#imageId()} makes {@link #createNodes} launch from one.
 *
 * <p>Thread-safe; launches and deletions run a few at a time ({@link #withLaunchConcurrency(int)}), and the
 * {@link ResourceRecorder} is called from those threads.
 */
public final class LightsailCloud implements Cloud {

    private static final ProviderProfile PROFILE = new LightsailProfile();

    /** Ubuntu 22.04 LTS, an OS blueprint. */
    public static final String BLUEPRINT = "ubuntu_22_04";
    /** How many CreateInstances / DeleteInstance calls run at once by default. */
    public static final int DEFAULT_LAUNCH_CONCURRENCY = 4;
    /**
     * For real Lightsail, whose SDK has no waiters: instances take a minute or two, so polls 5 s apart growing by half
     * to 30 s keep the call count low; teardown waits up to 5 min for deleted instances to disappear.
     */
    public static final Waiter STANDARD_POLLING = new Waiter(Duration.ofSeconds(5), Duration.ofSeconds(30), 1.5, 0,
            Duration.ofMinutes(5));

    private final LightsailClient client;
    private final LaunchConfig config;
    private final ResourceRecorder recorder;
    private final Waiter polling;
    private final String availabilityZone;
    private final int launchConcurrency;
    private final LightsailKeyPair keyPair;
    private final LightsailFirewall firewall;
    private final LightsailInstances instances;
    private final LightsailImages images;

    /**
     * A cloud on a built client, which it owns and closes. The availability zone defaults to {@code <region>a}.
     *
     * @param client   a client for the spec's region (see {@link #newClient(String)})
     * @param config   the workshop: name (tags, resource names), region, bundle (see {@link #config})
     * @param recorder receives every create and delete as soon as the call that made it returns
     * @param polling  how to wait for instances to run or disappear
     */
    public LightsailCloud(LightsailClient client, LaunchConfig config, ResourceRecorder recorder, Waiter polling) {
        this(client, config, recorder, polling, config.region() + "a", DEFAULT_LAUNCH_CONCURRENCY);
    }

    private LightsailCloud(LightsailClient client, LaunchConfig config, ResourceRecorder recorder, Waiter polling,
                           String availabilityZone, int launchConcurrency) {
        this.client = client;
        this.config = config;
        this.recorder = recorder;
        this.polling = polling;
        this.availabilityZone = availabilityZone;
        this.launchConcurrency = launchConcurrency;
        LightsailSession session = new LightsailSession(client, config, recorder, polling,
                new FanOut("lightsail-" + config.workshop(), launchConcurrency));
        LightsailInstanceScan scan = new LightsailInstanceScan(session);
        this.keyPair = new LightsailKeyPair(session);
        this.firewall = new LightsailFirewall(session, scan);
        this.instances = new LightsailInstances(session, scan, firewall,
                new LightsailLaunch(session, availabilityZone, keyPair.name()));
        this.images = new LightsailImages(session);
    }

    /**
     * The production cloud: a client for the spec's region with the standard credential chain (environment, system
     * properties, profiles, SSO when its modules are present, container and instance roles). The SDK honours
     * {@code AWS_ENDPOINT_URL_LIGHTSAIL} and {@code AWS_ENDPOINT_URL} (and the {@code aws.endpointUrl*} properties and
     * profile settings) by itself, so a Lightsail-compatible endpoint needs no code change.
     */
    public static LightsailCloud connect(WorkshopSpec spec, ResourceRecorder recorder) {
        return new LightsailCloud(newClient(spec.region()), config(spec), recorder, STANDARD_POLLING);
    }

    /** The workshop as Lightsail sees it: its one bundle is the size. */
    public static LaunchConfig config(WorkshopSpec spec) {
        return LaunchConfig.of(spec, List.of(spec.lightsailBundle()));
    }

    /** A client as {@link #connect} builds it: up to 8 attempts per call, so a burst of throttling is ridden out. */
    public static LightsailClient newClient(String region) {
        return LightsailClient.builder()
                .region(Region.of(region))
                .credentialsProvider(AwsCredentialFailure.defaultChain())
                .httpClientBuilder(ApacheHttpClient.builder())
                .overrideConfiguration(o -> o.retryStrategy(b -> b.maxAttempts(8)))
                .build();
    }

    /** Instance snapshots baked per image recipe. */
    @Override
    public Optional<ImageExtension> images() {
        return Optional.of(images);
    }

    /** The instance firewalls of the live fleet. */
    @Override
    public Optional<IngressExtension> ingress() {
        return Optional.of(firewall);
    }

    /** The tags of live instances. */
    @Override
    public Optional<TaggingExtension> tagging() {
        return Optional.of(instances);
    }

    /** The same cloud launching into another zone of the region (e.g. {@code ap-northeast-1c}). */
    public LightsailCloud withAvailabilityZone(String zone) {
        if (zone == null || !zone.matches(Pattern.quote(config.region()) + "[a-z]")) {
            throw new BadInput("availability zone '" + zone + "' is not in region " + config.region()
                    + ": use one like " + config.region() + "a");
        }
        return new LightsailCloud(client, config, recorder, polling, zone, launchConcurrency);
    }

    /** The same cloud running up to {@code n} creates or deletes at once. */
    public LightsailCloud withLaunchConcurrency(int n) {
        if (n < 1 || n > 32) {
            throw new IllegalArgumentException("launch concurrency must be 1..32");
        }
        return new LightsailCloud(client, config, recorder, polling, availabilityZone, n);
    }

    /** The zone new instances go to. */
    public String availabilityZone() {
        return availabilityZone;
    }

    /** The workshop's key pair: {@code <workshop>-key}. */
    public String keyPairName() {
        return keyPair.name();
    }

    /** The key pair's name for a workshop (what {@link LightsailProfile} plans with). */
    static String keyPairName(String workshop) {
        return workshop + "-key";
    }

    @Override
    public ProviderProfile profile() {
        return PROFILE;
    }

    /** Checks the context, then imports the login key as {@code <workshop>-key} and tags it (or adopts ours). */
    @Override
    public void prepare(LaunchContext context) {
        LightsailFirewall.declared(context);
        keyPair.ensure(context.loginPublicKey());
    }

    /** One CreateInstances call per machine, a few at a time; see {@link LightsailInstances}. */
    @Override
    public List<Machine> createNodes(LaunchContext context, List<NodeRequest> requests) {
        return instances.create(context, requests);
    }

    /**
     * Polls the whole region with backoff until every named instance runs with a public address or has settled; each
     * machine is reported from the poll that saw it running, once its firewall was checked.
     */
    @Override
    public List<Machine> awaitRunning(Collection<String> machineIds, Duration timeout, Consumer<Machine> onRunning) {
        return instances.awaitRunning(machineIds, timeout, onRunning);
    }

    @Override
    public List<Machine> listNodes() {
        return instances.list();
    }

    /** Deletes these instances of the workshop and waits until they are gone; refuses names held by others. */
    @Override
    public void destroyNodes(Collection<String> machineIds) {
        instances.destroy(machineIds);
    }

    /**
     * Deletes the ledger's instances and key pairs plus whatever carries this workshop's tags: instances first
     * (NotFound means already gone), waits until they are no longer listed, then the key pairs. Every deletion is
     * reported to the recorder. A second run finds nothing and deletes nothing.
     */
    @Override
    public void teardown(Collection<CloudResource> known) {
        instances.deleteAll(known);
        keyPair.deleteAll(known);
    }

    @Override
    public void close() {
        client.close();
    }
}
