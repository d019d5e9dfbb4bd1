package org.workshopfleet.cloud.lightsail;

import org.workshopfleet.error.BadInput;
import org.workshopfleet.error.CloudFailure;
import org.workshopfleet.error.FleetException;
import org.workshopfleet.error.Interrupted;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;
import org.workshopfleet.cloud.TaggingExtension;
import org.workshopfleet.cloud.LaunchConfig;
import org.workshopfleet.cloud.IngressExtension;
import org.workshopfleet.cloud.ImageExtension;
import org.workshopfleet.cloud.Cloud;
import org.workshopfleet.cloud.CloudResource;
import org.workshopfleet.cloud.LaunchContext;
import org.workshopfleet.cloud.Machine;
import org.workshopfleet.cloud.MachineImage;
import org.workshopfleet.cloud.MachineState;
import org.workshopfleet.cloud.NodeRequest;
import org.workshopfleet.cloud.RecipeHash;
import org.workshopfleet.cloud.ResourceKind;
import org.workshopfleet.cloud.ResourceRecorder;
import org.workshopfleet.cloud.UserDataFormat;
import org.workshopfleet.concurrent.FanOut;
import org.workshopfleet.concurrent.Waiter;
import org.workshopfleet.spec.Tags;
import org.workshopfleet.spec.WorkshopSpec;
import org.workshopfleet.ssh.KeyFingerprint;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.lightsail.LightsailClient;
import software.amazon.awssdk.services.lightsail.model.GetInstancesResponse;
import software.amazon.awssdk.services.lightsail.model.GetKeyPairsResponse;
import software.amazon.awssdk.services.lightsail.model.Instance;
import software.amazon.awssdk.services.lightsail.model.InstancePortInfo;
import software.amazon.awssdk.services.lightsail.model.InvalidInputException;
import software.amazon.awssdk.services.lightsail.model.IpAddressType;
import software.amazon.awssdk.services.lightsail.model.KeyPair;
import software.amazon.awssdk.services.lightsail.model.NotFoundException;
import software.amazon.awssdk.services.lightsail.model.OperationFailureException;
import software.amazon.awssdk.services.lightsail.model.PortInfo;
import software.amazon.awssdk.services.lightsail.model.Tag;

/**
 * Workshop machines on Amazon Lightsail, through the SDK v2 {@link LightsailClient}.
 *
 * <p>Resources: one imported key pair {@code <workshop>-key} and one instance {@code <workshop>-NN} per attendee
 * (blueprint {@code ubuntu_22_04}, the spec's bundle, IPv4 only), each with a firewall holding exactly the declared
 * ingress for the facilitator's CIDR. Everything carries the workshop's tags, so teardown finds it without a ledger.
 *
 * <p>Lightsail names are unique across all resource types and CreateInstances is not idempotent, so a name that
 * already exists is adopted when the instance carries this workshop's tags (a re-run, or a retry after a lost
 * response) and is an error otherwise. One CreateInstances call launches one machine: every machine gets its own
 * launch script (pinned host key, passwords), and a call takes one {@code userData} for all its names.
 *
 * <p>Lightsail's SDK has no waiters or paginators: waiting pages GetInstances over the whole region with backoff, so a
 * poll costs {@code ceil(instances / page size)} calls however many machines are waited for.
 *
 * <p>Bake mode: {@link #captureImage} makes an instance snapshot shared by every workshop of the same image recipe
 * (see {@link LightsailImages}), and a {@link LaunchContext#imageId()} makes {@link #createNodes} use
 * CreateInstancesFromSnapshot instead of CreateInstances, one machine per call as before.
 *
 * <p>Thread-safe; launches and deletions run a few at a time ({@link #withLaunchConcurrency(int)}), and the
 * {@link ResourceRecorder} is called from those threads.
 */
public final class LightsailCloud implements Cloud, ImageExtension, IngressExtension, TaggingExtension {

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
    private static final String WAITING_FOR = "waiting for Lightsail";

