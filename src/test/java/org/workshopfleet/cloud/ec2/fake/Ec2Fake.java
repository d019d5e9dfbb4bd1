package org.workshopfleet.cloud.ec2.fake;

import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.workshopfleet.cloud.FakeHttpServer;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.retries.api.BackoffStrategy;
import software.amazon.awssdk.retries.api.RetryStrategy;
import software.amazon.awssdk.services.ec2.Ec2Client;

/**
 * A STAND-IN for Amazon EC2, for tests only: an in-process HTTP server on 127.0.0.1 that speaks EC2's Query/XML
 * protocol (Amazon EC2 API Reference: Query requests for Amazon EC2; form body parsed into a map and routed on
 * {@code Action};
 * responses {@code <OpResponse xmlns=…><requestId>…} with the model's element names; errors
 * {@code <Response><Errors><Error>…} with EC2's real HTTP statuses; a fault of the stand-in itself or its backend is
 * answered as {@code InternalError}, 500, with its stack trace on stderr). The real SDK {@link Ec2Client} talks to it
 * through {@code endpointOverride}; see {@link #client()}.
 *
 * <p>It is stateful and deterministic: time advances with {@code DescribeInstances} calls ("polls"), not the clock.
 * Instances are pending for {@link #pendingPolls} polls and get their address only once running; terminated instances
 * pass through shutting-down and stay listed for a while; a repeated {@code ClientToken} returns the original
 * reservation; tags, filters (with {@code *}/{@code ?} wildcards) and {@code NextToken} paging work; an unknown instance
 * id fails the whole call; a group stays in use ({@code DependencyViolation}) while any of its instances is not
 * terminated, and optionally a few deletes longer; per-zone capacity and a vCPU quota can be set. Every request is logged
 * ({@link #calls()}), and {@link #faults()} injects any EC2 error on chosen calls or at a seeded rate.
 *
 * <p>The account's own AMIs and EBS snapshots (CreateImage, DescribeImages with {@code Owner=self}, DeregisterImage,
 * DescribeSnapshots, DeleteSnapshot) are modelled by {@link BakedImages} ({@link #bakedImages()}); a backend with disks
 * (the lab's) keeps a real disk behind each of them: CreateImage captures the instance's, RunInstances with the image
 * boots from it, and deleting the image's snapshot releases it (see {@link InstanceBackend}).
 *
 * <p>Security group ingress takes all four kinds of source of an {@code IpPermission} (IPv4 and IPv6 ranges, prefix list
 * ids, and group references as {@code UserIdGroupPairs}), in AuthorizeSecurityGroupIngress, RevokeSecurityGroupIngress
 * (a rule that does not match is returned in {@code unknownIpPermissionSet}, as in a default VPC) and
 * DescribeSecurityGroups; prefix lists are not objects of their own, so any well-formed {@code pl-} id is accepted.
 *
 * <p>Not modelled: signatures (ignored), subnets, ENIs as objects, IPv6 addresses of instances, spot, stop/start.
 */
public final class Ec2Fake implements AutoCloseable {

    public static final String OWNER_ID = "123456789012";
    public static final String REGION = "ap-northeast-1";
    public static final String DEFAULT_VPC = "vpc-0fa4e1d2c3b4a5968";
    /** The stock image pinned for {@link #REGION} in the project's {@code ami.properties}. */
    public static final String STOCK_AMI = "ami-08f191dd81ec3a3de";
    /** Canonical's account, the owner of the official Ubuntu images and of {@link #STOCK_AMI}. */
    public static final String CANONICAL_OWNER = "099720109477";
    private static final String NS = "http://ec2.amazonaws.com/doc/2016-11-15/";
    private static final Map<String, Integer> VCPUS = Map.of(
            "t3.micro", 2, "t3.small", 2, "t3.medium", 2, "t3a.medium", 2, "t2.medium", 2,
            "t3.large", 2, "m5.large", 2, "c5.xlarge", 4, "m5.2xlarge", 8);

    private final FakeHttpServer server;
    private final FaultPlan faults = new FaultPlan();
    private final RequestThrottle throttle = new RequestThrottle(System::nanoTime);
    private final List<RecordedCall> log = new ArrayList<>();
    private final Object lock = new Object();

