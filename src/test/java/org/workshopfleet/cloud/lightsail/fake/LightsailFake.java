package org.workshopfleet.cloud.lightsail.fake;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.workshopfleet.cloud.FakeHttpServer;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.retries.api.BackoffStrategy;
import software.amazon.awssdk.services.lightsail.LightsailClient;

/**
 * A stand-in for Amazon Lightsail, for contract tests only: an in-process HTTP server on 127.0.0.1 that speaks the
 * AWS JSON 1.1 protocol of the Amazon Lightsail API Reference, so the real SDK {@link LightsailClient} can be pointed at
 * it through an endpoint override. It is not Lightsail: it models only what the product relies on.
 *
 * <ul>
 *   <li>Transport: {@code POST /}, routed on {@code X-Amz-Target: Lightsail_20161128.<Op>}; answers
 *       {@code application/x-amz-json-1.1} with an {@code x-amzn-RequestId} header; timestamps are epoch seconds.
 *       Signatures are not checked.</li>
 *   <li>Errors: {@code {"__type","message","code"}}, status 400, or 500 for {@code ServiceException}.</li>
 *   <li>State: instances go pending → running after {@link #pendingPolls(int)} observations (by GetInstance,
 *       GetInstances or GetInstanceState) and get a public address only then; names are unique across instances,
 *       key pairs and other resources ({@code NameExists}); tags; GetInstances and GetKeyPairs page with
 *       {@code nextPageToken}; each instance's IPv4 firewall starts with the OS-blueprint defaults 22 and 80 open to
 *       {@code 0.0.0.0/0} until PutInstancePublicPorts replaces it; DeleteInstance removes the instance at once.</li>
 *   <li>Instance snapshots: CreateInstanceSnapshot (of a running or stopped instance; its name unique across resource
 *       types), pending for {@link #snapshotPendingPolls(int)} observations then {@code available} (or {@code error},
 *       {@link #failNextSnapshot()}), GetInstanceSnapshot(s) with paging, DeleteInstanceSnapshot, and
 *       CreateInstancesFromSnapshot from an available snapshot on its bundle or a larger one (the size rule is the
 *       stricter reading of an unconfirmed fact), with the same name, key and quota checks as CreateInstances.</li>
 *   <li>Firewall: PutInstancePublicPorts replaces the rules; OpenInstancePublicPorts adds one and
 *       CloseInstancePublicPorts removes the named sources of one (as another tool or a person would);
 *       {@code cidrListAliases} takes only {@code lightsail-connect}; {@link #ipAddressType} makes an instance
 *       dual-stack.</li>
 *   <li>Not modelled: operations, static IPs, disk snapshots, add-ons, real quotas (see {@link #instanceQuota(int)}).
 *       Where Lightsail's documentation is silent, the fake takes the stricter reading: on a dualstack instance a
 *       Put without {@code ipv6Cidrs} leaves the IPv6 rules open.</li>
 * </ul>
 *
 * <p>Every request is logged ({@link #requests()}); faults can be injected at a seeded rate or on chosen calls, and
 * {@link #beforeServing} can hold a call in flight.
 */
public final class LightsailFake implements AutoCloseable {

    public static final String TARGET_PREFIX = "Lightsail_20161128.";
    public static final String DEFAULT_KEY_PAIR = "LightsailDefaultKeyPair";
    public static final String JSON_TYPE = "application/x-amz-json-1.1";

    /** One request as received, with the status and error type the fake answered. */
    public record Request(String operation, JsonNode body, int status, String errorType) {
        public boolean succeeded() {
            return status == 200;
        }
    }

    /** One firewall rule of an instance: who may connect as IPv4 and IPv6 CIDRs and aliases ({@code lightsail-connect}). */
    public record PortRule(int fromPort, int toPort, String protocol, List<String> cidrs, List<String> ipv6Cidrs,
                           List<String> cidrListAliases) {
        public PortRule {
            cidrs = List.copyOf(cidrs);
            ipv6Cidrs = List.copyOf(ipv6Cidrs);
            cidrListAliases = List.copyOf(cidrListAliases);
        }

        /** A rule without aliases. */
        public PortRule(int fromPort, int toPort, String protocol, List<String> cidrs, List<String> ipv6Cidrs) {
            this(fromPort, toPort, protocol, cidrs, ipv6Cidrs, List.of());
        }

        boolean admitsNobody() {
            return cidrs.isEmpty() && ipv6Cidrs.isEmpty() && cidrListAliases.isEmpty();
        }
    }

    /** A snapshot of one fake instance. */
    public record InstanceView(String name, String state, String publicIp, String bundleId, String blueprintId,
                               String availabilityZone, String ipAddressType, String keyPairName, String userData,
                               Map<String, String> tags, List<PortRule> ports) {
    }

    /** A snapshot of one fake key pair. */
    public record KeyPairView(String name, String publicKey, String fingerprint, Map<String, String> tags) {
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern NAME = Pattern.compile("\\w[\\w\\-]*\\w");
    private static final Pattern IPV4_CIDR = Pattern.compile("(\\d{1,3}\\.){3}\\d{1,3}/\\d{1,2}");
    private static final Set<String> PROTOCOLS = Set.of("tcp", "all", "udp", "icmp", "icmpv6");
    private static final Set<String> BLUEPRINTS = Set.of("ubuntu_22_04", "ubuntu_24_04", "debian_12", "amazon_linux_2023");
    private static final Set<String> BUNDLES = Set.of("nano_3_0", "micro_3_0", "small_3_0", "medium_3_0", "large_3_0",
            "xlarge_3_0", "2xlarge_3_0");

    private final FakeHttpServer server;
    private final String region;
    /** Sees each request's operation before it is answered, outside the lock; may block it (a call in flight). */
    private volatile Consumer<String> beforeServing = operation -> { };