    /** Tries of a call on a just-created resource that answers NotFound. */
    private static final int NOT_FOUND_ATTEMPTS = 5;
    private static final Pattern INSTANCE_NAME = Pattern.compile("\\w[\\w\\-]*\\w");
    /** States after which an instance will not become running by itself. */
    private static final Set<MachineState> SETTLED = Set.of(MachineState.STOPPING, MachineState.STOPPED,
            MachineState.SHUTTING_DOWN, MachineState.TERMINATED);

    private final LightsailClient client;
    private final LaunchConfig config;
    private final ResourceRecorder recorder;
    private final Waiter polling;
    private final String availabilityZone;
    private final int launchConcurrency;
    /** The firewall this object last put on the fleet; awaitRunning re-checks running instances against it. */
    private final AtomicReference<Firewall> fleetFirewall = new AtomicReference<>();
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
        this.images = new LightsailImages(client, config.region(), polling);
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
                .credentialsProvider(DefaultCredentialsProvider.builder().build())
                .httpClientBuilder(ApacheHttpClient.builder())
                .overrideConfiguration(o -> o.retryStrategy(b -> b.maxAttempts(8)))
                .build();
    }

    @Override
    public Optional<ImageExtension> images() {
        return Optional.of(this);
    }

    @Override
    public Optional<IngressExtension> ingress() {
        return Optional.of(this);
    }

    @Override
    public Optional<TaggingExtension> tagging() {
        return Optional.of(this);
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

    public String availabilityZone() {
        return availabilityZone;
    }

    /** The workshop's key pair: {@code <workshop>-key}. */
    public String keyPairName() {
        return keyPairName(config.workshop());
    }

    /** The key pair's name for a workshop (what {@link LightsailProfile} plans with). */
    static String keyPairName(String workshop) {
        return workshop + "-key";
    }

    @Override
    public String providerName() {
        return "lightsail";
    }

    @Override
    public UserDataFormat userDataFormat() {
        return UserDataFormat.SHELL_SCRIPT;
    }

    // ------------------------------------------------------------------ prepare

    /** Imports the login key as {@code <workshop>-key} and tags it; adopts it when it is already this workshop's. */
    @Override
    public void prepare(LaunchContext context) {
        firewall(context);
        String key = keyPairName();
        String line = context.loginPublicKey().trim();
        try {
            client.importKeyPair(b -> b.keyPairName(key).publicKeyBase64(line));
            recorder.created(new CloudResource(ResourceKind.KEY_PAIR, key, key, 0));
        } catch (InvalidInputException e) {
            if (!isNameExists(e)) {
                throw ApiFailure.of("importing key pair " + key, config.region(), e);
            }
            if (adoptKeyPair(key, line)) {
                return;
            }
        } catch (SdkException e) {
            throw ApiFailure.of("importing key pair " + key, config.region(), e);
        }
        // ImportKeyPair takes no tags: tag afterwards, so teardown finds the key without the ledger.
        tag(key);
    }

    /** Returns true when the existing key is ours and already tagged; false when it still needs the tags. */
    private boolean adoptKeyPair(String key, String line) {
        KeyPair existing;
        try {
            existing = client.getKeyPair(b -> b.keyPairName(key)).keyPair();
        } catch (NotFoundException e) {
            throw new BadInput("the name " + key + " is taken by another Lightsail resource in " + config.region()
                    + ": delete it or choose another workshop name (-Dname=...)");
        } catch (SdkException e) {
            throw ApiFailure.of("reading key pair " + key, config.region(), e);
        }
        boolean tagged = isOurs(existing.tags());
        // Which form Lightsail reports for an imported ed25519 key is undocumented (docs/aws-facts.md): accept either.
        boolean sameKey = KeyFingerprint.sha256Matches(existing.fingerprint(), line)
                || KeyFingerprint.md5Matches(existing.fingerprint(), line);
        if (!tagged && !sameKey) {
            throw new BadInput("Lightsail key pair " + key + " in " + config.region() + " already exists and is not"
                    + " this workshop's: delete it in the Lightsail console or choose another workshop name (-Dname=...)");
        }
        // Tagged as ours but made from another state folder: its machines would not take this folder's login key. Only
        // a fingerprint in the form we can compute is held against it (its form is not documented: docs/aws-facts.md).
        if (tagged && !sameKey && KeyFingerprint.isSha256Form(existing.fingerprint())) {
            throw new BadInput("Lightsail key pair " + key + " in " + config.region() + " belongs to workshop '"
                    + config.workshop() + "' but holds another login key than the state folder " + config.stateDir()
                    + ": it was made from another state folder; run the command there, or remove that fleet with"
                    + " -Daction=teardown (it is found by tag) and run up again, or choose another -Dname");
        }
        recorder.created(new CloudResource(ResourceKind.KEY_PAIR, key, key, 0));
        return tagged;
    }

    private void tag(String resourceName) {
        List<Tag> tags = sdkTags(config.baseTags());
        try {
            afterCreate(() -> client.tagResource(b -> b.resourceName(resourceName).tags(tags)));
        } catch (SdkException e) {
            throw ApiFailure.of("tagging " + resourceName, config.region(), e);
        }
    }

    /**
     * Runs a call on a resource created moments ago, retrying NotFound a few times with backoff: a new name may not
     * have reached every Lightsail endpoint yet (eventual consistency, as on EC2).
     */
    private void afterCreate(Runnable call) {
        for (int attempt = 1; ; attempt++) {
            try {
                call.run();
                return;
            } catch (NotFoundException e) {
                if (attempt == NOT_FOUND_ATTEMPTS) {
                    throw e;
                }
                polling.pause(attempt - 1, WAITING_FOR);
            }
        }
    }

    // ------------------------------------------------------------------ create

    /**
     * Launches one instance per request (one CreateInstances call each, a few at a time), records it, and puts its
     * firewall. Before creating anything, one scan of the region finds names already in use: this workshop's are
     * adopted (their firewall re-applied only if it differs), anybody else's stop the launch with nothing created.
     */
    @Override
    public List<Machine> createNodes(LaunchContext context, List<NodeRequest> requests) {
        Firewall firewall = firewall(context);
        Set<String> names = new HashSet<>();
        for (NodeRequest r : requests) {
            if (!INSTANCE_NAME.matcher(r.name()).matches()) {
                throw new BadInput("machine name '" + r.name() + "' is not a valid Lightsail name: use letters,"
                        + " digits, '-' and '_' (choose another -Dname)");
            }
            if (!names.add(r.name())) {
                throw new BadInput("machine name " + r.name() + " is requested twice: each attendee needs its own name");
            }
            if (r.userData() == null || r.userData().isBlank()) {
                throw new BadInput("the launch script for " + r.name() + " is empty: Lightsail machines get their"
                        + " host key and login key from it; render it before launching");
            }
        }
        fleetFirewall.set(firewall);
        Map<String, Instance> existing = scanInstances();
        for (NodeRequest r : requests) {
            Instance i = existing.get(r.name());
            if (i != null && !isOurs(i.tags())) {
                throw foreignInstance(r.name(), i);
            }
        }
        List<Callable<Machine>> tasks = new ArrayList<>();
        for (NodeRequest r : requests) {
            Instance i = existing.get(r.name());
            tasks.add(i == null ? () -> launch(r, context, firewall) : () -> adoptListed(i, firewall));
        }
        return runAll(tasks);
    }

    private Machine adoptListed(Instance i, Firewall firewall) {
        Machine m = toMachine(i);
        recorder.created(new CloudResource(ResourceKind.INSTANCE, i.name(), i.name(), m.attendee()));
        if (i.networking() == null || !firewall.matches(i.networking().ports())) {
            putFirewall(i.name(), firewall);
        }
        return m;
    }

    private Machine launch(NodeRequest r, LaunchContext context, Firewall firewall) {
        List<Tag> tags = sdkTags(tagsFor(r, context));
        Machine machine;
        try {
            createInstance(r, context, tags);
            recorder.created(new CloudResource(ResourceKind.INSTANCE, r.name(), r.name(), r.attendee()));
            machine = new Machine(r.name(), r.name(), r.attendee(), MachineState.PENDING, null, config.sizes().get(0),
                    Instant.now().truncatedTo(ChronoUnit.SECONDS));
        } catch (InvalidInputException e) {
            if (!isNameExists(e)) {
                throw ApiFailure.of("launching " + r.name(), config.region(), e);
            }
            machine = adoptAfterNameExists(r);
        } catch (SdkException e) {
            throw ApiFailure.of("launching " + r.name(), config.region(), e);
        }
        try {
            putFirewall(r.name(), firewall);
        } catch (FleetException e) {
            // Refused while the instance is still pending: awaitRunning puts it again once the instance runs.
            if (!(e.getCause() instanceof InvalidInputException || e.getCause() instanceof OperationFailureException)) {
                throw e;
            }
        }
        return machine;
    }

    /**
     * One CreateInstances call, or CreateInstancesFromSnapshot when the context names a baked image: the same zone,
     * bundle, key pair, launch script and tags either way.
     */
    private void createInstance(NodeRequest r, LaunchContext context, List<Tag> tags) {
        if (context.imageId() == null) {
            client.createInstances(b -> b.instanceNames(r.name())
                    .availabilityZone(availabilityZone)
                    .blueprintId(BLUEPRINT)
                    .bundleId(config.sizes().get(0))
                    .userData(r.userData())
                    .keyPairName(keyPairName())
                    .ipAddressType(IpAddressType.IPV4)
                    .tags(tags));
            return;
        }
        try {
            client.createInstancesFromSnapshot(b -> b.instanceNames(r.name())
                    .availabilityZone(availabilityZone)
                    .instanceSnapshotName(context.imageId())
                    .bundleId(config.sizes().get(0))
                    .userData(r.userData())
                    .keyPairName(keyPairName())
                    .ipAddressType(IpAddressType.IPV4)
                    .tags(tags));
        } catch (NotFoundException e) {
            throw new CloudFailure("the baked image " + context.imageId() + " (a Lightsail instance snapshot) is gone"
                    + " from " + config.region() + ": re-run to bake it again", e);
        }
    }

    // ------------------------------------------------------------------ baked images

    /** The available instance snapshot baked for this recipe (see {@link LightsailImages}). */
    @Override
    public Optional<MachineImage> findImage(String recipeHash) {
        return images.find(new RecipeHash(recipeHash));
    }

    /**
     * CreateInstanceSnapshot of the instance named {@code machineId}, tagged for the recipe and never for the
     * workshop, then waits until the snapshot is available; this recipe's snapshot already being made is adopted.
     */
    @Override
    public MachineImage captureImage(String machineId, String recipeHash, Duration timeout) {
        return images.capture(machineId, new RecipeHash(recipeHash), timeout);
    }

    @Override
    public List<MachineImage> listImages() {
        return images.list();
    }

    /** DeleteInstanceSnapshot; a snapshot already gone counts as removed. */
    @Override
    public void removeImage(MachineImage image) {
        images.remove(image);
    }

    /** NameExists after the scan said the name was free: most likely our own create whose response was lost. */
    private Machine adoptAfterNameExists(NodeRequest r) {
        Instance i;
        try {
            i = client.getInstance(b -> b.instanceName(r.name())).instance();
        } catch (NotFoundException e) {
            throw new BadInput("the name " + r.name() + " is taken by another Lightsail resource (key pair, disk,"
                    + " static IP...) in " + config.region() + ": delete it or choose another workshop name (-Dname=...)");
        } catch (SdkException e) {
            throw ApiFailure.of("reading instance " + r.name(), config.region(), e);
        }
        if (!isOurs(i.tags())) {
            throw foreignInstance(r.name(), i);
        }
        recorder.created(new CloudResource(ResourceKind.INSTANCE, r.name(), r.name(), r.attendee()));
        return toMachine(i);
    }

    private FleetException foreignInstance(String name, Instance i) {
        String owner = tagValue(i.tags(), Tags.WORKSHOP);
        return new BadInput("Lightsail instance " + name + " in " + config.region() + " already exists and is not"
                + " this workshop's (" + (owner == null ? "no Workshop tag" : "Workshop=" + owner) + "): choose another"
                + " workshop name (-Dname=...) or delete that instance");
    }

    private void putFirewall(String name, Firewall firewall) {
        try {
            afterCreate(() -> client.putInstancePublicPorts(b -> b.instanceName(name).portInfos(firewall.portInfos())));
        } catch (SdkException e) {
            throw ApiFailure.of("setting the firewall of " + name + " to " + firewall.cidr()
                    + " (its default ports 22 and 80 may still be open to the world)", config.region(), e);
        }
    }

    private Map<String, String> tagsFor(NodeRequest r, LaunchContext context) {
        Map<String, String> tags = new LinkedHashMap<>();
        tags.put(Tags.NAME, r.name());
        tags.put(Tags.ATTENDEE, String.format(Locale.ROOT, "%02d", r.attendee()));
        tags.put(Tags.EXPIRES_AT, context.expiresAt().truncatedTo(ChronoUnit.SECONDS).toString());
        tags.putAll(new TreeMap<>(r.tags()));
        tags.putAll(config.baseTags());
        return tags;
    }

    // ------------------------------------------------------------------ wait and list

    /**
     * Polls the whole region (all GetInstances pages) with backoff until every named instance is running with a
     * public address or has settled in a state it will not leave by itself, or until the timeout. Instances never
     * listed come back as {@link MachineState#UNKNOWN}.
     */
    /** As above; each machine is reported from the poll that saw it running, once its firewall was checked. */
    @Override
    public List<Machine> awaitRunning(Collection<String> machineIds, Duration timeout,
                                      java.util.function.Consumer<Machine> onRunning) {
        List<String> names = List.copyOf(machineIds);
        Set<String> reported = new HashSet<>();
        if (names.isEmpty()) {
            return List.of();
        }
        Instant deadline = Instant.now().plus(timeout);
        int attempt = 0;
        Map<String, Instance> seen = Map.of();
        Set<String> firewallChecked = new HashSet<>();
        while (true) {
            polling.pause(attempt, deadline, WAITING_FOR);
            try {
                seen = scanInstances();
            } catch (FleetException e) {
                if (!(e.getCause() instanceof SdkException s && ApiFailure.isTransient(s))) {
                    throw e;
                }
            }
            repairFirewalls(names, seen, firewallChecked);
            for (String n : names) {
                Instance i = seen.get(n);
                if (i != null && toMachine(i).isRunningWithAddress() && reported.add(n)) {
                    onRunning.accept(toMachine(i));
                }
            }
            Map<String, Instance> now = seen;
            boolean done = names.stream().allMatch(n -> now.containsKey(n) && settled(toMachine(now.get(n))));
            if (done || !Instant.now().isBefore(deadline)) {
                break;
            }
            attempt++;
        }
        List<Machine> out = new ArrayList<>();
        for (String n : names) {
            Instance i = seen.get(n);
            out.add(i != null ? toMachine(i)
                    : new Machine(n, n, attendeeFromName(n), MachineState.UNKNOWN, null, config.sizes().get(0), null));
        }
        return out;
    }

    /**
     * Checks each instance once, as soon as a poll shows it running, against the firewall this object put on the fleet,
     * and puts it again when the instance reports anything else. Whether Lightsail accepts a Put on a pending instance,
     * and whether that Put survives the first boot, is undocumented (docs/aws-facts.md); the poll returns the ports
     * anyway, so a check that matches costs no call. A Put that fails here is an error: the machine may be open to
     * the world.
     */
    private void repairFirewalls(List<String> names, Map<String, Instance> seen, Set<String> checked) {
        Firewall firewall = fleetFirewall.get();
        if (firewall == null) {
            return;
        }
        List<Callable<Machine>> repairs = new ArrayList<>();
        for (String n : names) {
            Instance i = seen.get(n);
            if (i == null || checked.contains(n) || toMachine(i).state() != MachineState.RUNNING) {
                continue;
            }
            checked.add(n);
            if (i.networking() == null || !firewall.matches(i.networking().ports())) {
                repairs.add(() -> {
                    putFirewall(n, firewall);
                    return null;
                });
            }
        }
        runAll(repairs);
    }

    private static boolean settled(Machine m) {
        return m.isRunningWithAddress() || SETTLED.contains(m.state());
    }

    @Override
    public List<Machine> listNodes() {
        return scanInstances().values().stream()
                .filter(i -> isOurs(i.tags()))
                .map(this::toMachine)
                .filter(m -> !m.state().isGone())
                .toList();
    }

    // ------------------------------------------------------------------ destroy

    /** Deletes these instances of the workshop and waits until they are gone; refuses names held by others. */
    @Override
    public void destroyNodes(Collection<String> machineIds) {
        Set<String> names = new TreeSet<>(machineIds);
        Map<String, Instance> listed = scanInstances();
        for (String n : names) {
            Instance i = listed.get(n);
            if (i != null && !isOurs(i.tags())) {
                throw foreignInstance(n, i);
            }
        }
        deleteInstances(names);
        awaitGone(names);
    }

    /**
     * Deletes the ledger's instances and key pairs plus whatever carries this workshop's tags: instances first
     * (NotFound means already gone), waits until they are no longer listed, then the key pairs. Every deletion is
     * reported to the recorder. A second run finds nothing and deletes nothing.
     */
    @Override
    public void teardown(Collection<CloudResource> known) {
        Map<String, Instance> listed = scanInstances();
        Set<String> instances = new TreeSet<>();
        for (CloudResource r : known) {
            Instance i = listed.get(r.id());
            // A ledger name now held by someone else's instance is not ours to delete.
            if (r.kind() == ResourceKind.INSTANCE && (i == null || isOurs(i.tags()))) {
                instances.add(r.id());
            }
        }
        listed.values().stream().filter(i -> isOurs(i.tags())).forEach(i -> instances.add(i.name()));
        deleteInstances(instances);
        awaitGone(instances);

        Set<String> keys = new TreeSet<>();
        known.stream().filter(r -> r.kind() == ResourceKind.KEY_PAIR).forEach(r -> keys.add(r.id()));
        scanKeyPairs().stream().filter(k -> isOurs(k.tags())).forEach(k -> keys.add(k.name()));
        for (String key : keys) {
            try {
                client.deleteKeyPair(b -> b.keyPairName(key));
            } catch (NotFoundException e) {
                // already gone
            } catch (SdkException e) {
                throw ApiFailure.of("deleting key pair " + key, config.region(), e);
            }
            recorder.deleted(ResourceKind.KEY_PAIR, key);
        }
    }

    private void deleteInstances(Set<String> names) {
        List<Callable<Machine>> tasks = new ArrayList<>();
        for (String name : names) {
            tasks.add(() -> {
                try {
                    client.deleteInstance(b -> b.instanceName(name).forceDeleteAddOns(true));
                } catch (NotFoundException e) {
                    // already gone (or a retry after a lost response)
                } catch (SdkException e) {
                    throw ApiFailure.of("deleting instance " + name, config.region(), e);
                }
                recorder.deleted(ResourceKind.INSTANCE, name);
                return null;
            });
        }
        runAll(tasks);
    }

    private void awaitGone(Set<String> names) {
        if (names.isEmpty()) {
            return;
        }
        Instant deadline = Instant.now().plus(polling.timeout());
        int attempt = 0;
        while (true) {
            polling.pause(attempt, deadline, WAITING_FOR);
            Map<String, Instance> listed = scanInstances();
            Set<String> left = new TreeSet<>();
            for (String n : names) {
                // Listed as shutting down or terminated counts as gone: it will not come back.
                if (listed.containsKey(n) && !state(listed.get(n)).isGone()) {
                    left.add(n);
                }
            }
            if (left.isEmpty()) {
                return;
            }
            if (!Instant.now().isBefore(deadline)) {
                throw new CloudFailure("Lightsail still lists " + String.join(", ", left) + " "
                        + polling.timeout().toMinutes() + " min after deleting them: run teardown again");
            }
            attempt++;
        }
    }

    // ------------------------------------------------------------------ ingress

    /**
     * Leaves every live instance of the workshop admitting exactly the declared ports from the new CIDR, whatever the
     * ledger says was there: IPv6 rules and aliases (another tool's, a dual-stack switch) are closed first, then one
     * Put replaces every IPv4 rule (an old CIDR, a port someone opened), and a final scan checks each running instance.
     */
    @Override
    public void replaceIngress(LaunchContext context) {
        Firewall firewall = firewall(context);
        fleetFirewall.set(firewall);
        List<Callable<Machine>> tasks = new ArrayList<>();
        Set<String> running = new TreeSet<>();
        for (Instance i : scanInstances().values()) {
            Machine m = isOurs(i.tags()) ? toMachine(i) : null;
            if (m == null || m.state().isGone()) {
                continue;
            }
            if (m.state() == MachineState.RUNNING) {
                running.add(i.name());
            }
            List<InstancePortInfo> ports = i.networking() == null ? List.of() : i.networking().ports();
            tasks.add(() -> {
                for (PortInfo close : Firewall.closings(ports)) {
                    try {
                        client.closeInstancePublicPorts(b -> b.instanceName(i.name()).portInfo(close));
                    } catch (SdkException e) {
                        throw ApiFailure.of("closing IPv6 and alias rules of " + i.name(), config.region(), e);
                    }
                }
                putFirewall(i.name(), firewall);
                return m;
            });
        }
        runAll(tasks);
        Map<String, Instance> after = scanInstances();
        for (String name : running) {
            Instance i = after.get(name);
            if (i != null && (i.networking() == null || !firewall.matches(i.networking().ports()))) {
                throw new CloudFailure("the firewall of Lightsail instance " + name + " still admits more than "
                        + firewall.cidr() + " on the declared ports (changed while this ran?): re-run -Daction=allow-ip");
            }
        }
    }

    @Override
    public void retag(Collection<String> machineIds, Map<String, String> tags) {
        List<Tag> sdkTags = sdkTags(tags);
        List<Callable<Machine>> tasks = new ArrayList<>();
        for (String name : machineIds) {
            tasks.add(() -> {
                try {
                    client.tagResource(b -> b.resourceName(name).tags(sdkTags));
                } catch (SdkException e) {
                    throw ApiFailure.of("tagging " + name, config.region(), e);
                }
                return null;
            });
        }
        runAll(tasks);
    }

    @Override
    public void close() {
        client.close();
    }

    // ------------------------------------------------------------------ shared

    /** Validates what a launch needs from the context, before anything is created. */
    private Firewall firewall(LaunchContext context) {
        String key = context.loginPublicKey();
        if (key == null || !key.trim().matches("ssh-[a-z0-9-]+ [A-Za-z0-9+/]+=*( [^\\r\\n]*)?")) {
            throw new BadInput("the workshop's login public key is not one OpenSSH line (ssh-ed25519 AAAA...):"
                    + " delete the key files in the state folder so a new key is generated");
        }
        String cidr = context.cidr().toString();
        if (context.ingress().isEmpty()) {
            throw new BadInput("no ingress port is declared: restore security-groups/workshop.json");
        }
        return new Firewall(context.ingress(), cidr);
    }

    /** Every instance in the region by name: all GetInstances pages. */
    private Map<String, Instance> scanInstances() {
        Map<String, Instance> out = new TreeMap<>();
        String token = null;
        do {
            String page = token;
            GetInstancesResponse r;
            try {
                r = client.getInstances(b -> b.pageToken(page));
            } catch (SdkException e) {
                throw ApiFailure.of("listing instances", config.region(), e);
            }
            r.instances().forEach(i -> out.put(i.name(), i));
            token = r.nextPageToken();
        } while (token != null && !token.isEmpty());
        return out;
    }

    private List<KeyPair> scanKeyPairs() {
        List<KeyPair> out = new ArrayList<>();
        String token = null;
        do {
            String page = token;
            GetKeyPairsResponse r;
            try {
                r = client.getKeyPairs(b -> b.pageToken(page));
            } catch (SdkException e) {
                throw ApiFailure.of("listing key pairs", config.region(), e);
            }
            out.addAll(r.keyPairs());
            token = r.nextPageToken();
        } while (token != null && !token.isEmpty());
        return out;
    }

    /**
     * Runs per-machine calls a few at a time: Lightsail has no batch form of CreateInstances (per-machine launch
     * script), PutInstancePublicPorts or DeleteInstance, and one at a time would make 100 machines take minutes. After
     * the first failure no new call starts; calls in flight finish (they record what they did).
     */
    private <T> List<T> runAll(List<Callable<T>> tasks) {
        try {
            return new FanOut("lightsail-" + config.workshop(), launchConcurrency).all(tasks);
        } catch (Interrupted e) {
            throw new Interrupted("talking to Lightsail");
        }
    }

    private boolean isOurs(List<Tag> tags) {
        return config.workshop().equals(tagValue(tags, Tags.WORKSHOP))
                && Tags.MANAGED_BY_VALUE.equals(tagValue(tags, Tags.MANAGED_BY));
    }

    static String tagValue(List<Tag> tags, String key) {
        for (Tag t : tags) {
            if (key.equals(t.key())) {
                return t.value();
            }
        }
        return null;
    }

    static boolean isNameExists(InvalidInputException e) {
        return "NameExists".equals(e.code())
                || (e.awsErrorDetails() != null && String.valueOf(e.awsErrorDetails().errorMessage()).contains("already in use"));
    }

    private static List<Tag> sdkTags(Map<String, String> tags) {
        return tags.entrySet().stream().map(e -> Tag.builder().key(e.getKey()).value(e.getValue()).build()).toList();
    }

    private Machine toMachine(Instance i) {
        int attendee;
        try {
            attendee = Integer.parseInt(String.valueOf(tagValue(i.tags(), Tags.ATTENDEE)));
        } catch (NumberFormatException e) {
            attendee = attendeeFromName(i.name());
        }
        String ip = i.publicIpAddress() == null || i.publicIpAddress().isBlank() ? null : i.publicIpAddress();
        return new Machine(i.name(), i.name(), attendee, state(i), ip, i.bundleId(), i.createdAt());
    }

    private static MachineState state(Instance i) {
        String name = i.state() == null ? "" : String.valueOf(i.state().name());
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "pending", "starting" -> MachineState.PENDING;
            case "running" -> MachineState.RUNNING;
            case "stopping" -> MachineState.STOPPING;
            case "stopped" -> MachineState.STOPPED;
            case "shutting-down" -> MachineState.SHUTTING_DOWN;
            case "terminated" -> MachineState.TERMINATED;
            default -> MachineState.UNKNOWN;
        };
    }

    private static int attendeeFromName(String name) {
        int dash = name.lastIndexOf('-');
        String tail = dash < 0 ? "" : name.substring(dash + 1);
        return tail.matches("\\d{1,4}") ? Integer.parseInt(tail) : 0;
    }


}