    // Behaviour, changeable between calls.
    private int pendingPolls = 2;
    private int terminatingPolls = 2;
    private int listedAfterTerminated = 1000;
    private int notFoundDescribes = 0;
    private int groupBusyDeletes = 0;
    private Integer vcpuLimit;
    private ServiceQuotasFake quotas;
    private Integer instanceLimit;
    private boolean hasDefaultVpc = true;
    private final List<String> zones = List.of(REGION + "a", REGION + "c", REGION + "d");
    private final Map<String, Integer> capacity = new HashMap<>();
    private InstanceBackend backend = InstanceBackend.testNet();
    private volatile long callLatencyMillis;
    /** Sees each request before it is served; may block it (a call that takes long inside EC2). */
    private volatile java.util.function.Consumer<RecordedCall> beforeServing;
    /** Real backends boot in the background (RunInstances answers at once, as EC2 does); the default is instant. */
    private boolean bootInBackground;
    private final ExecutorService boots = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "ec2-fake-boot");
        t.setDaemon(true);
        return t;
    });

    // State.
    private int tick;
    private long nextId = 0x0a1b2c3d4e5f6L;
    // Instance ids start at a random point per fake: lab-backed instances are named after their ids, so a fixed first
    // id made a run collide with machines that a killed earlier run (or another checkout) left on the host. Other ids
    // stay deterministic (client tokens derive from the security group's id, as on EC2 where the group persists).
    private long nextInstanceId = java.util.concurrent.ThreadLocalRandom.current().nextLong(1L << 60);
    private final Map<String, Inst> instances = new LinkedHashMap<>();
    private final Map<String, String> reservationByToken = new HashMap<>();
    private final Map<String, Group> groups = new LinkedHashMap<>();
    private final Map<String, Key> keys = new LinkedHashMap<>();
    /** Public images; the stock one is there from the start, as the real one is in the region. */
    private final List<Image> images = new ArrayList<>(List.of(new Image(STOCK_AMI,
            "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20250112", "2025-01-12T00:00:00.000Z",
            CANONICAL_OWNER, "available", "x86_64")));
    private final BakedImages baked = new BakedImages(lock, this::newId, this::releaseImageData);

    private static final class Inst {
        String id;
        String reservationId;
        String imageId;
        String type;
        String keyName;
        String zone;
        int launchIndex;
        int launchedAt;
        Integer terminatedAt;
        boolean bootFailed;
        CompletableFuture<String> ip;
        String privateIp;
        String volumeId;
        String clientToken;
        String httpTokens;
        String shutdownBehavior;
        String userData;
        List<String> groupIds;
        Instant launchTime;
        Map<String, String> tags = new LinkedHashMap<>();
        Map<String, String> volumeTags = new LinkedHashMap<>();
    }

    private static final class Group {
        String id;
        String name;
        String description;
        String vpcId;
        boolean hadInstances;
        int busyDeletesLeft;
        List<QueryForm.Permission> ingress = new ArrayList<>();
        Map<String, String> tags = new LinkedHashMap<>();
    }

    private record Key(String id, String name, String fingerprint, String type, Map<String, String> tags,
                       Instant created) {
    }

    private record Image(String id, String name, String creationDate, String owner, String state, String arch) {
    }

    /** A snapshot of one instance for assertions. */
    public record InstanceView(String id, String state, String type, String zone, int launchIndex, String publicIp,
                               Map<String, String> tags, Map<String, String> volumeTags, String httpTokens,
                               String shutdownBehavior, String clientToken, String userData, List<String> groupIds) {
    }

    private Ec2Fake() {
        throttle.enabled(true);
        server = FakeHttpServer.start("ec2-fake", 4, this::handle);
    }

    /** Starts a fake on a random loopback port. */
    public static Ec2Fake start() {
        return new Ec2Fake();
    }

    public URI endpoint() {
        return server.endpoint();
    }

    /**
     * A {@link org.workshopfleet.command.CloudFactory} for {@code Fleet}: the real {@link org.workshopfleet.cloud.ec2.Ec2Cloud}
     * on this stand-in and its Service Quotas stand-in, with {@code amiProperties} as the AMI catalog and fast waiting;
     * every client it makes is added to {@code clients} (under its lock) for the test to close.
     */
    public org.workshopfleet.command.CloudFactory cloudFactory(java.nio.file.Path amiProperties,
                                                       List<? super software.amazon.awssdk.utils.SdkAutoCloseable> clients) {
        return cloudFactory(amiProperties, clients, org.workshopfleet.concurrent.Waiter.fast());
    }

    /** As {@link #cloudFactory(java.nio.file.Path, List)}, polling with {@code waiting} (a benchmark's pace). */
    public org.workshopfleet.command.CloudFactory cloudFactory(java.nio.file.Path amiProperties,
                                                       List<? super software.amazon.awssdk.utils.SdkAutoCloseable> clients,
                                                       org.workshopfleet.concurrent.Waiter waiting) {
        return (spec, recorder) -> {
            Ec2Client client = client();
            software.amazon.awssdk.services.servicequotas.ServiceQuotasClient quotas = quotas().client();
            synchronized (clients) {
                clients.add(client);
                clients.add(quotas);
            }
            // The product's own RunInstances pacing when this stand-in throttles as EC2 does; none when it does not.
            return new org.workshopfleet.cloud.ec2.Ec2Cloud(client, org.workshopfleet.cloud.ec2.Ec2Cloud.config(spec), recorder,
                    org.workshopfleet.cloud.ec2.AmiCatalog.load(amiProperties), waiting,
                    new org.workshopfleet.cloud.ec2.OnDemandVcpuQuota(quotas), throttling()
                            ? org.workshopfleet.cloud.ec2.RequestBucket.runInstances()
                            : org.workshopfleet.cloud.ec2.RequestBucket.unlimited());
        };
    }

    /**
     * A new real SDK client pointed at this fake (fresh per test: the retry token bucket is per client), with the Apache
     * HTTP client (so the bodies of 401 answers survive) and {@link #testRetryStrategy()}.
     */
    public Ec2Client client() {
        return client(testRetryStrategy());
    }

    public Ec2Client client(RetryStrategy retryStrategy) {
        return Ec2Client.builder()
                .endpointOverride(endpoint())
                .region(Region.of(REGION))
                .credentialsProvider(StaticCredentialsProvider.create(
                        AwsBasicCredentials.create("AKIAFAKEFAKEFAKEFAKE", "fake-secret-for-the-ec2-stand-in")))
                .httpClientBuilder(ApacheHttpClient.builder())
                .overrideConfiguration(o -> o.retryStrategy(retryStrategy))
                .build();
    }

    /**
     * The SDK's STANDARD strategy (same retry conditions: throttling codes, 5xx, I/O) with eight attempts and no circuit
     * breaker, so a test with 30 % injected faults finishes quickly and deterministically: millisecond backoff after a
     * server error, and after a throttling answer a backoff that waits out the stand-in's buckets (on by default, see
     * {@link #throttling(boolean)}): {@value #THROTTLED_FIRST_MS} ms doubling up to 1 s, about 2.5 s over the seven
     * retries, in which even the slowest bucket EC2 documents (RunInstances, 2 tokens a second) refills several tokens.
     */
    public static RetryStrategy testRetryStrategy() {
        BackoffStrategy quick = BackoffStrategy.exponentialDelay(Duration.ofMillis(2), Duration.ofMillis(20));
        BackoffStrategy refill = BackoffStrategy.exponentialDelayWithoutJitter(Duration.ofMillis(THROTTLED_FIRST_MS),
                Duration.ofSeconds(1));
        return AwsRetryStrategy.standardRetryStrategy().toBuilder()
                .maxAttempts(8)
                .backoffStrategy(quick)
                .throttlingBackoffStrategy(refill)
                .circuitBreakerEnabled(false)
                .build();
    }

    /** The first pause after a throttling answer, in {@link #testRetryStrategy()}. */
    static final int THROTTLED_FIRST_MS = 25;

    public FaultPlan faults() {
        return faults;
    }

    /**
     * EC2's request throttling, on unless a test turns it off: per-action token buckets with the documented sizes and
     * refill rates, and the instance-counted buckets of RunInstances and TerminateInstances ({@link RequestThrottle},
     * docs/aws-facts.md). Every client of {@link #client()} waits throttling out at the buckets' pace, and
     * {@link #cloudFactory}'s clouds pace their launches with the product's {@link
     * org.workshopfleet.cloud.ec2.RequestBucket#runInstances()} (unpaced only when throttling is off).
     */
    public Ec2Fake throttling(boolean on) {
        throttle.enabled(on);
        return this;
    }

    /** Whether {@link #throttling(boolean)} is on. */
    public boolean throttling() {
        return throttle.enabled();
    }

    /**
     * Another size and refill rate for one action's request bucket (the bucket starts full), e.g. a small
     * RunInstances bucket to meet throttling within a test's first calls.
     */
    public Ec2Fake requestBucket(String action, int capacity, double refillPerSecond) {
        throttle.override(action, new RequestThrottle.Figures(capacity, refillPerSecond));
        return this;
    }

    /** Calls answered RequestLimitExceeded because a bucket was empty (injected faults not counted). */
    public long throttledCalls() {
        return throttle.throttled();
    }

    /** This account's own AMIs and EBS snapshots (CreateImage, DeregisterImage, snapshots): settings and inspection. */
    public BakedImages bakedImages() {
        return baked;
    }

    // ------------------------------------------------------------------ behaviour settings

    /** Instances report pending for this many DescribeInstances calls after launch (default 2). */
    public Ec2Fake pendingPolls(int polls) {
        synchronized (lock) {
            pendingPolls = polls;
        }
        return this;
    }

    /** Terminated instances report shutting-down for this many DescribeInstances calls (default 2). */
    public Ec2Fake terminatingPolls(int polls) {
        synchronized (lock) {
            terminatingPolls = polls;
        }
        return this;
    }

    /** Terminated instances stay listed for this many further DescribeInstances calls, then are unknown (default 1000). */
    public Ec2Fake listedAfterTerminated(int polls) {
        synchronized (lock) {
            listedAfterTerminated = polls;
        }
        return this;
    }

    /** Eventual consistency: a new instance is unknown to the first {@code polls} DescribeInstances calls after launch. */
    public Ec2Fake notFoundDescribesAfterLaunch(int polls) {
        synchronized (lock) {
            notFoundDescribes = polls;
        }
        return this;
    }

    /**
     * Every call answers this much later (default none), as a distant region would: lets a test kill a command in the
     * middle of a sequence of calls that would otherwise finish within a few milliseconds.
     */
    public Ec2Fake callLatency(java.time.Duration latency) {
        this.callLatencyMillis = latency.toMillis();
        return this;
    }

    /**
     * Hands each request, as received (status 0, no error code yet), to {@code hook} on the serving thread before the
     * stand-in looks at it, outside its lock: a hook that blocks holds that one call in flight (a slow RunInstances)
     * while other calls are served. The stand-in serves four requests at a time.
     */
    public Ec2Fake beforeServing(java.util.function.Consumer<RecordedCall> hook) {
        this.beforeServing = Objects.requireNonNull(hook);
        return this;
    }

    /** Lingering ENIs: a group that had instances answers DependencyViolation this many more deletes after they end. */
    public Ec2Fake groupBusyDeletesAfterTerminate(int deletes) {
        synchronized (lock) {
            groupBusyDeletes = deletes;
        }
        return this;
    }

    /** How many instances of {@code type} zone {@code zone} can still launch (default: unlimited). */
    public Ec2Fake capacity(String zone, String type, int instances) {
        synchronized (lock) {
            capacity.put(zone + "|" + type, instances);
        }
        return this;
    }

    /** The account's On-Demand vCPU quota (default: none); {@link #quotas()} reports the same value. */
    public Ec2Fake vcpuLimit(int vcpus) {
        synchronized (lock) {
            vcpuLimit = vcpus;
        }
        return this;
    }

    /** The vCPU quota set with {@link #vcpuLimit(int)}, or null for none. */
    public Integer vcpuLimit() {
        synchronized (lock) {
            return vcpuLimit;
        }
    }

    /**
     * The Service Quotas stand-in of this account (started on first use, closed with this fake): it reports this
     * fake's {@link #vcpuLimit()} as the standard On-Demand vCPU quota, so both stand-ins always agree.
     */
    public ServiceQuotasFake quotas() {
        synchronized (lock) {
            if (quotas == null) {
                quotas = ServiceQuotasFake.start(() -> {
                    Integer limit = vcpuLimit();
                    return limit == null ? ServiceQuotasFake.NO_LIMIT_VALUE : limit.doubleValue();
                });
            }
            return quotas;
        }
    }

    /** The account's running-instance limit (default: none). */
    public Ec2Fake instanceLimit(int count) {
        synchronized (lock) {
            instanceLimit = count;
        }
        return this;
    }

    /** The region has no default VPC. */
    public Ec2Fake withoutDefaultVpc() {
        synchronized (lock) {
            hasDefaultVpc = false;
        }
        return this;
    }

    /**
     * Adds a public image (for DescribeImages), replacing one with the same id: with {@link #STOCK_AMI} and another
     * owner, the pinned image is someone else's.
     */
    public Ec2Fake addImage(String id, String name, String creationDate, String owner, String state) {
        synchronized (lock) {
            images.removeIf(i -> i.id().equals(id));
            images.add(new Image(id, name, creationDate, owner, state, "x86_64"));
        }
        return this;
    }

    /** Removes a public image, e.g. {@link #STOCK_AMI} for a region where Canonical has none. */
    public Ec2Fake removeImage(String id) {
        synchronized (lock) {
            images.removeIf(i -> i.id().equals(id));
        }
        return this;
    }

    /**
     * What boots behind RunInstances (default {@link InstanceBackend#testNet()}, instant). A backend set here boots in
     * the background: the instance stays pending until {@code boot} returns (and {@link #pendingPolls} have passed);
     * if {@code boot} throws, the instance ends up terminated with a server error as its state reason.
     */
    public Ec2Fake backend(InstanceBackend newBackend) {
        synchronized (lock) {
            backend = Objects.requireNonNull(newBackend);
            bootInBackground = true;
        }
        return this;
    }

    public List<String> zones() {
        return zones;
    }

    // ------------------------------------------------------------------ inspection

    /** Every request received, in order (faulted ones included). */
    public List<RecordedCall> calls() {
        synchronized (lock) {
            return List.copyOf(log);
        }
    }

    public List<RecordedCall> calls(String operation) {
        return calls().stream().filter(c -> c.operation().equals(operation)).toList();
    }

    /** Requests per operation, sorted by name. */
    public Map<String, Long> callCounts() {
        return calls().stream().collect(Collectors.groupingBy(RecordedCall::operation, TreeMap::new,
                Collectors.counting()));
    }

    public void clearCalls() {
        synchronized (lock) {
            log.clear();
        }
    }

    public List<InstanceView> instances() {
        synchronized (lock) {
            return instances.values().stream().filter(i -> !purged(i)).map(i -> new InstanceView(i.id, state(i), i.type,
                    i.zone, i.launchIndex, state(i).equals("running") ? address(i) : null, Map.copyOf(i.tags),
                    Map.copyOf(i.volumeTags), i.httpTokens, i.shutdownBehavior, i.clientToken, i.userData,
                    List.copyOf(i.groupIds))).toList();
        }
    }

    /** Instances neither terminated nor shutting down. */
    public long liveInstanceCount() {
        return instances().stream().filter(i -> !i.state().equals("terminated") && !i.state().equals("shutting-down"))
                .count();
    }

    /** All instances ever launched, including purged ones. */
    public int launchedInstanceCount() {
        synchronized (lock) {
            return instances.size();
        }
    }

    public Set<String> securityGroupNames() {
        synchronized (lock) {
            return groups.values().stream().map(g -> g.name).collect(Collectors.toCollection(LinkedHashSet::new));
        }
    }

    /** A group's ingress as {@code protocol from-to source} lines (an IPv4 or IPv6 CIDR, a prefix list or group id). */
    public List<String> ingress(String groupName) {
        synchronized (lock) {
            return groups.values().stream().filter(g -> g.name.equals(groupName)).findFirst()
                    .map(g -> g.ingress.stream().map(p -> p.protocol() + " " + p.from() + "-" + p.to() + " " + p.cidr())
                            .toList()).orElse(List.of());
        }
    }

    public Set<String> keyPairNames() {
        synchronized (lock) {
            return new LinkedHashSet<>(keys.keySet());
        }
    }

    @Override
    public void close() {
        synchronized (lock) {
            if (quotas != null) {
                quotas.close();
            }
        }
        server.close();
        boots.shutdownNow();
    }

    // ------------------------------------------------------------------ HTTP

    private void handle(HttpExchange exchange) throws IOException {
        String body;
        try (InputStream in = exchange.getRequestBody()) {
            body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        long latency = callLatencyMillis;
        if (latency > 0) {
            try {
                Thread.sleep(latency);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        QueryForm form = QueryForm.parse(body);
        String action = Objects.toString(form.get("Action"), "");
        java.util.function.Consumer<RecordedCall> hook = beforeServing;
        if (hook != null) {
            hook.accept(new RecordedCall(action, form.asMap(), 0, null));
        }
        String requestId = UUID.randomUUID().toString();
        int status = 200;
        String code = null;
        String xml;
        synchronized (lock) {
            try {
                Ec2Error fault = faults.before(action);
                if (fault != null) {
                    throw fault;
                }
                if (!throttle.admit(action, !form.filters().isEmpty() || form.get("MaxResults") != null,
                        resources(action, form))) {
                    throw Ec2Error.injected("RequestLimitExceeded");
                }
                xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<" + action + "Response xmlns=\"" + NS
                        + "\"><requestId>" + requestId + "</requestId>" + route(action, form) + "</" + action
                        + "Response>";
                fault = faults.after(action);
                if (fault != null) {
                    throw fault;
                }
            } catch (Ec2Error e) {
                status = e.status;
                code = e.code;
                xml = errorXml(e.code, e.getMessage(), requestId);
            } catch (RuntimeException e) {
                // A fault of the stand-in or its backend, not an answer EC2 would give. Left to the JDK server, it
                // drops the connection and the SDK retries that as an I/O error, hiding the cause; EC2 answers its own
                // faults with InternalError (500; Amazon EC2 API Reference: Error codes for the Amazon EC2 API), so
                // this does too, and the stack trace goes to the log.
                System.err.println("EC2 stand-in: " + action + " " + requestId + " failed inside the stand-in:");
                e.printStackTrace();
                status = 500;
                code = "InternalError";
                xml = errorXml(code, Ec2Error.MESSAGES.get(code) + " (EC2 stand-in: " + e + ")", requestId);
            }
            log.add(new RecordedCall(action, form.asMap(), status, code));
        }
        byte[] bytes = xml.getBytes(StandardCharsets.UTF_8);
        FakeHttpServer.reply(exchange, status, Map.of("Content-Type", "text/xml;charset=UTF-8", "x-amzn-RequestId",
                requestId, "Server", "AmazonEC2"), bytes);
    }

    /** Instances a call affects, for the resource buckets: RunInstances' MaxCount, TerminateInstances' ids. */
    private static int resources(String action, QueryForm form) {
        return switch (action) {
            case "RunInstances" -> Math.max(1, form.intValue("MaxCount", 1));
            case "TerminateInstances" -> Math.max(1, form.list("InstanceId").size());
            default -> 0;
        };
    }

    /** EC2's error envelope, on one line after the prolog as real responses are. */
    private static String errorXml(String code, String message, String requestId) {
        return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>" + Xml.escape(code)
                + "</Code><Message>" + Xml.escape(message) + "</Message></Error></Errors><RequestID>" + requestId
                + "</RequestID></Response>";
    }

    private String route(String action, QueryForm q) {
        return switch (action) {
            case "RunInstances" -> runInstances(q);
            case "DescribeInstances" -> describeInstances(q);
            case "TerminateInstances" -> terminateInstances(q);
            case "CreateSecurityGroup" -> createSecurityGroup(q);
            case "DescribeSecurityGroups" -> describeSecurityGroups(q);
            case "AuthorizeSecurityGroupIngress" -> authorize(q);
            case "RevokeSecurityGroupIngress" -> revoke(q);
            case "DeleteSecurityGroup" -> deleteSecurityGroup(q);
            case "ImportKeyPair" -> importKeyPair(q);
            case "DescribeKeyPairs" -> describeKeyPairs(q);
            case "DeleteKeyPair" -> deleteKeyPair(q);
            case "DescribeVpcs" -> describeVpcs(q);
            case "DescribeImages" -> describeImages(q);
            case "CreateImage" -> baked.createImage(q, this::imageableInstance, this::captureImageData);
            case "DeregisterImage" -> baked.deregisterImage(q);
            case "DescribeSnapshots" -> baked.describeSnapshots(q, OWNER_ID);
            case "DeleteSnapshot" -> baked.deleteSnapshot(q);
            case "DescribeAvailabilityZones" -> describeZones(q);
            case "DescribeInstanceTypes" -> describeInstanceTypes(q);
            case "CreateTags" -> createTags(q);
            default -> throw Ec2Error.of("InvalidAction", "The action " + action + " is not valid for this web service.");
        };
    }

    // ------------------------------------------------------------------ instances

    private String state(Inst i) {
        if (i.terminatedAt == null && i.ip.isCompletedExceptionally()) {
            i.terminatedAt = tick - terminatingPolls - 1; // the boot failed: gone, like a launch EC2 could not start
            i.bootFailed = true;
        }
        if (i.terminatedAt != null) {
            return tick - i.terminatedAt > terminatingPolls ? "terminated" : "shutting-down";
        }
        return tick - i.launchedAt > pendingPolls && address(i) != null ? "running" : "pending";
    }

    private static int stateCode(String state) {
        return switch (state) {
            case "pending" -> 0;
            case "running" -> 16;
            case "shutting-down" -> 32;
            case "terminated" -> 48;
            case "stopping" -> 64;
            default -> 80;
        };
    }

    private boolean purged(Inst i) {
        return i.terminatedAt != null && tick - i.terminatedAt > terminatingPolls + listedAfterTerminated;
    }

    /** Visible once {@link #notFoundDescribes} DescribeInstances calls have been answered since the launch. */
    private boolean visible(Inst i) {
        return !purged(i) && tick - i.launchedAt >= notFoundDescribes;
    }

    /** The same, from inside a DescribeInstances, which has already counted itself. */
    private boolean visibleToThisDescribe(Inst i) {
        return !purged(i) && tick - 1 - i.launchedAt >= notFoundDescribes;
    }

    private boolean occupiesQuota(Inst i) {
        return !purged(i) && !state(i).equals("terminated");
    }

    private String newId(String prefix) {
        return prefix + String.format("%017x", nextId++);
    }

    private String runInstances(QueryForm q) {
        String token = q.get("ClientToken");
        if (token != null && reservationByToken.containsKey(token)) {
            String rid = reservationByToken.get(token);
            return reservationXml(rid, instances.values().stream().filter(i -> i.reservationId.equals(rid)).toList());
        }
        String imageId = required(q, "ImageId");
        if (!imageId.startsWith("ami-")) {
            throw Ec2Error.of("InvalidAMIID.Malformed", "Invalid id: \"" + imageId + "\" (expecting \"ami-...\")");
        }
        baked.checkLaunchable(imageId);
        String type = Objects.toString(q.get("InstanceType"), "m1.small");
        int min = q.intValue("MinCount", -1);
        int max = q.intValue("MaxCount", -1);
        if (min < 1 || max < min) {
            throw Ec2Error.of("InvalidParameterValue", "MinCount (" + min + ") and MaxCount (" + max + ") are invalid");
        }
        String keyName = q.get("KeyName");
        if (keyName != null && !keys.containsKey(keyName)) {
            throw Ec2Error.of("InvalidKeyPair.NotFound", "The key pair '" + keyName + "' does not exist");
        }
        List<String> groupIds = q.list("SecurityGroupId");
        for (String g : groupIds) {
            if (!groups.containsKey(g)) {
                throw Ec2Error.of("InvalidGroup.NotFound", "The security group '" + g + "' does not exist in default VPC");
            }
        }
        String raw = null;
        if (q.get("UserData") != null) {
            byte[] decoded;
            try {
                decoded = Base64.getDecoder().decode(q.get("UserData"));
            } catch (IllegalArgumentException e) {
                throw Ec2Error.of("InvalidParameterValue", "Invalid BASE64 encoding of user data.");
            }
            if (decoded.length > 16384) {
                throw Ec2Error.of("InvalidParameterValue", "User data is limited to 16384 bytes");
            }
            raw = new String(decoded, StandardCharsets.UTF_8);
        }
        int vcpu = VCPUS.getOrDefault(type, 2);
        if (instanceLimit != null) {
            long live = instances.values().stream().filter(this::occupiesQuota).count();
            if (live + min > instanceLimit) {
                throw Ec2Error.of("InstanceLimitExceeded", "Your quota allows for " + Math.max(0, instanceLimit - live)
                        + " more running instance(s). You requested at least " + min + ".");
            }
        }
        if (vcpuLimit != null) {
            int used = instances.values().stream().filter(this::occupiesQuota)
                    .mapToInt(i -> VCPUS.getOrDefault(i.type, 2)).sum();
            // Strict on MaxCount: the request as a whole must fit the quota.
            if (used + max * vcpu > vcpuLimit) {
                throw Ec2Error.of("VcpuLimitExceeded", "You have requested more vCPU capacity than your current vCPU"
                        + " limit of " + vcpuLimit + " allows for the instance bucket that the specified instance type"
                        + " belongs to. Please visit http://aws.amazon.com/contact-us/ec2-request to request an"
                        + " adjustment to this limit.");
            }
        }
        String zone = q.get("Placement.AvailabilityZone");
        int count;
        if (zone != null) {
            if (!zones.contains(zone)) {
                throw Ec2Error.of("InvalidParameterValue", "Invalid availability zone: [" + zone + "]");
            }
            count = Math.min(max, capacityLeft(zone, type));
            if (count < min) {
                String asked = zone;
                List<String> others = zones.stream().filter(z -> !z.equals(asked) && capacityLeft(z, type) >= min).toList();
                throw Ec2Error.of("InsufficientInstanceCapacity", "We currently do not have sufficient " + type
                        + " capacity in the Availability Zone you requested (" + zone + "). Our system will be working"
                        + " on provisioning additional capacity. You can currently get " + type + " capacity by not"
                        + " specifying an Availability Zone in your request or choosing " + String.join(", ", others) + ".");
            }
        } else {
            // EC2 places the request where it fits; with MinCount < MaxCount it launches as many as one zone allows.
            String best = null;
            for (String z : zones) {
                if (best == null || capacityLeft(z, type) > capacityLeft(best, type)) {
                    best = z;
                }
            }
            count = Math.min(max, capacityLeft(best, type));
            if (count < min) {
                throw Ec2Error.of("InsufficientInstanceCapacity", "Insufficient capacity.");
            }
            zone = best;
        }
        Map<String, Map<String, String>> tagSpecs = q.tagSpecifications();
        String rid = newId("r-");
        List<Inst> launched = new ArrayList<>();
        for (int n = 0; n < count; n++) {
            Inst i = new Inst();
            i.id = "i-" + String.format("%017x", nextInstanceId++);
            i.reservationId = rid;
            i.imageId = imageId;
            i.type = type;
            i.keyName = keyName;
            i.zone = zone;
            i.launchIndex = n;
            i.launchedAt = tick;
            i.launchTime = Instant.now().truncatedTo(ChronoUnit.SECONDS);
            i.privateIp = "172.31." + (instances.size() / 250) + "." + (instances.size() % 250 + 4);
            i.volumeId = newId("vol-");
            i.clientToken = token;
            i.httpTokens = Objects.toString(q.get("MetadataOptions.HttpTokens"), "optional");
            i.shutdownBehavior = Objects.toString(q.get("InstanceInitiatedShutdownBehavior"), "stop");
            i.userData = raw;
            i.groupIds = groupIds.isEmpty() ? List.of() : List.copyOf(groupIds);
            i.tags.putAll(tagSpecs.getOrDefault("instance", Map.of()));
            i.volumeTags.putAll(tagSpecs.getOrDefault("volume", Map.of()));
            i.ip = baked.isOwn(imageId) ? bootFromImage(backend, i.id, imageId, raw) : boot(backend, i.id, raw);
            instances.put(i.id, i);
            launched.add(i);
            for (String g : groupIds) {
                groups.get(g).hadInstances = true;
            }
        }
        String key = zone + "|" + type;
        if (capacity.containsKey(key)) {
            capacity.put(key, capacity.get(key) - count);
        }
        if (token != null) {
            reservationByToken.put(token, rid);
        }
        return reservationXml(rid, launched);
    }

    private CompletableFuture<String> boot(InstanceBackend b, String id, String raw) {
        if (!bootInBackground) {
            return CompletableFuture.completedFuture(b.boot(id, raw));
        }
        return CompletableFuture.supplyAsync(() -> b.boot(id, raw), boots);
    }

    private CompletableFuture<String> bootFromImage(InstanceBackend b, String id, String imageId, String raw) {
        if (!bootInBackground) {
            return CompletableFuture.completedFuture(b.bootFromImage(id, imageId, raw));
        }
        return CompletableFuture.supplyAsync(() -> b.bootFromImage(id, imageId, raw), boots);
    }

    /**
     * CreateImage answers at once; the backend captures the instance's disk in the background (after the instance has
     * booted), and the image stays pending until it has. EC2 would reboot the instance for the snapshot (NoReboot
     * false); a lab backend powers it off to take its layer and does not start it again, which nothing notices: the
     * tool terminates a builder right after imaging it.
     */
    private CompletableFuture<?> captureImageData(String instanceId, String imageId) {
        InstanceBackend b = backend;
        CompletableFuture<String> booted = instances.get(instanceId).ip;
        if (!bootInBackground) {
            b.capture(instanceId, imageId);
            return CompletableFuture.completedFuture(null);
        }
        return booted.thenAcceptAsync(ip -> b.capture(instanceId, imageId), boots);
    }

    /** Called (under the lock) when an image's last snapshot is deleted. */
    private void releaseImageData(String imageId) {
        backend.release(imageId);
    }

    /** The address once booted, else null. */
    private static String address(Inst i) {
        return i.ip.isDone() && !i.ip.isCompletedExceptionally() ? i.ip.join() : null;
    }

    private int capacityLeft(String zone, String type) {
        return capacity.getOrDefault(zone + "|" + type, Integer.MAX_VALUE);
    }

    private String reservationXml(String rid, List<Inst> list) {
        Xml x = new Xml().el("reservationId", rid).el("ownerId", OWNER_ID).empty("groupSet").open("instancesSet");
        list.forEach(i -> instanceXml(x, i));
        return x.close("instancesSet").toString();
    }

    private void instanceXml(Xml x, Inst i) {
        String state = state(i);
        boolean running = state.equals("running");
        x.open("item").el("instanceId", i.id).el("imageId", i.imageId)
                .open("instanceState").el("code", stateCode(state)).el("name", state).close("instanceState")
                .el("privateDnsName", "ip-" + i.privateIp.replace('.', '-') + "." + REGION + ".compute.internal")
                .el("dnsName", running ? "ec2-" + address(i).replace('.', '-') + "." + REGION + ".compute.amazonaws.com" : "")
                .el("reason", "").el("keyName", i.keyName).el("amiLaunchIndex", i.launchIndex).empty("productCodes")
                .el("instanceType", i.type).el("launchTime", i.launchTime)
                .open("placement").el("availabilityZone", i.zone).empty("groupName").el("tenancy", "default")
                .close("placement").open("monitoring").el("state", "disabled").close("monitoring");
        if (!state.equals("terminated")) {
            x.el("subnetId", "subnet-" + i.zone.substring(i.zone.length() - 1) + "0000000000000000")
                    .el("vpcId", DEFAULT_VPC).el("privateIpAddress", i.privateIp);
        }
        if (running) {
            x.el("ipAddress", address(i));
        }
        x.el("sourceDestCheck", true).open("groupSet");
        for (String g : i.groupIds) {
            Group group = groups.get(g);
            x.open("item").el("groupId", g).el("groupName", group == null ? null : group.name).close("item");
        }
        x.close("groupSet");
        if (state.equals("pending")) {
            x.open("stateReason").el("code", "pending").el("message", "pending").close("stateReason");
        } else if (i.bootFailed) {
            x.open("stateReason").el("code", "Server.InternalError")
                    .el("message", "Server.InternalError: Internal error on launch").close("stateReason");
        } else if (i.terminatedAt != null) {
            x.open("stateReason").el("code", "Client.UserInitiatedShutdown")
                    .el("message", "Client.UserInitiatedShutdown: User initiated shutdown").close("stateReason");
        }
        x.el("architecture", "x86_64").el("rootDeviceType", "ebs").el("rootDeviceName", "/dev/sda1")
                .open("blockDeviceMapping");
        if (!state.equals("terminated")) {
            x.open("item").el("deviceName", "/dev/sda1").open("ebs").el("volumeId", i.volumeId)
                    .el("status", "attached").el("attachTime", i.launchTime).el("deleteOnTermination", true)
                    .close("ebs").close("item");
        }
        x.close("blockDeviceMapping").el("virtualizationType", "hvm").el("clientToken", i.clientToken);
        tagSet(x, i.tags);
        int vcpu = VCPUS.getOrDefault(i.type, 2);
        x.open("cpuOptions").el("coreCount", Math.max(1, vcpu / 2)).el("threadsPerCore", vcpu > 1 ? 2 : 1)
                .close("cpuOptions");
        x.el("hypervisor", "xen").open("metadataOptions").el("state", "applied").el("httpTokens", i.httpTokens)
                .el("httpPutResponseHopLimit", 1).el("httpEndpoint", "enabled").close("metadataOptions")
                .el("ebsOptimized", false).close("item");
    }

    private String describeInstances(QueryForm q) {
        tick++;
        List<String> ids = q.list("InstanceId");
        if (!ids.isEmpty() && q.get("MaxResults") != null) {
            throw Ec2Error.of("InvalidParameterCombination",
                    "The parameter instancesSet cannot be used with the parameter maxResults");
        }
        List<Inst> selection;
        if (!ids.isEmpty()) {
            List<String> unknown = ids.stream()
                    .filter(id -> !instances.containsKey(id) || !visibleToThisDescribe(instances.get(id))).toList();
            if (!unknown.isEmpty()) {
                throw notFound(unknown);
            }
            selection = new ArrayList<>(new LinkedHashSet<>(ids)).stream().map(instances::get).toList();
        } else {
            selection = instances.values().stream().filter(this::visibleToThisDescribe).toList();
        }
        List<QueryForm.FilterSpec> filters = q.filters();
        selection = selection.stream().filter(i -> matches(filters, name -> instanceAttribute(i, name))).toList();
        Page<Inst> page = page(selection, q, 5);
        Xml x = new Xml().open("reservationSet");
        Map<String, List<Inst>> byReservation = new LinkedHashMap<>();
        page.items().forEach(i -> byReservation.computeIfAbsent(i.reservationId, k -> new ArrayList<>()).add(i));
        byReservation.forEach((rid, list) -> {
            x.open("item").el("reservationId", rid).el("ownerId", OWNER_ID).empty("groupSet").open("instancesSet");
            list.forEach(i -> instanceXml(x, i));
            x.close("instancesSet").close("item");
        });
        return x.close("reservationSet").el("nextToken", page.nextToken()).toString();
    }

    private List<String> instanceAttribute(Inst i, String filter) {
        if (filter.startsWith("tag:")) {
            String v = i.tags.get(filter.substring(4));
            return v == null ? List.of() : List.of(v);
        }
        return switch (filter) {
            case "instance-state-name" -> List.of(state(i));
            case "instance-id" -> List.of(i.id);
            case "instance-type" -> List.of(i.type);
            case "availability-zone" -> List.of(i.zone);
            case "client-token" -> i.clientToken == null ? List.of() : List.of(i.clientToken);
            case "instance.group-id" -> i.groupIds;
            case "tag-key" -> List.copyOf(i.tags.keySet());
            default -> null;
        };
    }

    private static Ec2Error notFound(List<String> unknown) {
        return Ec2Error.of("InvalidInstanceID.NotFound", unknown.size() == 1
                ? "The instance ID '" + unknown.get(0) + "' does not exist"
                : "The instance IDs '" + String.join(", ", unknown) + "' do not exist");
    }

    private String terminateInstances(QueryForm q) {
        List<String> ids = q.list("InstanceId");
        if (ids.isEmpty()) {
            throw Ec2Error.of("MissingParameter", "The request must contain the parameter InstanceId");
        }
        if (ids.size() > 1000) {
            throw Ec2Error.of("InvalidParameterValue", "Too many instance ids (" + ids.size() + "); at most 1000");
        }
        List<String> unknown = ids.stream().filter(id -> !instances.containsKey(id) || !visible(instances.get(id)))
                .toList();
        if (!unknown.isEmpty()) {
            throw notFound(unknown); // one unknown id fails the whole call: nothing is terminated
        }
        Xml x = new Xml().open("instancesSet");
        for (String id : new LinkedHashSet<>(ids)) {
            Inst i = instances.get(id);
            String before = state(i);
            if (i.terminatedAt == null) {
                i.terminatedAt = tick;
                InstanceBackend b = backend;
                if (bootInBackground) {
                    i.ip.whenCompleteAsync((ip, error) -> b.terminate(id), boots);
                } else {
                    b.terminate(id);
                }
            }
            String now = state(i);
            x.open("item").el("instanceId", id)
                    .open("currentState").el("code", stateCode(now)).el("name", now).close("currentState")
                    .open("previousState").el("code", stateCode(before)).el("name", before).close("previousState")
                    .close("item");
        }
        return x.close("instancesSet").toString();
    }

    // ------------------------------------------------------------------ security groups

    private String createSecurityGroup(QueryForm q) {
        String name = required(q, "GroupName");
        String description = required(q, "GroupDescription");
        if (name.toLowerCase().startsWith("sg-")) {
            throw Ec2Error.of("InvalidParameterValue", "Group names may not be in the format sg-*");
        }
        String vpcId = q.get("VpcId");
        if (vpcId == null) {
            if (!hasDefaultVpc) {
                throw Ec2Error.of("VPCIdNotSpecified", "No default VPC for this user");
            }
            vpcId = DEFAULT_VPC;
        } else if (!vpcId.equals(DEFAULT_VPC) || !hasDefaultVpc) {
            throw Ec2Error.of("InvalidVpcID.NotFound", "The vpc ID '" + vpcId + "' does not exist");
        }
        String vpc = vpcId;
        if (groups.values().stream().anyMatch(g -> g.vpcId.equals(vpc) && g.name.equalsIgnoreCase(name))) {
            throw Ec2Error.of("InvalidGroup.Duplicate", "The security group '" + name + "' already exists for VPC '"
                    + vpcId + "'");
        }
        Group g = new Group();
        g.id = newId("sg-");
        g.name = name;
        g.description = description;
        g.vpcId = vpcId;
        g.busyDeletesLeft = groupBusyDeletes;
        g.tags.putAll(q.tagSpecifications().getOrDefault("security-group", Map.of()));
        groups.put(g.id, g);
        Xml x = new Xml().el("return", true).el("groupId", g.id)
                .el("securityGroupArn", "arn:aws:ec2:" + REGION + ":" + OWNER_ID + ":security-group/" + g.id);
        tagSet(x, g.tags);
        return x.toString();
    }

    private Group group(String id) {
        Group g = id == null ? null : groups.get(id);
        if (g == null) {
            throw Ec2Error.of("InvalidGroup.NotFound", "The security group '" + id + "' does not exist");
        }
        return g;
    }

    private String describeSecurityGroups(QueryForm q) {
        List<Group> selection;
        List<String> ids = q.list("GroupId");
        if (!ids.isEmpty()) {
            selection = ids.stream().map(this::group).toList();
        } else {
            selection = List.copyOf(groups.values());
        }
        List<String> names = q.list("GroupName");
        if (!names.isEmpty()) {
            for (String n : names) {
                if (selection.stream().noneMatch(g -> g.name.equals(n) && g.vpcId.equals(DEFAULT_VPC))) {
                    throw Ec2Error.of("InvalidGroup.NotFound", "The security group '" + n + "' does not exist in default VPC");
                }
            }
            selection = selection.stream().filter(g -> names.contains(g.name)).toList();
        }
        List<QueryForm.FilterSpec> filters = q.filters();
        selection = selection.stream().filter(g -> matches(filters, f -> groupAttribute(g, f))).toList();
        Page<Group> page = page(selection, q, 5);
        Xml x = new Xml().open("securityGroupInfo");
        for (Group g : page.items()) {
            x.open("item").el("ownerId", OWNER_ID).el("groupId", g.id).el("groupName", g.name)
                    .el("groupDescription", g.description).el("vpcId", g.vpcId).open("ipPermissions");
            Map<String, List<QueryForm.Permission>> byRange = new LinkedHashMap<>();
            g.ingress.forEach(p -> byRange.computeIfAbsent(p.protocol() + "|" + p.from() + "|" + p.to(),
                    k -> new ArrayList<>()).add(p));
            for (List<QueryForm.Permission> same : byRange.values()) {
                QueryForm.Permission first = same.get(0);
                x.open("item").el("ipProtocol", first.protocol()).el("fromPort", first.from()).el("toPort", first.to());
                for (QueryForm.Source kind : List.of(QueryForm.Source.GROUP, QueryForm.Source.IPV4,
                        QueryForm.Source.IPV6, QueryForm.Source.PREFIX_LIST)) {
                    x.open(kind.xmlList);
                    same.stream().filter(p -> p.kind() == kind).forEach(p -> {
                        x.open("item");
                        if (kind == QueryForm.Source.GROUP) {
                            x.el("userId", OWNER_ID);
                        }
                        x.el(kind.xmlMember, p.source()).el("description", p.description()).close("item");
                    });
                    x.close(kind.xmlList);
                }
                x.close("item");
            }
            x.close("ipPermissions").open("ipPermissionsEgress").open("item").el("ipProtocol", "-1").empty("groups")
                    .open("ipRanges").open("item").el("cidrIp", "0.0.0.0/0").close("item").close("ipRanges")
                    .empty("ipv6Ranges").empty("prefixListIds").close("item").close("ipPermissionsEgress");
            tagSet(x, g.tags);
            x.el("securityGroupArn", "arn:aws:ec2:" + REGION + ":" + OWNER_ID + ":security-group/" + g.id).close("item");
        }
        return x.close("securityGroupInfo").el("nextToken", page.nextToken()).toString();
    }

    private List<String> groupAttribute(Group g, String filter) {
        if (filter.startsWith("tag:")) {
            String v = g.tags.get(filter.substring(4));
            return v == null ? List.of() : List.of(v);
        }
        return switch (filter) {
            case "group-name" -> List.of(g.name);
            case "group-id" -> List.of(g.id);
            case "vpc-id" -> List.of(g.vpcId);
            case "description" -> List.of(g.description);
            case "tag-key" -> List.copyOf(g.tags.keySet());
            default -> null;
        };
    }

    private String authorize(QueryForm q) {
        Group g = group(q.get("GroupId"));
        List<QueryForm.Permission> perms = q.permissions();
        if (perms.isEmpty() && q.get("IpProtocol") != null && q.get("CidrIp") != null) {
            // The older flat form (IpProtocol, FromPort, ToPort, CidrIp) that the API still accepts.
            perms = List.of(new QueryForm.Permission(q.get("IpProtocol"), q.intValue("FromPort", -1),
                    q.intValue("ToPort", -1), q.get("CidrIp"), null));
        }
        if (perms.isEmpty()) {
            throw Ec2Error.of("MissingParameter", "The request must contain the parameter ipPermissions");
        }
        for (QueryForm.Permission p : perms) {
            checkSource(p);
            if (g.ingress.stream().anyMatch(e -> same(e, p))) {
                throw Ec2Error.of("InvalidPermission.Duplicate", "the specified rule \"peer: " + p.cidr() + ", "
                        + p.protocol().toUpperCase() + ", from port: " + p.from() + ", to port: " + p.to()
                        + ", ALLOW\" already exists");
            }
        }
        Xml x = new Xml().el("return", true).open("securityGroupRuleSet");
        for (QueryForm.Permission p : perms) {
            g.ingress.add(p);
            x.open("item").el("securityGroupRuleId", newId("sgr-")).el("groupId", g.id).el("groupOwnerId", OWNER_ID)
                    .el("isEgress", false).el("ipProtocol", p.protocol()).el("fromPort", p.from()).el("toPort", p.to())
                    .el(p.kind().ruleElement, p.source()).el("description", p.description()).close("item");
        }
        return x.close("securityGroupRuleSet").toString();
    }

    /** The source must be well formed, and a referenced group or prefix list must exist. */
    private void checkSource(QueryForm.Permission p) {
        switch (p.kind()) {
            case IPV4 -> {
                if (!p.source().matches("(\\d{1,3}\\.){3}\\d{1,3}/\\d{1,2}")) {
                    throw Ec2Error.of("InvalidParameterValue", "CIDR block " + p.source() + " is malformed");
                }
            }
            case IPV6 -> {
                if (!p.source().matches("[0-9a-fA-F:]*:[0-9a-fA-F:]*/\\d{1,3}")) {
                    throw Ec2Error.of("InvalidParameterValue", "CIDR block " + p.source() + " is malformed");
                }
            }
            case PREFIX_LIST -> {
                if (!p.source().matches("pl-[0-9a-f]+")) {
                    throw Ec2Error.of("InvalidPrefixListId.Malformed", "The prefix list ID '" + p.source()
                            + "' is malformed");
                }
            }
            case GROUP -> group(p.source());
        }
    }

    private static boolean same(QueryForm.Permission a, QueryForm.Permission b) {
        return a.protocol().equals(b.protocol()) && Objects.equals(a.from(), b.from()) && Objects.equals(a.to(), b.to())
                && a.kind() == b.kind() && a.source().equals(b.source());
    }

    private String revoke(QueryForm q) {
        Group g = group(q.get("GroupId"));
        Xml unknown = new Xml();
        for (QueryForm.Permission p : q.permissions()) {
            if (!g.ingress.removeIf(e -> same(e, p))) {
                unknown.open("item").el("ipProtocol", p.protocol()).el("fromPort", p.from()).el("toPort", p.to())
                        .open(p.kind().xmlList).open("item").el(p.kind().xmlMember, p.source()).close("item")
                        .close(p.kind().xmlList).close("item");
            }
        }
        Xml x = new Xml().el("return", true);
        if (!unknown.toString().isEmpty()) {
            x.open("unknownIpPermissionSet").raw(unknown.toString()).close("unknownIpPermissionSet");
        }
        return x.toString();
    }

    private String deleteSecurityGroup(QueryForm q) {
        Group g = group(q.get("GroupId"));
        boolean inUse = instances.values().stream()
                .anyMatch(i -> !purged(i) && i.groupIds.contains(g.id) && !state(i).equals("terminated"));
        if (inUse || (g.hadInstances && g.busyDeletesLeft-- > 0)) {
            throw Ec2Error.of("DependencyViolation", "resource " + g.id + " has a dependent object");
        }
        groups.remove(g.id);
        return new Xml().el("return", true).el("groupId", g.id).toString();
    }

    // ------------------------------------------------------------------ key pairs

    private String importKeyPair(QueryForm q) {
        String name = required(q, "KeyName");
        String material = required(q, "PublicKeyMaterial");
        String line;
        try {
            line = new String(Base64.getDecoder().decode(material), StandardCharsets.UTF_8).trim();
        } catch (IllegalArgumentException e) {
            throw Ec2Error.of("InvalidParameterValue", "Value for parameter PublicKeyMaterial is invalid. Length exceeds"
                    + " maximum of 2048 or is not base64");
        }
        String[] parts = line.split("\\s+");
        byte[] blob;
        try {
            blob = parts.length >= 2 ? Base64.getDecoder().decode(parts[1]) : null;
        } catch (IllegalArgumentException e) {
            blob = null;
        }
        if (blob == null || !(parts[0].equals("ssh-ed25519") || parts[0].equals("ssh-rsa"))) {
            throw Ec2Error.of("InvalidKey.Format", "Key is not in valid OpenSSH public key format");
        }
        if (keys.containsKey(name)) {
            throw Ec2Error.of("InvalidKeyPair.Duplicate", "The keypair '" + name + "' already exists.");
        }
        String fingerprint = parts[0].equals("ssh-ed25519")
                ? Base64.getEncoder().encodeToString(digest("SHA-256", blob))
                : HexFormat.ofDelimiter(":").formatHex(digest("MD5", blob));
        Key key = new Key(newId("key-"), name, fingerprint, parts[0].equals("ssh-ed25519") ? "ed25519" : "rsa",
                new LinkedHashMap<>(q.tagSpecifications().getOrDefault("key-pair", Map.of())),
                Instant.now().truncatedTo(ChronoUnit.SECONDS));
        keys.put(name, key);
        Xml x = new Xml().el("keyName", name).el("keyPairId", key.id()).el("keyFingerprint", fingerprint);
        tagSet(x, key.tags());
        return x.toString();
    }

    private String describeKeyPairs(QueryForm q) {
        List<Key> selection;
        List<String> names = q.list("KeyName");
        if (!names.isEmpty()) {
            for (String n : names) {
                if (!keys.containsKey(n)) {
                    throw Ec2Error.of("InvalidKeyPair.NotFound", "The key pair '" + n + "' does not exist");
                }
            }
            selection = names.stream().map(keys::get).toList();
        } else {
            selection = List.copyOf(keys.values());
        }
        List<QueryForm.FilterSpec> filters = q.filters();
        selection = selection.stream().filter(k -> matches(filters, f -> {
            if (f.startsWith("tag:")) {
                String v = k.tags().get(f.substring(4));
                return v == null ? List.of() : List.of(v);
            }
            return switch (f) {
                case "key-name" -> List.of(k.name());
                case "key-pair-id" -> List.of(k.id());
                case "fingerprint" -> List.of(k.fingerprint());
                default -> null;
            };
        })).toList();
        Xml x = new Xml().open("keySet");
        for (Key k : selection) {
            x.open("item").el("keyPairId", k.id()).el("keyName", k.name()).el("keyFingerprint", k.fingerprint())
                    .el("keyType", k.type());
            tagSet(x, k.tags());
            x.el("createTime", k.created()).close("item");
        }
        return x.close("keySet").toString();
    }

    private String deleteKeyPair(QueryForm q) {
        String name = q.get("KeyName");
        String id = q.get("KeyPairId");
        Key removed = null;
        if (name != null) {
            removed = keys.remove(name);
        } else if (id != null) {
            removed = keys.values().stream().filter(k -> k.id().equals(id)).findFirst().orElse(null);
            if (removed != null) {
                keys.remove(removed.name());
            }
        }
        // 200 even when the key does not exist: EC2's DeleteKeyPair does not fail on a missing key.
        return new Xml().el("return", true).el("keyPairId", removed == null ? null : removed.id()).toString();
    }

    // ------------------------------------------------------------------ account and catalogue

    private String describeVpcs(QueryForm q) {
        List<QueryForm.FilterSpec> filters = q.filters();
        Xml x = new Xml().open("vpcSet");
        if (hasDefaultVpc && matches(filters, f -> switch (f) {
            case "is-default" -> List.of("true");
            case "vpc-id" -> List.of(DEFAULT_VPC);
            case "state" -> List.of("available");
            case "cidr", "cidr-block-association.cidr-block" -> List.of("172.31.0.0/16");
            default -> null;
        })) {
            x.open("item").el("vpcId", DEFAULT_VPC).el("ownerId", OWNER_ID).el("state", "available")
                    .el("cidrBlock", "172.31.0.0/16").el("dhcpOptionsId", "dopt-0a1b2c3d").el("instanceTenancy", "default")
                    .el("isDefault", true).empty("tagSet").close("item");
        }
        return x.close("vpcSet").toString();
    }

    private String describeImages(QueryForm q) {
        List<BakedImages.CatalogImage> catalogue = images.stream()
                .map(i -> new BakedImages.CatalogImage(i.id(), i.name(), i.creationDate(), i.owner(), i.state(), i.arch()))
                .toList();
        return baked.describeImages(q, catalogue, OWNER_ID);
    }

    /** The instance CreateImage names, if visible. */
    private BakedImages.InstanceFacts imageableInstance(String id) {
        Inst i = instances.get(id);
        return i == null || !visible(i) ? null : new BakedImages.InstanceFacts(i.id, state(i), i.volumeId);
    }

    private String describeZones(QueryForm q) {
        List<QueryForm.FilterSpec> filters = q.filters();
        Xml x = new Xml().open("availabilityZoneInfo");
        for (String z : zones) {
            if (matches(filters, f -> switch (f) {
                case "state" -> List.of("available");
                case "zone-type" -> List.of("availability-zone");
                case "zone-name" -> List.of(z);
                case "region-name" -> List.of(REGION);
                default -> null;
            })) {
                x.open("item").el("zoneName", z).el("zoneState", "available").el("regionName", REGION)
                        .el("zoneId", "apne1-az" + (zones.indexOf(z) + 1)).el("zoneType", "availability-zone")
                        .el("optInStatus", "opt-in-not-required").empty("messageSet").close("item");
            }
        }
        return x.close("availabilityZoneInfo").toString();
    }

    private String describeInstanceTypes(QueryForm q) {
        List<String> types = q.list("InstanceType");
        List<String> unknown = types.stream().filter(t -> !VCPUS.containsKey(t)).toList();
        if (!unknown.isEmpty()) {
            throw Ec2Error.of("InvalidInstanceType", "The following supplied instance types do not exist: " + unknown);
        }
        Xml x = new Xml().open("instanceTypeSet");
        for (String t : types.isEmpty() ? new ArrayList<>(new TreeMap<>(VCPUS).keySet()) : types) {
            int v = VCPUS.get(t);
            x.open("item").el("instanceType", t).el("currentGeneration", true).open("vCpuInfo")
                    .el("defaultVCpus", v).el("defaultCores", Math.max(1, v / 2)).el("defaultThreadsPerCore", v > 1 ? 2 : 1)
                    .close("vCpuInfo").close("item");
        }
        return x.close("instanceTypeSet").toString();
    }

    private String createTags(QueryForm q) {
        Map<String, String> tags = new LinkedHashMap<>();
        for (int n = 1; q.get("Tag." + n + ".Key") != null; n++) {
            tags.put(q.get("Tag." + n + ".Key"), Objects.toString(q.get("Tag." + n + ".Value"), ""));
        }
        for (String id : q.list("ResourceId")) {
            if (instances.containsKey(id) && visible(instances.get(id))) {
                instances.get(id).tags.putAll(tags);
            } else if (groups.containsKey(id)) {
                groups.get(id).tags.putAll(tags);
            } else if (id.startsWith("i-")) {
                throw notFound(List.of(id));
            } else if (id.startsWith("vol-")) {
                instances.values().stream().filter(i -> i.volumeId.equals(id)).findFirst()
                        .orElseThrow(() -> Ec2Error.of("InvalidVolume.NotFound", "The volume '" + id + "' does not exist."))
                        .volumeTags.putAll(tags);
            } else {
                throw Ec2Error.of("InvalidID", "The ID '" + id + "' is not valid");
            }
        }
        return new Xml().el("return", true).toString();
    }

    // ------------------------------------------------------------------ shared

    private static String required(QueryForm q, String name) {
        String v = q.get(name);
        if (v == null || v.isEmpty()) {
            throw Ec2Error.of("MissingParameter", "The request must contain the parameter " + name);
        }
        return v;
    }

    static void tagSet(Xml x, Map<String, String> tags) {
        if (tags.isEmpty()) {
            x.empty("tagSet");
            return;
        }
        x.open("tagSet");
        tags.forEach((k, v) -> x.open("item").el("key", k).el("value", v).close("item"));
        x.close("tagSet");
    }

    /**
     * EC2 filter semantics: every filter must match; within one filter any value may match; values may use {@code *}
     * and {@code ?}. An attribute function returning null means the filter name is not supported, which EC2 rejects.
     */
    static boolean matches(List<QueryForm.FilterSpec> filters, Function<String, List<String>> attribute) {
        for (QueryForm.FilterSpec f : filters) {
            List<String> actual = attribute.apply(f.name());
            if (actual == null) {
                throw Ec2Error.of("InvalidParameterValue", "The filter '" + f.name() + "' is invalid");
            }
            boolean any = false;
            for (String pattern : f.values()) {
                Pattern p = Pattern.compile(wildcardRegex(pattern));
                if (actual.stream().anyMatch(a -> p.matcher(a).matches())) {
                    any = true;
                    break;
                }
            }
            if (!any) {
                return false;
            }
        }
        return true;
    }

    private static String wildcardRegex(String pattern) {
        StringBuilder re = new StringBuilder();
        for (char c : pattern.toCharArray()) {
            switch (c) {
                case '*' -> re.append(".*");
                case '?' -> re.append('.');
                default -> re.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return re.toString();
    }

    record Page<T>(List<T> items, String nextToken) {
    }

    /** NextToken/MaxResults paging; the token is an opaque offset. Without MaxResults everything is returned. */
    static <T> Page<T> page(List<T> all, QueryForm q, int minResults) {
        int offset = 0;
        String token = q.get("NextToken");
        if (token != null) {
            try {
                offset = Integer.parseInt(new String(Base64.getDecoder().decode(token), StandardCharsets.UTF_8)
                        .substring("offset:".length()));
            } catch (RuntimeException e) {
                throw Ec2Error.of("InvalidParameterValue", "The token '" + token + "' is invalid");
            }
        }
        String maxText = q.get("MaxResults");
        if (maxText == null) {
            return new Page<>(all.subList(Math.min(offset, all.size()), all.size()), null);
        }
        int max = q.intValue("MaxResults", 1000);
        if (max < minResults || max > 1000) {
            throw Ec2Error.of("InvalidParameterValue", "Value ( " + max + " ) for parameter maxResults is invalid."
                    + " Expecting a value between " + minResults + " and 1000.");
        }
        int end = Math.min(all.size(), offset + max);
        String next = end < all.size()
                ? Base64.getEncoder().encodeToString(("offset:" + end).getBytes(StandardCharsets.UTF_8)) : null;
        return new Page<>(all.subList(Math.min(offset, all.size()), end), next);
    }

    private static byte[] digest(String algorithm, byte[] data) {
        try {
            return MessageDigest.getInstance(algorithm).digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