    // Everything below is guarded by "this".
    private final Map<String, FakeInstance> instances = new TreeMap<>();
    private final Map<String, FakeKeyPair> keyPairs = new TreeMap<>();
    private final Map<String, String> otherResources = new TreeMap<>();
    private final Map<String, FakeSnapshot> snapshots = new TreeMap<>();
    private int snapshotPendingPolls = 2;
    private boolean failNextSnapshot;
    private final List<Request> requests = new ArrayList<>();
    private final Map<String, Deque<Fault>> scheduledFaults = new HashMap<>();
    private Random random = new Random(1);
    private double faultRate;
    private Fault rateFault;
    private Set<String> rateOperations = Set.of();
    private int pageSize = 10;
    private int pendingPolls = 2;
    private int instanceQuota = Integer.MAX_VALUE;
    private int addresses;
    private boolean resetPortsAtBoot;
    private org.workshopfleet.cloud.ec2.fake.InstanceBackend backend;

    private LightsailFake(String region) {
        this.region = region;
        keyPairs.put(DEFAULT_KEY_PAIR, new FakeKeyPair(DEFAULT_KEY_PAIR, "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ default",
                "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff", now()));
        this.server = FakeHttpServer.start("lightsail-fake", 8, this::handle);
    }

    /** Starts a fake for one region on a free loopback port. */
    public static LightsailFake start(String region) {
        return new LightsailFake(region);
    }

    public URI endpoint() {
        return server.endpoint();
    }

    public String region() {
        return region;
    }

    /**
     * A fresh SDK client pointed at this fake, with static test credentials and a quick retry schedule (8 attempts,
     * millisecond backoff, no circuit breaker) so injected faults are survived without slowing tests down.
     */
    public LightsailClient newClient() {
        BackoffStrategy quick = BackoffStrategy.exponentialDelay(Duration.ofMillis(2), Duration.ofMillis(20));
        return LightsailClient.builder()
                .region(Region.of(region))
                .endpointOverride(endpoint())
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("AKIDFAKEFAKEFAKE", "fake")))
                .httpClientBuilder(ApacheHttpClient.builder())
                .overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.standardRetryStrategy().toBuilder()
                        .maxAttempts(8).backoffStrategy(quick).throttlingBackoffStrategy(quick)
                        .circuitBreakerEnabled(false).build()))
                .build();
    }

    @Override
    public void close() {
        server.close();
    }

    // ---------------------------------------------------------------- configuration

    /**
     * Hands each request's operation ({@code GetInstances} …) to {@code hook} on the serving thread before the fake
     * answers it, outside its lock: a hook that blocks holds that one call in flight while other calls are served.
     */
    public LightsailFake beforeServing(Consumer<String> hook) {
        this.beforeServing = java.util.Objects.requireNonNull(hook, "hook");
        return this;
    }

    /** Page size of GetInstances and GetKeyPairs (default 10). */
    public synchronized LightsailFake pageSize(int size) {
        this.pageSize = size;
        return this;
    }

    /** How many observations an instance stays pending before it is running (default 2). */
    public synchronized LightsailFake pendingPolls(int polls) {
        this.pendingPolls = polls;
        return this;
    }

    /** Instances allowed in the region; CreateInstances beyond it fails with {@link Fault#QUOTA}. */
    public synchronized LightsailFake instanceQuota(int quota) {
        this.instanceQuota = quota;
        return this;
    }

    /**
     * Makes instances come up with the OS-blueprint default firewall whatever was put while they were pending: the
     * pessimistic reading of an undocumented behaviour, to test that the cloud re-checks running instances.
     */
    public synchronized LightsailFake resetPortsAtBoot(boolean reset) {
        this.resetPortsAtBoot = reset;
        return this;
    }

    /**
     * What boots behind the instances (default: nothing; addresses from 198.18.0.0/15 that are never contacted). A
     * backend boots an instance when it turns running (its address becomes the instance's public IP) from the
     * instance's launch script, and is told on DeleteInstance.
     */
    public synchronized LightsailFake backend(org.workshopfleet.cloud.ec2.fake.InstanceBackend newBackend) {
        this.backend = newBackend;
        return this;
    }

    /** Injects {@code fault} into a share {@code rate} of the calls to {@code operations} (all when none given). */
    public synchronized LightsailFake faultRate(double rate, long seed, Fault fault, String... operations) {
        this.faultRate = rate;
        this.random = new Random(seed);
        this.rateFault = fault;
        this.rateOperations = Set.of(operations);
        return this;
    }

    /** Answers the next call of {@code operation} with {@code fault} (queued: call again for later calls). */
    public synchronized LightsailFake failNext(String operation, Fault fault) {
        scheduledFaults.computeIfAbsent(operation, k -> new ArrayDeque<>()).add(fault);
        return this;
    }

    /** Stops all fault injection. */
    public synchronized LightsailFake noFaults() {
        faultRate = 0;
        scheduledFaults.clear();
        return this;
    }

    // ---------------------------------------------------------------- seeding

    /** Adds a running instance made by someone else (e.g. another workshop or a person). */
    public synchronized void addInstance(String name, Map<String, String> tags) {
        FakeInstance i = new FakeInstance(name, region + "a", "ubuntu_22_04", "small_3_0", "", null, "ipv4",
                new LinkedHashMap<>(tags), now());
        i.state = "running";
        i.publicIp = nextAddress();
        instances.put(name, i);
    }

    /**
     * Switches an instance's IP address type, as SetIpAddressType (or a person in the console) would; a dual-stack
     * instance has an IPv6 firewall that a Put without {@code ipv6Cidrs} may leave open (the stricter reading, above).
     */
    public synchronized void ipAddressType(String name, String type) {
        instanceOrNotFound(name).ipAddressType = type;
    }

    /** Adds a key pair made by someone else. */
    public synchronized void addKeyPair(String name, String publicKey, Map<String, String> tags) {
        FakeKeyPair k = new FakeKeyPair(name, publicKey, fingerprint(publicKey), now());
        k.tags.putAll(tags);
        keyPairs.put(name, k);
    }

    /** Takes a name with a resource of another type (e.g. {@code StaticIp}, {@code Disk}), for cross-type clashes. */
    public synchronized void addOtherResource(String name, String resourceType) {
        otherResources.put(name, resourceType);
    }

    // ---------------------------------------------------------------- inspection

    public synchronized List<Request> requests() {
        return List.copyOf(requests);
    }

    public synchronized void clearRequests() {
        requests.clear();
    }

    /** Requests (including failed attempts) per operation, sorted by operation. */
    public synchronized Map<String, Integer> countsByOperation() {
        Map<String, Integer> counts = new TreeMap<>();
        requests.forEach(r -> counts.merge(r.operation(), 1, Integer::sum));
        return counts;
    }

    public synchronized int count(String operation) {
        return (int) requests.stream().filter(r -> r.operation().equals(operation)).count();
    }

    public synchronized Optional<InstanceView> instance(String name) {
        return Optional.ofNullable(instances.get(name)).map(FakeInstance::view);
    }

    public synchronized List<InstanceView> instances() {
        return instances.values().stream().map(FakeInstance::view).toList();
    }

    public synchronized Optional<KeyPairView> keyPair(String name) {
        return Optional.ofNullable(keyPairs.get(name)).map(k -> new KeyPairView(k.name, k.publicKey, k.fingerprint, Map.copyOf(k.tags)));
    }

    /** Names of all key pairs, the region's default key pair included. */
    public synchronized Set<String> keyPairNames() {
        return Set.copyOf(keyPairs.keySet());
    }

    /** The fingerprint the fake reports for an imported key: base64 SHA-256 of the key blob, as EC2 does for ed25519 [?]. */
    public static String fingerprint(String openSshLine) {
        String[] parts = openSshLine.trim().split("\\s+");
        try {
            byte[] blob = Base64.getDecoder().decode(parts[1]);
            return Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256").digest(blob));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    // ---------------------------------------------------------------- instance snapshots: settings and inspection

    /** One instance snapshot for assertions. */
    public record SnapshotView(String name, String state, String fromInstanceName, String fromBundleId,
                               Map<String, String> tags) {
    }

    /** How many observations (GetInstanceSnapshot, GetInstanceSnapshots) a new snapshot stays pending (default 2). */
    public synchronized LightsailFake snapshotPendingPolls(int polls) {
        this.snapshotPendingPolls = polls;
        return this;
    }

    /** The next snapshot CreateInstanceSnapshot makes ends in state {@code error} instead of {@code available}. */
    public synchronized LightsailFake failNextSnapshot() {
        this.failNextSnapshot = true;
        return this;
    }

    public synchronized List<SnapshotView> snapshots() {
        return snapshots.values().stream().map(FakeSnapshot::view).toList();
    }

    public synchronized Optional<SnapshotView> snapshot(String name) {
        return Optional.ofNullable(snapshots.get(name)).map(FakeSnapshot::view);
    }

    // ---------------------------------------------------------------- HTTP

    private record Reply(int status, JsonNode body, String errorType) {
    }

    /** An error answer; thrown by handlers. */
    private static final class FakeError extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final int status;
        final String type;
        final String code;

        FakeError(int status, String type, String code, String message) {
            super(message, null, false, false);
            this.status = status;
            this.type = type;
            this.code = code;
        }

        static FakeError invalid(String code, String message) {
            return new FakeError(400, "InvalidInputException", code, message);
        }

        static FakeError notFound(String message) {
            return new FakeError(400, "NotFoundException", "DoesNotExist", message);
        }

        static FakeError of(Fault f) {
            return new FakeError(f.status, f.type, f.code, f.message);
        }
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            byte[] in = exchange.getRequestBody().readAllBytes();
            String target = exchange.getRequestHeaders().getFirst("X-Amz-Target");
            String operation = target != null && target.startsWith(TARGET_PREFIX)
                    ? target.substring(TARGET_PREFIX.length()) : String.valueOf(target);
            JsonNode body;
            try {
                body = in.length == 0 ? null : JSON.readTree(in);
            } catch (IOException e) {
                body = null;
            }
            beforeServing.accept(operation);
            Reply reply;
            synchronized (this) {
                reply = answer(exchange.getRequestMethod(), target, operation, body);
                requests.add(new Request(operation, body == null ? JSON.createObjectNode() : body, reply.status, reply.errorType));
            }
            byte[] out = JSON.writeValueAsBytes(reply.body);
            FakeHttpServer.reply(exchange, reply.status, Map.of("Content-Type", JSON_TYPE, "x-amzn-RequestId",
                    UUID.randomUUID().toString()), out);
        }
    }

    private Reply answer(String method, String target, String operation, JsonNode body) {
        try {
            if (!"POST".equals(method) || body == null || !body.isObject()) {
                throw new FakeError(400, "SerializationException", null, "Expected a JSON object in a POST body");
            }
            if (target == null || !target.startsWith(TARGET_PREFIX)) {
                throw new FakeError(400, "UnknownOperationException", null, "Unknown target " + target);
            }
            Fault fault = pickFault(operation);
            if (fault != null && fault != Fault.LOST_RESPONSE) {
                throw FakeError.of(fault);
            }
            JsonNode result = dispatch(operation, body);
            if (fault == Fault.LOST_RESPONSE) {
                throw FakeError.of(fault);
            }
            return new Reply(200, result, null);
        } catch (FakeError e) {
            ObjectNode err = JSON.createObjectNode();
            err.put("__type", e.type);
            err.put("message", e.getMessage());
            if (e.code != null) {
                err.put("code", e.code);
            }
            return new Reply(e.status, err, e.type);
        }
    }

    private Fault pickFault(String operation) {
        Deque<Fault> queue = scheduledFaults.get(operation);
        if (queue != null && !queue.isEmpty()) {
            return queue.poll();
        }
        if (faultRate > 0 && (rateOperations.isEmpty() || rateOperations.contains(operation))
                && random.nextDouble() < faultRate) {
            return rateFault;
        }
        return null;
    }

    private JsonNode dispatch(String operation, JsonNode body) {
        return switch (operation) {
            case "CreateInstances" -> createInstances(body);
            case "GetInstance" -> getInstance(body);
            case "GetInstances" -> getInstances(body);
            case "GetInstanceState" -> getInstanceState(body);
            case "PutInstancePublicPorts" -> putInstancePublicPorts(body);
            case "OpenInstancePublicPorts" -> openInstancePublicPorts(body);
            case "CloseInstancePublicPorts" -> closeInstancePublicPorts(body);
            case "DeleteInstance" -> deleteInstance(body);
            case "ImportKeyPair" -> importKeyPair(body);
            case "GetKeyPair" -> getKeyPair(body);
            case "GetKeyPairs" -> getKeyPairs(body);
            case "DeleteKeyPair" -> deleteKeyPair(body);
            case "TagResource" -> tagResource(body);
            case "CreateInstanceSnapshot" -> createInstanceSnapshot(body);
            case "GetInstanceSnapshot" -> getInstanceSnapshot(body);
            case "GetInstanceSnapshots" -> getInstanceSnapshots(body);
            case "DeleteInstanceSnapshot" -> deleteInstanceSnapshot(body);
            case "CreateInstancesFromSnapshot" -> createInstancesFromSnapshot(body);
            default -> throw new FakeError(400, "UnknownOperationException", null,
                    "Operation " + operation + " is not modelled by the Lightsail fake");
        };
    }

    // ---------------------------------------------------------------- operations

    private JsonNode createInstances(JsonNode body) {
        List<String> names = strings(body.path("instanceNames"));
        String zone = required(body, "availabilityZone");
        String blueprint = required(body, "blueprintId");
        String bundle = required(body, "bundleId");
        if (names.isEmpty()) {
            throw FakeError.invalid(null, "instanceNames must not be empty");
        }
        for (String n : names) {
            if (!NAME.matcher(n).matches()) {
                throw FakeError.invalid(null, "The instance name " + n + " is not valid");
            }
        }
        if (!(zone.startsWith(region) && zone.length() == region.length() + 1)) {
            throw FakeError.invalid(null, "The availability zone " + zone + " is not valid in " + region);
        }
        if (!BLUEPRINTS.contains(blueprint)) {
            throw FakeError.invalid(null, "The blueprint " + blueprint + " does not exist");
        }
        if (!BUNDLES.contains(bundle)) {
            throw FakeError.invalid(null, "The bundle " + bundle + " does not exist");
        }
        return launch(names, zone, blueprint, bundle, body, "CreateInstance");
    }

    /** What CreateInstances and CreateInstancesFromSnapshot share once the image is settled: key, names, quota. */
    private JsonNode launch(List<String> names, String zone, String blueprint, String bundle, JsonNode body,
                            String operationType) {
        String key = body.path("keyPairName").asText(null);
        if (key != null && !keyPairs.containsKey(key)) {
            throw FakeError.notFound("The KeyPair does not exist: " + key);
        }
        List<String> taken = names.stream().filter(this::nameTaken).toList();
        if (!taken.isEmpty() || names.stream().distinct().count() != names.size()) {
            throw FakeError.invalid("NameExists", "Some names are already in use: " + String.join(", ", taken.isEmpty() ? names : taken));
        }
        if (instances.size() + names.size() > instanceQuota) {
            throw FakeError.of(Fault.QUOTA);
        }
        String ipType = body.path("ipAddressType").asText("dualstack");
        Map<String, String> tags = tags(body.path("tags"));
        String userData = body.path("userData").asText(null);
        double created = now();
        ArrayNode ops = JSON.createArrayNode();
        for (String n : names) {
            FakeInstance i = new FakeInstance(n, zone, blueprint, bundle, userData, key, ipType, new LinkedHashMap<>(tags), created);
            instances.put(n, i);
            ops.add(operation(n, "Instance", operationType, "Started", created));
        }
        ObjectNode out = JSON.createObjectNode();
        out.set("operations", ops);
        return out;
    }

    private JsonNode getInstance(JsonNode body) {
        FakeInstance i = instanceOrNotFound(required(body, "instanceName"));
        i.observe();
        ObjectNode out = JSON.createObjectNode();
        out.set("instance", i.json());
        return out;
    }

    private JsonNode getInstanceState(JsonNode body) {
        FakeInstance i = instanceOrNotFound(required(body, "instanceName"));
        i.observe();
        ObjectNode out = JSON.createObjectNode();
        out.set("state", i.stateJson());
        return out;
    }

    private JsonNode getInstances(JsonNode body) {
        List<String> page = page(instances.keySet().stream().toList(), body.path("pageToken").asText(null));
        ArrayNode list = JSON.createArrayNode();
        for (String n : page) {
            FakeInstance i = instances.get(n);
            i.observe();
            list.add(i.json());
        }
        ObjectNode out = JSON.createObjectNode();
        out.set("instances", list);
        nextToken(out, instances.keySet().stream().toList(), page);
        return out;
    }

    private JsonNode putInstancePublicPorts(JsonNode body) {
        String name = required(body, "instanceName");
        if (!body.has("portInfos")) {
            throw FakeError.invalid(null, "portInfos is required");
        }
        FakeInstance i = instanceOrNotFound(name);
        List<PortRule> rules = new ArrayList<>();
        for (JsonNode p : body.path("portInfos")) {
            rules.add(portInfo(p));
        }
        boolean anyIpv6 = rules.stream().anyMatch(r -> !r.ipv6Cidrs().isEmpty());
        if ("dualstack".equals(i.ipAddressType) && !anyIpv6) {
            // Stricter reading where the documentation is silent: the IPv6 firewall stays as it was.
            for (PortRule old : i.ports) {
                if (!old.ipv6Cidrs().isEmpty()) {
                    rules.add(new PortRule(old.fromPort(), old.toPort(), old.protocol(), List.of(), old.ipv6Cidrs()));
                }
            }
        }
        i.ports = List.copyOf(rules);
        ObjectNode out = JSON.createObjectNode();
        out.set("operation", operation(name, "Instance", "PutInstancePublicPorts", "Succeeded", now()));
        return out;
    }

    /** One PortInfo of a request, validated. */
    private static PortRule portInfo(JsonNode p) {
        String protocol = p.path("protocol").asText("");
        int from = p.path("fromPort").asInt(-2);
        int to = p.path("toPort").asInt(-2);
        if (!PROTOCOLS.contains(protocol) || from < -1 || from > 65535 || to < from || to > 65535) {
            throw FakeError.invalid(null, "The port info " + p + " is not valid");
        }
        List<String> cidrs = strings(p.path("cidrs"));
        for (String c : cidrs) {
            if (!IPV4_CIDR.matcher(c).matches()) {
                throw FakeError.invalid(null, "The CIDR " + c + " is not valid");
            }
        }
        List<String> ipv6 = strings(p.path("ipv6Cidrs"));
        for (String c : ipv6) {
            if (!c.contains(":") || !c.contains("/")) {
                throw FakeError.invalid(null, "The IPv6 CIDR " + c + " is not valid");
            }
        }
        List<String> aliases = strings(p.path("cidrListAliases"));
        for (String a : aliases) {
            if (!a.equals("lightsail-connect")) {
                throw FakeError.invalid(null, "The CIDR list alias " + a + " is not valid");
            }
        }
        return new PortRule(from, to, protocol, cidrs, ipv6, aliases);
    }

    /** Opens one more rule without closing any (the API Reference's OpenInstancePublicPorts). */
    private JsonNode openInstancePublicPorts(JsonNode body) {
        String name = required(body, "instanceName");
        if (!body.has("portInfo")) {
            throw FakeError.invalid(null, "portInfo is required");
        }
        FakeInstance i = instanceOrNotFound(name);
        PortRule rule = portInfo(body.path("portInfo"));
        List<PortRule> rules = new ArrayList<>(i.ports);
        rules.add(rule);
        i.ports = List.copyOf(rules);
        ObjectNode out = JSON.createObjectNode();
        out.set("operation", operation(name, "Instance", "OpenInstancePublicPorts", "Succeeded", now()));
        return out;
    }

    /**
     * Closes the given sources on the given port range and protocol (CloseInstancePublicPorts); a rule left admitting
     * nobody is gone. Sources not open are ignored.
     */
    private JsonNode closeInstancePublicPorts(JsonNode body) {
        String name = required(body, "instanceName");
        if (!body.has("portInfo")) {
            throw FakeError.invalid(null, "portInfo is required");
        }
        FakeInstance i = instanceOrNotFound(name);
        PortRule close = portInfo(body.path("portInfo"));
        List<PortRule> rules = new ArrayList<>();
        for (PortRule r : i.ports) {
            if (r.fromPort() == close.fromPort() && r.toPort() == close.toPort() && r.protocol().equals(close.protocol())) {
                r = new PortRule(r.fromPort(), r.toPort(), r.protocol(), minus(r.cidrs(), close.cidrs()),
                        minus(r.ipv6Cidrs(), close.ipv6Cidrs()), minus(r.cidrListAliases(), close.cidrListAliases()));
            }
            if (!r.admitsNobody()) {
                rules.add(r);
            }
        }
        i.ports = List.copyOf(rules);
        ObjectNode out = JSON.createObjectNode();
        out.set("operation", operation(name, "Instance", "CloseInstancePublicPorts", "Succeeded", now()));
        return out;
    }

    private static List<String> minus(List<String> a, List<String> b) {
        return a.stream().filter(x -> !b.contains(x)).toList();
    }

    private JsonNode deleteInstance(JsonNode body) {
        String name = required(body, "instanceName");
        instanceOrNotFound(name);
        FakeInstance gone = instances.remove(name);
        if (backend != null && gone.publicIp != null) {
            backend.terminate(name);
        }
        ArrayNode ops = JSON.createArrayNode();
        ops.add(operation(name, "Instance", "DeleteInstance", "Started", now()));
        ObjectNode out = JSON.createObjectNode();
        out.set("operations", ops);
        return out;
    }

    private JsonNode importKeyPair(JsonNode body) {
        String name = required(body, "keyPairName");
        String material = required(body, "publicKeyBase64");
        if (!NAME.matcher(name).matches()) {
            throw FakeError.invalid(null, "The key pair name " + name + " is not valid");
        }
        if (nameTaken(name)) {
            throw FakeError.invalid("NameExists", "Some names are already in use: " + name);
        }
        String[] parts = material.trim().split("\\s+");
        boolean wellFormed = parts.length >= 2 && (parts[0].equals("ssh-ed25519") || parts[0].equals("ssh-rsa"));
        if (wellFormed) {
            try {
                Base64.getDecoder().decode(parts[1]);
            } catch (IllegalArgumentException e) {
                wellFormed = false;
            }
        }
        if (!wellFormed) {
            throw FakeError.invalid("InvalidKey.Format", "The format of this public key is not valid");
        }
        keyPairs.put(name, new FakeKeyPair(name, material, fingerprint(material), now()));
        ObjectNode out = JSON.createObjectNode();
        out.set("operation", operation(name, "KeyPair", "ImportKeyPair", "Succeeded", now()));
        return out;
    }

    private JsonNode getKeyPair(JsonNode body) {
        String name = required(body, "keyPairName");
        FakeKeyPair k = keyPairs.get(name);
        if (k == null) {
            throw FakeError.notFound("The KeyPair does not exist: " + name);
        }
        ObjectNode out = JSON.createObjectNode();
        out.set("keyPair", k.json());
        return out;
    }

    private JsonNode getKeyPairs(JsonNode body) {
        boolean withDefault = body.path("includeDefaultKeyPair").asBoolean(false);
        List<String> all = keyPairs.keySet().stream().filter(n -> withDefault || !n.equals(DEFAULT_KEY_PAIR)).toList();
        List<String> page = page(all, body.path("pageToken").asText(null));
        ArrayNode list = JSON.createArrayNode();
        page.forEach(n -> list.add(keyPairs.get(n).json()));
        ObjectNode out = JSON.createObjectNode();
        out.set("keyPairs", list);
        nextToken(out, all, page);
        return out;
    }

    private JsonNode deleteKeyPair(JsonNode body) {
        String name = required(body, "keyPairName");
        if (keyPairs.remove(name) == null) {
            throw FakeError.notFound("The KeyPair does not exist: " + name);
        }
        ObjectNode out = JSON.createObjectNode();
        out.set("operation", operation(name, "KeyPair", "DeleteKeyPair", "Succeeded", now()));
        return out;
    }

    private JsonNode tagResource(JsonNode body) {
        String name = required(body, "resourceName");
        Map<String, String> tags = tags(body.path("tags"));
        String type;
        if (instances.containsKey(name)) {
            instances.get(name).tags.putAll(tags);
            type = "Instance";
        } else if (keyPairs.containsKey(name)) {
            keyPairs.get(name).tags.putAll(tags);
            type = "KeyPair";
        } else if (snapshots.containsKey(name)) {
            snapshots.get(name).tags.putAll(tags);
            type = "InstanceSnapshot";
        } else if (otherResources.containsKey(name)) {
            type = otherResources.get(name);
        } else {
            throw FakeError.notFound("The resource does not exist: " + name);
        }
        ArrayNode ops = JSON.createArrayNode();
        ops.add(operation(name, type, "TagResource", "Succeeded", now()));
        ObjectNode out = JSON.createObjectNode();
        out.set("operations", ops);
        return out;
    }

    // ---------------------------------------------------------------- instance snapshots: operations

    private JsonNode createInstanceSnapshot(JsonNode body) {
        String name = required(body, "instanceSnapshotName");
        String instanceName = required(body, "instanceName");
        if (!NAME.matcher(name).matches()) {
            throw FakeError.invalid(null, "The instance snapshot name " + name + " is not valid");
        }
        FakeInstance i = instanceOrNotFound(instanceName);
        if (!i.state.equals("running") && !i.state.equals("stopped")) {
            // The documentation says nothing on snapshots of pending instances: the fake refuses them.
            throw FakeError.invalid(null, "The instance " + instanceName + " is " + i.state
                    + " and cannot be snapshotted now (fake)");
        }
        if (nameTaken(name)) {
            throw FakeError.invalid("NameExists", "Some names are already in use: " + name);
        }
        FakeSnapshot snap = new FakeSnapshot(name, i, tags(body.path("tags")), now(), failNextSnapshot);
        failNextSnapshot = false;
        snapshots.put(name, snap);
        ArrayNode ops = JSON.createArrayNode();
        ops.add(operation(name, "InstanceSnapshot", "CreateInstanceSnapshot", "Started", snap.createdAt));
        ObjectNode out = JSON.createObjectNode();
        out.set("operations", ops);
        return out;
    }

    private FakeSnapshot snapshotOrNotFound(String name) {
        FakeSnapshot s = snapshots.get(name);
        if (s == null) {
            throw FakeError.notFound("The InstanceSnapshot does not exist: " + name);
        }
        return s;
    }

    private JsonNode getInstanceSnapshot(JsonNode body) {
        FakeSnapshot s = snapshotOrNotFound(required(body, "instanceSnapshotName"));
        s.observe();
        ObjectNode out = JSON.createObjectNode();
        out.set("instanceSnapshot", s.json());
        return out;
    }

    private JsonNode getInstanceSnapshots(JsonNode body) {
        List<String> all = snapshots.keySet().stream().toList();
        List<String> page = page(all, body.path("pageToken").asText(null));
        ArrayNode list = JSON.createArrayNode();
        for (String n : page) {
            FakeSnapshot s = snapshots.get(n);
            s.observe();
            list.add(s.json());
        }
        ObjectNode out = JSON.createObjectNode();
        out.set("instanceSnapshots", list);
        nextToken(out, all, page);
        return out;
    }

    private JsonNode deleteInstanceSnapshot(JsonNode body) {
        String name = required(body, "instanceSnapshotName");
        snapshotOrNotFound(name);
        snapshots.remove(name);
        ArrayNode ops = JSON.createArrayNode();
        ops.add(operation(name, "InstanceSnapshot", "DeleteInstanceSnapshot", "Succeeded", now()));
        ObjectNode out = JSON.createObjectNode();
        out.set("operations", ops);
        return out;
    }

    /** Bundles from small to large; a snapshot launches on its own bundle or a larger one. */
    private static final List<String> BUNDLE_ORDER = List.of("nano_3_0", "micro_3_0", "small_3_0", "medium_3_0",
            "large_3_0", "xlarge_3_0", "2xlarge_3_0");

    private JsonNode createInstancesFromSnapshot(JsonNode body) {
        List<String> names = strings(body.path("instanceNames"));
        String zone = required(body, "availabilityZone");
        String bundle = required(body, "bundleId");
        if (names.isEmpty()) {
            throw FakeError.invalid(null, "instanceNames must not be empty");
        }
        for (String n : names) {
            if (!NAME.matcher(n).matches()) {
                throw FakeError.invalid(null, "The instance name " + n + " is not valid");
            }
        }
        if (!(zone.startsWith(region) && zone.length() == region.length() + 1)) {
            throw FakeError.invalid(null, "The availability zone " + zone + " is not valid in " + region);
        }
        if (!BUNDLES.contains(bundle)) {
            throw FakeError.invalid(null, "The bundle " + bundle + " does not exist");
        }
        // The model also allows sourceInstanceName + restoreDate (automatic snapshots); the fake knows only this form.
        FakeSnapshot s = snapshotOrNotFound(required(body, "instanceSnapshotName"));
        if (!s.state.equals("available")) {
            throw FakeError.invalid(null, "The instance snapshot " + s.name + " is " + s.state
                    + " and cannot be used yet (fake)");
        }
        if (BUNDLE_ORDER.indexOf(bundle) < BUNDLE_ORDER.indexOf(s.fromBundleId)) {
            // Stricter reading: a snapshot launches on a bundle at least as large as the one it came from.
            throw FakeError.invalid(null, "The bundle " + bundle + " is smaller than the snapshot's bundle "
                    + s.fromBundleId + " (fake)");
        }
        return launch(names, zone, s.fromBlueprintId, bundle, body, "CreateInstancesFromSnapshot");
    }

    private final class FakeSnapshot {
        final String name;
        final String fromInstanceName;
        final String fromBlueprintId;
        final String fromBundleId;
        final String zone;
        final Map<String, String> tags;
        final double createdAt;
        final boolean fails;
        String state = "pending";
        int observations;

        FakeSnapshot(String name, FakeInstance from, Map<String, String> tags, double createdAt, boolean fails) {
            this.name = name;
            this.fromInstanceName = from.name;
            this.fromBlueprintId = from.blueprintId;
            this.fromBundleId = from.bundleId;
            this.zone = from.zone;
            this.tags = new LinkedHashMap<>(tags);
            this.createdAt = createdAt;
            this.fails = fails;
        }

        void observe() {
            observations++;
            if (state.equals("pending") && observations > snapshotPendingPolls) {
                state = fails ? "error" : "available";
            }
        }

        ObjectNode json() {
            ObjectNode s = JSON.createObjectNode();
            s.put("name", name);
            s.put("arn", "arn:aws:lightsail:" + region + ":123456789012:InstanceSnapshot/"
                    + UUID.nameUUIDFromBytes(name.getBytes(StandardCharsets.UTF_8)));
            s.put("supportCode", "123456789012/" + name);
            s.put("createdAt", createdAt);
            s.set("location", location(zone));
            s.put("resourceType", "InstanceSnapshot");
            s.set("tags", tagsJson(tags));
            s.put("state", state);
            s.put("progress", state.equals("pending") ? "42%" : "100%");
            s.putArray("fromAttachedDisks");
            s.put("fromInstanceName", fromInstanceName);
            s.put("fromInstanceArn", "arn:aws:lightsail:" + region + ":123456789012:Instance/"
                    + UUID.nameUUIDFromBytes(fromInstanceName.getBytes(StandardCharsets.UTF_8)));
            s.put("fromBlueprintId", fromBlueprintId);
            s.put("fromBundleId", fromBundleId);
            s.put("isFromAutoSnapshot", false);
            s.put("sizeInGb", 60);
            return s;
        }

        SnapshotView view() {
            return new SnapshotView(name, state, fromInstanceName, fromBundleId, Map.copyOf(tags));
        }
    }

    // ---------------------------------------------------------------- helpers

    private boolean nameTaken(String name) {
        return instances.containsKey(name) || keyPairs.containsKey(name) || otherResources.containsKey(name)
                || snapshots.containsKey(name);
    }

    private FakeInstance instanceOrNotFound(String name) {
        FakeInstance i = instances.get(name);
        if (i == null) {
            throw FakeError.notFound("The Instance does not exist: " + name);
        }
        return i;
    }

    /** Items after the token (the last name of the previous page, opaque to clients), at most one page. */
    private List<String> page(List<String> sorted, String token) {
        int start = 0;
        if (token != null) {
            String after;
            try {
                after = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                throw FakeError.invalid(null, "The page token is not valid");
            }
            while (start < sorted.size() && sorted.get(start).compareTo(after) <= 0) {
                start++;
            }
        }
        return sorted.subList(start, Math.min(sorted.size(), start + pageSize));
    }

    private static void nextToken(ObjectNode out, List<String> all, List<String> page) {
        if (!page.isEmpty() && !page.get(page.size() - 1).equals(all.get(all.size() - 1))) {
            String last = page.get(page.size() - 1);
            out.put("nextPageToken", Base64.getUrlEncoder().encodeToString(last.getBytes(StandardCharsets.UTF_8)));
        }
    }

    private static String required(JsonNode body, String field) {
        JsonNode v = body.get(field);
        if (v == null || !v.isTextual() || v.asText().isEmpty()) {
            throw FakeError.invalid(null, field + " is required");
        }
        return v.asText();
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    private static Map<String, String> tags(JsonNode array) {
        Map<String, String> out = new LinkedHashMap<>();
        array.forEach(t -> out.put(t.path("key").asText(), t.path("value").asText("")));
        return out;
    }

    private static ArrayNode tagsJson(Map<String, String> tags) {
        ArrayNode a = JSON.createArrayNode();
        tags.forEach((k, v) -> a.addObject().put("key", k).put("value", v));
        return a;
    }

    private static double now() {
        return System.currentTimeMillis() / 1000.0;
    }

    private ObjectNode location(String zone) {
        ObjectNode l = JSON.createObjectNode();
        l.put("availabilityZone", zone);
        l.put("regionName", region);
        return l;
    }

    private ObjectNode operation(String resource, String type, String opType, String status, double at) {
        ObjectNode o = JSON.createObjectNode();
        o.put("id", UUID.randomUUID().toString());
        o.put("resourceName", resource);
        o.put("resourceType", type);
        o.put("createdAt", at);
        o.set("location", location(region + "a"));
        o.put("isTerminal", !status.equals("Started"));
        o.put("operationType", opType);
        o.put("status", status);
        o.put("statusChangedAt", at);
        return o;
    }

    private String nextAddress() {
        int n = addresses++;
        // 198.18.0.0/15 is reserved for benchmarking (RFC 2544): never a real host.
        return "198." + (18 + n / 62500) + "." + (n / 250 % 250) + "." + (n % 250 + 1);
    }

    private final class FakeInstance {
        final String name;
        final String zone;
        final String blueprintId;
        final String bundleId;
        final String userData;
        final String keyPairName;
        String ipAddressType;
        final Map<String, String> tags;
        final double createdAt;
        final String supportId = "i-" + UUID.randomUUID().toString().replace("-", "").substring(0, 17);
        String state = "pending";
        String publicIp;
        int observations;
        List<PortRule> ports;

        FakeInstance(String name, String zone, String blueprintId, String bundleId, String userData, String keyPairName,
                     String ipAddressType, Map<String, String> tags, double createdAt) {
            this.name = name;
            this.zone = zone;
            this.blueprintId = blueprintId;
            this.bundleId = bundleId;
            this.userData = userData;
            this.keyPairName = keyPairName;
            this.ipAddressType = ipAddressType;
            this.tags = tags;
            this.createdAt = createdAt;
            this.ports = defaultPorts(ipAddressType);
        }

        void observe() {
            observations++;
            if (state.equals("pending") && observations > pendingPolls) {
                state = "running";
                publicIp = backend == null ? nextAddress() : backend.boot(name, userData == null ? "" : userData);
                if (resetPortsAtBoot) {
                    ports = defaultPorts(ipAddressType);
                }
            }
        }

        ObjectNode stateJson() {
            ObjectNode s = JSON.createObjectNode();
            s.put("code", state.equals("running") ? 16 : 0);
            s.put("name", state);
            return s;
        }

        ObjectNode json() {
            ObjectNode i = JSON.createObjectNode();
            i.put("name", name);
            i.put("arn", "arn:aws:lightsail:" + region + ":123456789012:Instance/" + UUID.nameUUIDFromBytes(name.getBytes(StandardCharsets.UTF_8)));
            i.put("supportCode", "123456789012/" + supportId);
            i.put("createdAt", createdAt);
            i.set("location", location(zone));
            i.put("resourceType", "Instance");
            i.set("tags", tagsJson(tags));
            i.put("blueprintId", blueprintId);
            i.put("blueprintName", "Ubuntu");
            i.put("bundleId", bundleId);
            i.putArray("addOns");
            i.put("isStaticIp", false);
            i.put("privateIpAddress", "172.26." + (Math.abs(name.hashCode()) % 250) + ".10");
            if (publicIp != null) {
                i.put("publicIpAddress", publicIp);
            }
            i.putArray("ipv6Addresses");
            i.put("ipAddressType", ipAddressType);
            ObjectNode networking = i.putObject("networking");
            networking.putObject("monthlyTransfer").put("gbPerMonthAllocated", 3072);
            ArrayNode portsJson = networking.putArray("ports");
            for (PortRule p : ports) {
                ObjectNode pj = portsJson.addObject();
                pj.put("fromPort", p.fromPort());
                pj.put("toPort", p.toPort());
                pj.put("protocol", p.protocol());
                pj.put("accessFrom", accessFrom(p));
                pj.put("accessType", "public");
                pj.put("commonName", "");
                pj.put("accessDirection", "inbound");
                p.cidrs().forEach(pj.putArray("cidrs")::add);
                p.ipv6Cidrs().forEach(pj.putArray("ipv6Cidrs")::add);
                p.cidrListAliases().forEach(pj.putArray("cidrListAliases")::add);
            }
            i.set("state", stateJson());
            i.put("username", "ubuntu");
            if (keyPairName != null) {
                i.put("sshKeyName", keyPairName);
            }
            return i;
        }

        InstanceView view() {
            return new InstanceView(name, state, publicIp, bundleId, blueprintId, zone, ipAddressType, keyPairName,
                    userData, Map.copyOf(tags), ports);
        }
    }

    /** A new instance from an OS blueprint has SSH and HTTP open to the world: Lightsail's default firewall. */
    private static List<PortRule> defaultPorts(String ipAddressType) {
        List<String> v6 = ipAddressType.equals("ipv4") ? List.of() : List.of("::/0");
        return List.of(new PortRule(22, 22, "tcp", List.of("0.0.0.0/0"), v6),
                new PortRule(80, 80, "tcp", List.of("0.0.0.0/0"), v6));
    }

    private static String accessFrom(PortRule p) {
        boolean world4 = p.cidrs().contains("0.0.0.0/0");
        boolean world6 = p.ipv6Cidrs().contains("::/0");
        if (world4 && world6) {
            return "Anywhere (0.0.0.0/0 and ::/0)";
        }
        if (world4) {
            return "Anywhere (0.0.0.0/0)";
        }
        if (p.cidrs().size() == 1 && p.ipv6Cidrs().isEmpty()) {
            return p.cidrs().get(0);
        }
        return "Custom";
    }

    private final class FakeKeyPair {
        final String name;
        final String publicKey;
        final String fingerprint;
        final double createdAt;
        final Map<String, String> tags = new LinkedHashMap<>();

        FakeKeyPair(String name, String publicKey, String fingerprint, double createdAt) {
            this.name = name;
            this.publicKey = publicKey;
            this.fingerprint = fingerprint;
            this.createdAt = createdAt;
        }

        ObjectNode json() {
            ObjectNode k = JSON.createObjectNode();
            k.put("name", name);
            k.put("arn", "arn:aws:lightsail:" + region + ":123456789012:KeyPair/" + UUID.nameUUIDFromBytes(name.getBytes(StandardCharsets.UTF_8)));
            k.put("supportCode", "123456789012/" + name);
            k.put("createdAt", createdAt);
            k.set("location", location(region + "a"));
            k.put("resourceType", "KeyPair");
            k.set("tags", tagsJson(tags));
            k.put("fingerprint", fingerprint);
            return k;
        }
    }

    @Override
    public synchronized String toString() {
        return "LightsailFake[" + endpoint() + ", " + instances.keySet().stream().collect(Collectors.joining(",")) + "]";
    }
}
