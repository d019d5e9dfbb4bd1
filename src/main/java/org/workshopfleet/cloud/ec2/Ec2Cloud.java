package org.workshopfleet.cloud.ec2;

import org.workshopfleet.error.BadInput;
import org.workshopfleet.error.CloudFailure;
import org.workshopfleet.error.FleetException;
import org.workshopfleet.error.Interrupted;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.workshopfleet.cloud.TaggingExtension;
import org.workshopfleet.cloud.LaunchConfig;
import org.workshopfleet.cloud.IngressExtension;
import org.workshopfleet.cloud.ImageExtension;
import org.workshopfleet.cloud.CapacityExtension;
import org.workshopfleet.cloud.Cloud;
import org.workshopfleet.cloud.CloudResource;
import org.workshopfleet.cloud.IngressRule;
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
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.DescribeInstancesRequest;
import software.amazon.awssdk.services.ec2.model.Ec2Exception;
import software.amazon.awssdk.services.ec2.model.Filter;
import software.amazon.awssdk.services.ec2.model.HttpTokensState;
import software.amazon.awssdk.services.ec2.model.Instance;
import software.amazon.awssdk.services.ec2.model.InstanceMetadataEndpointState;
import software.amazon.awssdk.services.ec2.model.InstanceStateName;
import software.amazon.awssdk.services.ec2.model.IpPermission;
import software.amazon.awssdk.services.ec2.model.IpRange;
import software.amazon.awssdk.services.ec2.model.Ipv6Range;
import software.amazon.awssdk.services.ec2.model.KeyPairInfo;
import software.amazon.awssdk.services.ec2.model.PrefixListId;
import software.amazon.awssdk.services.ec2.model.Reservation;
import software.amazon.awssdk.services.ec2.model.ResourceType;
import software.amazon.awssdk.services.ec2.model.RunInstancesRequest;
import software.amazon.awssdk.services.ec2.model.RunInstancesResponse;
import software.amazon.awssdk.services.ec2.model.SecurityGroup;
import software.amazon.awssdk.services.ec2.model.ShutdownBehavior;
import software.amazon.awssdk.services.ec2.model.Tag;
import software.amazon.awssdk.services.ec2.model.TagSpecification;
import software.amazon.awssdk.services.ec2.model.UserIdGroupPair;
import software.amazon.awssdk.services.ec2.model.Vpc;

/**
 * EC2 behind the {@link Cloud} contract, on the real SDK v2 {@link Ec2Client}: one imported key pair and one security
 * group per workshop, instances launched in batches with deterministic client tokens, everything tagged at creation and
 * found again by tag, and a teardown that survives a lost ledger.
 *
 * <p>Call counts stay nearly flat in the fleet size: one {@code DescribeInstances} per poll covers the whole fleet,
 * {@code TerminateInstances} takes every id at once, and requests whose user data and tags (apart from attendee and
 * name) are identical share one {@code RunInstances}; each instance then finds its attendee number at its
 * {@code amiLaunchIndex} in the {@code Attendee} tag (see {@link AttendeeList}). Requests with per-machine user data
 * need one {@code RunInstances} each, because user data is per call; those run up to {@value #LAUNCH_PARALLELISM} at a
 * time so the fleet's launch takes about as long as one machine's.
 *
 * <p>One thread uses an instance at a time (launches fan out internally). Waits follow the injected {@link Waiter};
 * HTTP-level retries (throttling, 5xx) are the SDK client's.
 */
public final class Ec2Cloud implements Cloud, ImageExtension, IngressExtension, TaggingExtension, CapacityExtension {

    /** EC2's limit on raw (pre-base64) user data (Amazon EC2 User Guide, "Work with instance user data"). */
    public static final int MAX_USER_DATA_BYTES = 16384;
    /** EC2 takes at most this many ids in one {@code DescribeInstances}/{@code TerminateInstances}. */
    static final int MAX_IDS_PER_CALL = 1000;
    /** RunInstances calls in flight at once; far below EC2's request-rate buckets. */
    static final int LAUNCH_PARALLELISM = 8;
    /** Extra RunInstances attempts, with backoff, when EC2 still throttles after the SDK's retries. */
    static final int THROTTLED_LAUNCH_RETRIES = 6;
    /**
     * Polls start 2 s apart and grow by half up to 15 s, each pause shortened by up to 20 % so many clients do not
     * poll in step; termination is waited for up to 10 min.
     */
    public static final Waiter PRODUCTION_WAITER = new Waiter(Duration.ofSeconds(2), Duration.ofSeconds(15), 1.5, 0.2,
            Duration.ofMinutes(10));
    /** Longest retry of {@code DependencyViolation} on the security group: ENIs linger for minutes after termination. */
    static final Duration GROUP_DELETE_TIMEOUT = Duration.ofMinutes(5);
    private static final String WAITING_FOR = "waiting for EC2";
    private static final List<String> LIVE_STATES = List.of("pending", "running", "stopping", "stopped");
    private static final List<String> NOT_TERMINATED_STATES =
            List.of("pending", "running", "stopping", "stopped", "shutting-down");
    private static final Pattern INSTANCE_ID = Pattern.compile("i-[0-9a-zA-Z]+");
    private static final Pattern LIMIT_VALUE = Pattern.compile("limit of (\\d+)|allows for (\\d+) more");

    private final Ec2Client ec2;
    private final LaunchConfig config;
    private final ResourceRecorder recorder;
    private final AmiCatalog amis;
    private final Waiter waiting;
    /** Where the vCPU quota is read before launching; null: no pre-check (EC2's refusal at launch still applies). */
    private final OnDemandVcpuQuota quota;
    /** Default vCPUs per instance type, as DescribeInstanceTypes reported them. */
    private final Map<String, Integer> vcpusByType = new ConcurrentHashMap<>();
    private final Ec2Images images;
    private String groupId;
    private String imageId;
    private List<String> zones;

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
     * @param waiting  poll intervals; its timeout bounds the wait for terminated instances, and (at most
     *                 {@link #GROUP_DELETE_TIMEOUT}) the retries of the security group's deletion
     */
    public Ec2Cloud(Ec2Client ec2, LaunchConfig config, ResourceRecorder recorder, AmiCatalog amis, Waiter waiting) {
        this(ec2, config, recorder, amis, waiting, null);
    }

    /**
     * As {@link #Ec2Cloud(Ec2Client, LaunchConfig, ResourceRecorder, AmiCatalog, Waiter)}, with the vCPU quota that
     * {@link #checkCapacity} reads before anything is created (null: no pre-check).
     */
    public Ec2Cloud(Ec2Client ec2, LaunchConfig config, ResourceRecorder recorder, AmiCatalog amis, Waiter waiting,
                    OnDemandVcpuQuota quota) {
        this.quota = quota;
        this.ec2 = Objects.requireNonNull(ec2, "ec2");
        this.config = Objects.requireNonNull(config, "config");
        this.recorder = Objects.requireNonNull(recorder, "recorder");
        this.amis = Objects.requireNonNull(amis, "amis");
        this.waiting = Objects.requireNonNull(waiting, "waiting");
        this.images = new Ec2Images(ec2, waiting);
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
        software.amazon.awssdk.services.servicequotas.ServiceQuotasClient quotas =
                OnDemandVcpuQuota.defaultClient(config.region());
        Ec2Cloud cloud = new Ec2Cloud(client, config, recorder, amis, PRODUCTION_WAITER, new OnDemandVcpuQuota(quotas));
        cloud.owned = List.of(client, quotas);
        return cloud;
    }

    /** The workshop as EC2 sees it: its instance types, preferred first, are the sizes. */
    public static LaunchConfig config(WorkshopSpec spec) {
        return LaunchConfig.of(spec, spec.instanceTypes());
    }

    /** The client {@link #create} uses: default credentials and retries, Apache HTTP, the given region. */
    public static Ec2Client defaultClient(String region) {
        return Ec2Client.builder()
                .region(Region.of(region))
                .httpClientBuilder(ApacheHttpClient.builder())
                .build();
    }

    /** The clients this cloud built and must close; empty when the caller owns them. */
    private List<AutoCloseable> owned = List.of();

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
    public String providerName() {
        return "ec2";
    }

    @Override
    public UserDataFormat userDataFormat() {
        return UserDataFormat.CLOUD_CONFIG;
    }

    /** The imported key pair's name: {@code workshop-fleet-<workshop>}. */
    public String keyPairName() {
        return resourceName(config.workshop());
    }

    /** The security group's name: {@code workshop-fleet-<workshop>}. */
    public String securityGroupName() {
        return resourceName(config.workshop());
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

    /** Only when this cloud was given where to read the vCPU quota (EC2's refusal at launch still applies without). */
    @Override
    public Optional<CapacityExtension> capacity() {
        return quota == null ? Optional.empty() : Optional.of(this);
    }

    /** The name of a workshop's key pair and security group (what {@link Ec2Profile} plans with). */
    static String resourceName(String workshop) {
        return Tags.MANAGED_BY_VALUE + "-" + workshop;
    }

    // ------------------------------------------------------------------ prepare

    @Override
    public void prepare(LaunchContext context) {
        String cidr = context.cidr().toString();
        if (context.loginPublicKey() == null || !context.loginPublicKey().startsWith("ssh-")) {
            throw new BadInput("the login public key is not an OpenSSH line: delete the workshop's login key files"
                    + " in " + config.stateDir() + " so a new one is generated");
        }
        call("prepare", () -> {
            imageId = amis.imageFor(config.region(), ec2);
            String vpcId = defaultVpc();
            importKeyPair(context.loginPublicKey());
            Set<Permission> current = new LinkedHashSet<>();
            groupId = ensureSecurityGroup(vpcId, current);
            Set<Permission> desired = permissions(context.ingress(), cidr);
            authorize(difference(desired, current), context.ingress());
            revoke(difference(current, desired));
            return null;
        });
    }

    private String defaultVpc() {
        List<Vpc> vpcs = ec2.describeVpcs(r -> r.filters(filter("is-default", "true"))).vpcs();
        if (vpcs.isEmpty()) {
            throw new BadInput("region " + config.region() + " has no default VPC: create one with 'aws ec2"
                    + " create-default-vpc --region " + config.region() + "' or choose another -Dregion");
        }
        return vpcs.get(0).vpcId();
    }

    private void importKeyPair(String publicKey) {
        String name = keyPairName();
        try {
            ec2.importKeyPair(r -> r.keyName(name)
                    .publicKeyMaterial(SdkBytes.fromUtf8String(publicKey.trim()))
                    .tagSpecifications(tagSpec(ResourceType.KEY_PAIR, sharedTags())));
        } catch (Ec2Exception e) {
            if (!"InvalidKeyPair.Duplicate".equals(code(e))) {
                throw e;
            }
            // Exists already: ours from an earlier run (adopt it), or someone else's (refuse to touch it).
            List<KeyPairInfo> keys = ec2.describeKeyPairs(r -> r.keyNames(name)).keyPairs();
            if (keys.isEmpty() || !isOurs(keys.get(0).tags())) {
                throw new BadInput("EC2 key pair '" + name + "' exists but does not belong to workshop '"
                        + config.workshop() + "': delete it or choose another -Dname");
            }
            // Tagged as this workshop's, but made from another state folder (another computer, or a lost or moved
            // one): machines launched with it would not accept this folder's login key.
            if (!Ec2KeyFingerprint.matches(keys.get(0).keyFingerprint(), publicKey)) {
                throw new BadInput("EC2 key pair '" + name + "' in " + config.region() + " belongs to workshop '"
                        + config.workshop() + "' but holds another login key than the state folder " + config.stateDir()
                        + ": it was made from another state folder; run the command there, or remove that fleet with"
                        + " -Daction=teardown (it is found by tag) and run up again, or choose another -Dname");
            }
        }
        recorder.created(new CloudResource(ResourceKind.KEY_PAIR, name, name, 0));
    }

    /**
     * The workshop's group: adopted when it exists (its ingress is added to {@code ingress}), else created (a new group
     * has no ingress, so nothing is added and no second describe is needed).
     */
    private String ensureSecurityGroup(String vpcId, Set<Permission> ingress) {
        String name = securityGroupName();
        Optional<SecurityGroup> existing = findGroupByName(vpcId);
        String id;
        if (existing.isPresent()) {
            if (!isOurs(existing.get().tags())) {
                throw new BadInput("security group '" + name + "' exists in " + vpcId + " but does not belong to"
                        + " workshop '" + config.workshop() + "': delete it or choose another -Dname");
            }
            id = existing.get().groupId();
            ingress.addAll(Permission.of(existing.get()));
        } else {
            try {
                id = ec2.createSecurityGroup(r -> r.groupName(name).vpcId(vpcId)
                        .description("workshop-fleet " + config.workshop() + ": attendee machines")
                        .tagSpecifications(tagSpec(ResourceType.SECURITY_GROUP, sharedTags()))).groupId();
            } catch (Ec2Exception e) {
                if (!"InvalidGroup.Duplicate".equals(code(e))) {
                    throw e;
                }
                SecurityGroup raced = findGroupByName(vpcId).orElseThrow(() -> e);
                id = raced.groupId();
                ingress.addAll(Permission.of(raced));
            }
        }
        recorder.created(new CloudResource(ResourceKind.SECURITY_GROUP, id, name, 0));
        return id;
    }

    private Optional<SecurityGroup> findGroupByName(String vpcId) {
        List<Filter> filters = new ArrayList<>(List.of(filter("group-name", securityGroupName())));
        if (vpcId != null) {
            filters.add(filter("vpc-id", vpcId));
        }
        return ec2.describeSecurityGroupsPaginator(r -> r.filters(filters)).securityGroups().stream().findFirst();
    }

    private SecurityGroup describeGroup(String id) {
        // A group created a moment ago may not be visible yet ("Eventual consistency in the Amazon EC2 API").
        for (int attempt = 0; ; attempt++) {
            try {
                return ec2.describeSecurityGroups(r -> r.groupIds(id)).securityGroups().get(0);
            } catch (Ec2Exception e) {
                if (!"InvalidGroup.NotFound".equals(code(e)) || attempt >= 8) {
                    throw e;
                }
                waiting.pause(attempt, WAITING_FOR);
            }
        }
    }

    private String groupIdOrLookup() {
        if (groupId == null) {
            groupId = findGroupByName(null).filter(g -> isOurs(g.tags())).map(SecurityGroup::groupId)
                    .orElseThrow(() -> new BadInput("workshop '" + config.workshop() + "' has no security group on EC2"
                            + " yet: run -Daction=up, which prepares it before launching"));
        }
        return groupId;
    }

    // ------------------------------------------------------------------ ingress

    /** Which of an {@link IpPermission}'s four source lists a rule comes from. */
    private enum Source { IPV4, IPV6, PREFIX_LIST, GROUP }

    /**
     * One ingress rule as EC2 stores it: protocol, port range and one source of any kind, so that a rule someone added
     * for an IPv6 range, a prefix list or another group is seen (and revoked) like an IPv4 one.
     */
    private record Permission(String protocol, Integer from, Integer to, Source kind, String source) {
        static Set<Permission> of(SecurityGroup group) {
            Set<Permission> out = new LinkedHashSet<>();
            for (IpPermission p : group.ipPermissions()) {
                p.ipRanges().forEach(r -> out.add(new Permission(p.ipProtocol(), p.fromPort(), p.toPort(), Source.IPV4,
                        r.cidrIp())));
                p.ipv6Ranges().forEach(r -> out.add(new Permission(p.ipProtocol(), p.fromPort(), p.toPort(),
                        Source.IPV6, r.cidrIpv6())));
                p.prefixListIds().forEach(r -> out.add(new Permission(p.ipProtocol(), p.fromPort(), p.toPort(),
                        Source.PREFIX_LIST, r.prefixListId())));
                p.userIdGroupPairs().forEach(r -> out.add(new Permission(p.ipProtocol(), p.fromPort(), p.toPort(),
                        Source.GROUP, r.groupId())));
            }
            return out;
        }

        IpPermission toSdk(String description) {
            IpPermission.Builder b = IpPermission.builder().ipProtocol(protocol).fromPort(from).toPort(to);
            return switch (kind) {
                case IPV4 -> b.ipRanges(IpRange.builder().cidrIp(source).description(description).build()).build();
                case IPV6 -> b.ipv6Ranges(Ipv6Range.builder().cidrIpv6(source).build()).build();
                case PREFIX_LIST -> b.prefixListIds(PrefixListId.builder().prefixListId(source).build()).build();
                case GROUP -> b.userIdGroupPairs(UserIdGroupPair.builder().groupId(source).build()).build();
            };
        }
    }

    private static Set<Permission> permissions(List<IngressRule> rules, String cidr) {
        Set<Permission> out = new LinkedHashSet<>();
        for (IngressRule rule : rules) {
            out.add(new Permission(rule.protocol(), rule.port(), rule.port(), Source.IPV4, cidr));
        }
        return out;
    }

    private static Set<Permission> difference(Set<Permission> a, Set<Permission> b) {
        Set<Permission> out = new LinkedHashSet<>(a);
        out.removeAll(b);
        return out;
    }

    private void authorize(Set<Permission> missing, List<IngressRule> rules) {
        if (missing.isEmpty()) {
            return;
        }
        Map<Integer, String> descriptions = new HashMap<>();
        rules.forEach(r -> descriptions.put(r.port(), r.description()));
        List<IpPermission> perms = missing.stream().map(p -> p.toSdk(descriptions.get(p.from()))).toList();
        try {
            for (int attempt = 0; ; attempt++) {
                try {
                    ec2.authorizeSecurityGroupIngress(r -> r.groupId(groupId).ipPermissions(perms));
                    break;
                } catch (Ec2Exception e) {
                    // A new group may not have propagated yet ("Eventual consistency in the Amazon EC2 API").
                    if (!"InvalidGroup.NotFound".equals(code(e)) || attempt >= 8) {
                        throw e;
                    }
                    waiting.pause(attempt, WAITING_FOR);
                }
            }
        } catch (Ec2Exception e) {
            // One existing rule fails the whole call; it can only be one we were about to add, so it is there.
            if (!"InvalidPermission.Duplicate".equals(code(e))) {
                throw e;
            }
            for (IpPermission p : perms) {
                try {
                    ec2.authorizeSecurityGroupIngress(r -> r.groupId(groupId).ipPermissions(p));
                } catch (Ec2Exception one) {
                    if (!"InvalidPermission.Duplicate".equals(code(one))) {
                        throw one;
                    }
                }
            }
        }
    }

    /**
     * Revokes these rules in one call. EC2 reports rules it did not find instead of failing (default VPC, API Reference
     * "RevokeSecurityGroupIngress"); as they were just described, one left over means the group changed meanwhile.
     */
    private void revoke(Set<Permission> extra) {
        if (extra.isEmpty()) {
            return;
        }
        List<IpPermission> perms = extra.stream().map(p -> p.toSdk(null)).toList();
        List<IpPermission> left = ec2.revokeSecurityGroupIngress(r -> r.groupId(groupId).ipPermissions(perms))
                .unknownIpPermissions();
        if (left != null && !left.isEmpty()) {
            throw new CloudFailure("EC2 did not revoke " + left.size() + " ingress rule(s) of security group "
                    + groupId + " (changed while this ran?): re-run the same command");
        }
    }

    /**
     * Makes the group admit exactly the context's CIDR on the declared ports, whatever the ledger says was there: the new
     * rules are authorized first (the facilitator is never locked out midway), then every other rule the group holds —
     * an older CIDR, one a concurrent or earlier run added, an IPv6 range, a prefix list, a group reference — is
     * revoked in one call.
     */
    @Override
    public void replaceIngress(LaunchContext context) {
        String next = context.cidr().toString();
        call("allow-ip", () -> {
            groupId = groupIdOrLookup();
            Set<Permission> current = Permission.of(describeGroup(groupId));
            Set<Permission> desired = permissions(context.ingress(), next);
            authorize(difference(desired, current), context.ingress());
            revoke(difference(current, desired));
            return null;
        });
    }

    @Override
    public void retag(Collection<String> machineIds, Map<String, String> tags) {
        List<String> ids = List.copyOf(machineIds);
        List<Tag> sdkTags = tags.entrySet().stream().map(e -> Tag.builder().key(e.getKey()).value(e.getValue()).build()).toList();
        call("retagging", () -> {
            for (int from = 0; from < ids.size(); from += 1000) {
                List<String> chunk = ids.subList(from, Math.min(ids.size(), from + 1000));
                ec2.createTags(b -> b.resources(chunk).tags(sdkTags));
            }
            return null;
        });
    }

    // ------------------------------------------------------------------ capacity

    /**
     * The vCPU pre-check, cheapest refusal first: the quota (Service Quotas, no EC2 call); the vCPUs of one machine
     * (DescribeInstanceTypes); "the fleet alone does not fit" needs nothing more; else one DescribeInstances over the
     * region counts what runs in the standard families (this workshop's live machines included, which are not launched
     * again). Read-only calls only; nothing is created.
     */
    @Override
    public Optional<String> checkCapacity(int fleetSize) {
        if (quota == null || fleetSize < 1) {
            return Optional.empty();
        }
        String type = config.sizes().get(0);
        if (!isStandardFamily(type)) {
            return Optional.of("the vCPU pre-check covers the standard families (A, C, D, H, I, M, R, T, Z) only, not "
                    + type + ": launching without it; EC2 refuses at launch what its quota does not allow");
        }
        OnDemandVcpuQuota.Reading reading = quota.read();
        if (!reading.known()) {
            return Optional.of("cannot read the EC2 vCPU quota '" + OnDemandVcpuQuota.QUOTA_NAME + "' ("
                    + OnDemandVcpuQuota.QUOTA_CODE + ") in " + config.region() + ": " + reading.unreadable()
                    + "; launching without the pre-check (EC2 refuses at launch what does not fit; allow"
                    + " servicequotas:GetServiceQuota to be told before)");
        }
        long limit = (long) Math.floor(reading.vcpus());
        return call("capacity check", () -> {
            int perMachine = vcpus(type);
            if ((long) fleetSize * perMachine > limit) {
                throw new VcpuShortfall(config.region(), limit, -1, fleetSize, 0, type, perMachine).refusal();
            }
            long inUse = 0;
            Set<Integer> live = new HashSet<>();
            DescribeInstancesRequest request = DescribeInstancesRequest.builder()
                    .filters(filter("instance-state-name", LIVE_STATES)).maxResults(1000).build();
            for (Reservation r : ec2.describeInstancesPaginator(request).reservations()) {
                for (Instance i : r.instances()) {
                    String state = i.state() == null ? "" : i.state().nameAsString();
                    if (isOurs(i.tags())) {
                        int attendee = machine(i).attendee();
                        if (attendee >= 1 && attendee <= fleetSize) {
                            live.add(attendee);
                        }
                    }
                    if ((state.equals("pending") || state.equals("running")) && countsAgainstQuota(i)) {
                        inUse += vcpus(i);
                    }
                }
            }
            int missing = fleetSize - live.size();
            if (missing > 0 && inUse + (long) missing * perMachine > limit) {
                throw new VcpuShortfall(config.region(), limit, inUse, missing, live.size(), type, perMachine).refusal();
            }
            return Optional.<String>empty();
        });
    }

    /**
     * Whether a type belongs to the standard quota: first letter A, C, D, H, I, M, R, T or Z, except the families
     * with quotas of their own (DL, Inf, Trn) and Mac (Dedicated Hosts only).
     */
    static boolean isStandardFamily(String type) {
        String t = type.toLowerCase(Locale.ROOT);
        if (t.isEmpty() || "acdhimrtz".indexOf(t.charAt(0)) < 0) {
            return false;
        }
        return !(t.startsWith("dl") || t.startsWith("inf") || t.startsWith("trn") || t.startsWith("mac"));
    }

    /** On-Demand, standard family: Spot instances have quotas of their own. */
    private static boolean countsAgainstQuota(Instance i) {
        return i.instanceLifecycle() == null && i.instanceTypeAsString() != null && isStandardFamily(i.instanceTypeAsString());
    }

    /** An instance's vCPUs as it runs (cores x threads), else its type's default. */
    private int vcpus(Instance i) {
        if (i.cpuOptions() != null && i.cpuOptions().coreCount() != null && i.cpuOptions().threadsPerCore() != null) {
            return i.cpuOptions().coreCount() * i.cpuOptions().threadsPerCore();
        }
        return vcpus(i.instanceTypeAsString());
    }

    /** Default vCPUs of a type: one DescribeInstanceTypes per type, remembered. */
    private int vcpus(String type) {
        Integer known = vcpusByType.get(type);
        if (known != null) {
            return known;
        }
        int v = ec2.describeInstanceTypes(r -> r.instanceTypesWithStrings(type)).instanceTypes().stream()
                .findFirst().map(t -> t.vCpuInfo().defaultVCpus())
                .orElseThrow(() -> new BadInput("EC2 does not know instance type " + type + " in " + config.region()
                        + ": choose another -DinstanceType"));
        vcpusByType.put(type, v);
        return v;
    }

    // ------------------------------------------------------------------ launch

    @Override
    public List<Machine> createNodes(LaunchContext context, List<NodeRequest> requests) {
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
        if (requests.isEmpty()) {
            return List.of();
        }
        List<NodeRequest> tagged = requests.stream().map(r -> withExpiry(r, context)).toList();
        return call("launch", () -> {
            String group = groupIdOrLookup();
            String launchImage = launchImage(context);
            Map<Integer, Machine> byAttendee = new HashMap<>();
            for (Instance i : describeByTags(LIVE_STATES)) {
                Machine m = machine(i);
                if (m.attendee() > 0 && byAttendee.putIfAbsent(m.attendee(), m) == null) {
                    // Adopted: a re-run after a crash may not have recorded it yet.
                    recorder.created(resource(m));
                }
            }
            int adopted = (int) requests.stream().filter(r -> byAttendee.containsKey(r.attendee())).count();
            Map<String, List<NodeRequest>> groups = new LinkedHashMap<>();
            for (NodeRequest r : tagged) {
                if (!byAttendee.containsKey(r.attendee())) {
                    groups.computeIfAbsent(groupKey(r), k -> new ArrayList<>()).add(r);
                }
            }
            LaunchRun run = new LaunchRun(group, launchImage, requests.size(), adopted);
            for (Machine m : launchAll(new ArrayList<>(groups.values()), run)) {
                byAttendee.put(m.attendee(), m);
            }
            List<Machine> out = new ArrayList<>();
            for (NodeRequest r : requests) {
                out.add(byAttendee.get(r.attendee()));
            }
            return out;
        });
    }

    /** The expiry tag is what makes a forgotten fleet visible; the context's expiry fills it in when absent. */
    private static NodeRequest withExpiry(NodeRequest r, LaunchContext context) {
        if (r.tags().containsKey(Tags.EXPIRES_AT) || context.expiresAt() == null) {
            return r;
        }
        Map<String, String> tags = new TreeMap<>(r.tags());
        tags.put(Tags.EXPIRES_AT, context.expiresAt().toString());
        return new NodeRequest(r.attendee(), r.name(), r.userData(), tags);
    }

    /** Requests with this key can share one RunInstances: same user data, same tags apart from attendee and name. */
    private static String groupKey(NodeRequest r) {
        Map<String, String> tags = new TreeMap<>(r.tags());
        tags.remove(Tags.ATTENDEE);
        tags.remove(Tags.NAME);
        return sha256(Objects.toString(r.userData(), "") + "\u0000" + tags);
    }

    /**
     * Launches one group: first the whole group all-or-nothing wherever EC2 places it, then on insufficient capacity
     * whatever each availability zone can give, then the same with the next instance type.
     */
    /** Shared by the launch workers of one createNodes call. */
    private static final class LaunchRun {
        final String sgId;
        /** The AMI every instance of this call boots: a baked image, or the catalog's Ubuntu. */
        final String imageId;
        final int wanted;
        final AtomicInteger launched;
        /** type|zone pairs that ran out of capacity during this call ({@code *} = wherever EC2 chose). */
        final Set<String> exhausted = ConcurrentHashMap.newKeySet();
        final AtomicReference<RuntimeException> failure = new AtomicReference<>();

        LaunchRun(String sgId, String imageId, int wanted, int adopted) {
            this.sgId = sgId;
            this.imageId = imageId;
            this.wanted = wanted;
            this.launched = new AtomicInteger(adopted);
        }

        boolean stopped() {
            return failure.get() != null;
        }
    }

    /**
     * Launches the groups, up to {@link #LAUNCH_PARALLELISM} at a time: with per-machine user data every machine is
     * its own RunInstances, and one at a time would make 30 machines take thirty times as long as one. The first
     * failure (a quota, a crash while recording) stops new launches; calls already in flight finish and are recorded.
     */
    private List<Machine> launchAll(List<List<NodeRequest>> groups, LaunchRun run) {
        if (groups.size() <= 1) {
            return groups.isEmpty() ? List.of() : launchGroup(groups.get(0), run);
        }
        List<Callable<List<Machine>>> tasks = new ArrayList<>();
        for (List<NodeRequest> group : groups) {
            tasks.add(() -> {
                if (run.stopped()) {
                    return List.<Machine>of();
                }
                try {
                    return launchGroup(group, run);
                } catch (RuntimeException e) {
                    run.failure.compareAndSet(null, e);
                    throw e;
                }
            });
        }
        try {
            List<Machine> out = new ArrayList<>();
            new FanOut("ec2-launch", LAUNCH_PARALLELISM).all(tasks).forEach(out::addAll);
            return out;
        } catch (Interrupted e) {
            run.failure.compareAndSet(null, new Interrupted("launching (what was launched is adopted)"));
        } catch (RuntimeException e) {
            run.failure.compareAndSet(null, e);
        }
        RuntimeException failure = run.failure.get();
        // Launches that were in flight when the quota answered have returned now: count them all.
        throw failure instanceof QuotaRefusal q ? q.recount(run.launched.get()) : failure;
    }

    private List<Machine> launchGroup(List<NodeRequest> group, LaunchRun launchRun) {
        String sgId = launchRun.sgId;
        int wanted = launchRun.wanted;
        Set<String> exhausted = launchRun.exhausted;
        List<NodeRequest> remaining = new ArrayList<>(group);
        List<Machine> launched = new ArrayList<>();
        List<String> typesTried = new ArrayList<>();
        for (String type : config.sizes()) {
            typesTried.add(type);
            List<String> placements = new ArrayList<>();
            placements.add(null);
            for (int p = 0; p < placements.size() && !remaining.isEmpty(); p++) {
                String zone = placements.get(p);
                String where = type + "|" + Objects.toString(zone, "*");
                boolean capacityLeft = !exhausted.contains(where);
                while (capacityLeft && !remaining.isEmpty()) {
                    if (launchRun.stopped()) {
                        return launched;
                    }
                    List<NodeRequest> chunk = chunk(remaining);
                    List<Machine> got;
                    try {
                        got = run(type, zone, chunk, sgId, zone == null ? chunk.size() : 1, launchRun.imageId);
                    } catch (Ec2Exception e) {
                        String code = code(e);
                        if ("InsufficientInstanceCapacity".equals(code) || "InsufficientCapacity".equals(code)) {
                            got = List.of();
                        } else if ("VcpuLimitExceeded".equals(code) || "InstanceLimitExceeded".equals(code)) {
                            throw quotaError(e, type, wanted, launchRun.launched.get());
                        } else if ("Unsupported".equals(code) || "InvalidParameterValue".equals(code) && zone != null) {
                            got = List.of(); // the type is not offered in this zone
                        } else {
                            throw e;
                        }
                    }
                    launched.addAll(got);
                    launchRun.launched.addAndGet(got.size());
                    Set<Integer> done = new HashSet<>();
                    got.forEach(m -> done.add(m.attendee()));
                    remaining.removeIf(r -> done.contains(r.attendee()));
                    capacityLeft = got.size() == chunk.size();
                    if (!capacityLeft) {
                        exhausted.add(where);
                    }
                }
                if (p == 0 && !remaining.isEmpty()) {
                    placements.addAll(zones());
                }
            }
            if (remaining.isEmpty()) {
                break;
            }
        }
        if (!remaining.isEmpty()) {
            throw new CloudFailure("EC2 has no capacity for " + remaining.size() + " more machine(s) of type "
                    + String.join("/", typesTried) + " in any zone of " + config.region() + " ("
                    + launchRun.launched.get() + " of " + wanted + " launched): add types with -DinstanceType=…, try another"
                    + " -Dregion, or re-run later");
        }
        return launched;
    }

    /** As many requests as fit one Attendee tag (256 characters). */
    private static List<NodeRequest> chunk(List<NodeRequest> remaining) {
        List<Integer> attendees = new ArrayList<>();
        int n = 0;
        for (NodeRequest r : remaining) {
            attendees.add(r.attendee());
            if (new AttendeeList(attendees).encode().length() > AttendeeList.MAX_TAG_LENGTH) {
                break;
            }
            n++;
        }
        return List.copyOf(remaining.subList(0, n));
    }

    private List<Machine> run(String type, String zone, List<NodeRequest> chunk, String sgId, int minCount,
                              String image) {
        NodeRequest first = chunk.get(0);
        AttendeeList attendees = new AttendeeList(chunk.stream().map(NodeRequest::attendee).toList());
        Map<String, String> tags = new TreeMap<>(first.tags());
        tags.putAll(config.baseTags());
        tags.put(Tags.ATTENDEE, attendees.encode());
        tags.put(Tags.NAME, chunk.size() == 1 ? first.name() : config.workshop() + "-[" + attendees.encode() + "]");
        String userData = first.userData() == null ? null
                : Base64.getEncoder().encodeToString(first.userData().getBytes(StandardCharsets.UTF_8));
        RunInstancesRequest.Builder request = RunInstancesRequest.builder()
                .imageId(image)
                .instanceType(type)
                .keyName(keyPairName())
                .minCount(minCount)
                .maxCount(chunk.size())
                .securityGroupIds(sgId)
                .userData(userData)
                .metadataOptions(m -> m.httpTokens(HttpTokensState.REQUIRED)
                        .httpEndpoint(InstanceMetadataEndpointState.ENABLED))
                .instanceInitiatedShutdownBehavior(ShutdownBehavior.TERMINATE)
                .tagSpecifications(tagSpec(ResourceType.INSTANCE, tags), tagSpec(ResourceType.VOLUME, tags))
                .clientToken(isBaked(image) ? bakedClientToken(type, zone, attendees, sgId, image)
                        : clientToken(type, zone, attendees, sgId));
        if (zone != null) {
            request.placement(p -> p.availabilityZone(zone));
        }
        RunInstancesResponse response = null;
        try {
            // Throttling that outlasts the SDK's own retries (easily so when capacity errors, which the SDK also
            // retries, use up the attempts) is waited out here: the client token makes a repeat safe.
            for (int attempt = 0; response == null; attempt++) {
                try {
                    response = ec2.runInstances(request.build());
                } catch (Ec2Exception e) {
                    if (!e.isThrottlingException() || attempt >= THROTTLED_LAUNCH_RETRIES) {
                        throw e;
                    }
                    waiting.pause(attempt, WAITING_FOR);
                }
            }
        } catch (Ec2Exception e) {
            if (isBaked(image) && Objects.toString(code(e), "").startsWith("InvalidAMIID.")) {
                throw new CloudFailure("the baked image " + image + " cannot be launched (" + code(e) + "): it was"
                        + " removed or is not available; re-run to bake it again");
            }
            if ("IdempotentParameterMismatch".equals(code(e))) {
                throw new CloudFailure("EC2 remembers an earlier launch of " + chunk.size() + " machine(s) for this"
                        + " workshop that is not visible yet: wait a minute and re-run the same command");
            }
            throw e;
        }
        List<Machine> out = new ArrayList<>();
        for (Instance i : response.instances()) {
            Machine m = machine(i);
            recorder.created(resource(m));
            out.add(m);
        }
        return out;
    }

    /**
     * The idempotency token of one RunInstances: the same workshop, type, zone, attendees and security group give the
     * same token, so an SDK retry or a re-run after a crash gets the original reservation back instead of a second
     * fleet. User data and expiry are left out on purpose: they are re-rendered on a re-run and must not make the token
     * differ. The security group stands for this incarnation of the fleet: a re-run adopts it, while teardown deletes
     * it, so the next {@code up} of the same name (a rehearsal, torn down, then the real morning) gets a new group and
     * new tokens; without it EC2 would answer with the rehearsal's terminated reservation, for as long as it remembers
     * tokens.
     */
    String clientToken(String type, String zone, AttendeeList attendees, String sgId) {
        return "wf-" + sha256(config.workshop() + "|" + config.region() + "|" + type + "|" + Objects.toString(zone, "*") + "|"
                + attendees.encode() + "|" + sgId).substring(0, 48);
    }

    /** True for a baked image from {@link LaunchContext#imageId()}, false for the catalog's Ubuntu. */
    private boolean isBaked(String image) {
        return !image.equals(imageId);
    }

    /**
     * The token of a launch from a baked image also covers the image: a builder launched from the stock image for an
     * attendee and terminated after the bake must not come back as that attendee's reservation when the attendee is
     * launched from the image (EC2 answers a repeated token with the original reservation, terminated or not). The
     * image id is stable across re-runs of the same recipe, so a re-run still gets its reservation back.
     */
    String bakedClientToken(String type, String zone, AttendeeList attendees, String sgId, String image) {
        return "wf-" + sha256(config.workshop() + "|" + config.region() + "|" + type + "|" + Objects.toString(zone, "*") + "|"
                + attendees.encode() + "|" + sgId + "|" + image).substring(0, 48);
    }

    private synchronized List<String> zones() {
        if (zones == null) {
            zones = ec2.describeAvailabilityZones(r -> r.filters(filter("state", "available"),
                            filter("zone-type", "availability-zone")))
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
            needs = "; the fleet of " + wanted + " x " + type + " needs " + (vcpus(type) * wanted) + " vCPUs";
        } catch (RuntimeException ignored) {
            // The vCPU figure is a courtesy; the quota message stands without it.
        }
        String head = "EC2 quota " + code(e) + " reached" + value + needs + " (";
        String tail = "): ask for more in Service Quotas ('Running On-Demand Standard instances', " + config.region()
                + ") or lower -Dcount";
        return new QuotaRefusal(head, tail, launched, e);
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

    // ------------------------------------------------------------------ waiting

    /** One DescribeInstances per poll for the whole fleet, as above; each machine is reported from the poll that saw it run. */
    @Override
    public List<Machine> awaitRunning(Collection<String> machineIds, Duration timeout,
                                      java.util.function.Consumer<Machine> onRunning) {
        List<String> ids = List.copyOf(new LinkedHashSet<>(machineIds));
        Set<String> wanted = new HashSet<>(ids);
        Set<String> reported = new HashSet<>();
        Map<String, Machine> last = new HashMap<>();
        // Until every machine runs with an address, is gone or stopped; at the timeout the caller sees what is left.
        call("wait", () -> waiting.withTimeout(timeout).until(() -> {
            List<String> open = ids.stream().filter(id -> {
                Machine m = last.get(id);
                return m == null || !(m.isRunningWithAddress() || m.state().isGone()
                        || m.state() == MachineState.STOPPED);
            }).toList();
            if (open.isEmpty()) {
                return true;
            }
            Described described = describeByIds(open);
            described.instances().forEach(i -> last.put(i.instanceId(), machine(i)));
            for (Instance i : described.instances()) {
                Machine m = last.get(i.instanceId());
                if (wanted.contains(i.instanceId()) && m.isRunningWithAddress() && reported.add(i.instanceId())) {
                    onRunning.accept(m);
                }
            }
            return false;
        }, Boolean::booleanValue, poll -> { }, WAITING_FOR));
        List<Machine> out = new ArrayList<>();
        for (String id : ids) {
            out.add(last.getOrDefault(id, new Machine(id, null, 0, MachineState.UNKNOWN, null, null, null)));
        }
        return out;
    }

    /** What one poll saw: instances EC2 described, and ids it says do not exist (not yet, or no longer). */
    private record Described(List<Instance> instances, Set<String> unknown) {
    }

    /** One DescribeInstances per 1000 ids; the ids EC2 says do not exist are reported apart. */
    private Described describeByIds(List<String> ids) {
        List<Instance> found = new ArrayList<>();
        Set<String> unknown = forKnownIds(ids, batch -> {
            for (Reservation r : ec2.describeInstances(q -> q.instanceIds(batch)).reservations()) {
                found.addAll(r.instances());
            }
        });
        return new Described(found, unknown);
    }

    /**
     * Calls {@code call} for these ids, 1000 at a time. One unknown id fails a whole call and changes nothing
     * ({@code InvalidInstanceID.NotFound}, docs/aws-facts.md), so the ids the error names (the whole batch when it names
     * none) are set aside and the rest asked for again. Returns the ids set aside.
     */
    private static Set<String> forKnownIds(List<String> ids, java.util.function.Consumer<List<String>> call) {
        Set<String> unknown = new LinkedHashSet<>();
        for (int from = 0; from < ids.size(); from += MAX_IDS_PER_CALL) {
            List<String> ask = new ArrayList<>(ids.subList(from, Math.min(ids.size(), from + MAX_IDS_PER_CALL)));
            while (!ask.isEmpty()) {
                List<String> batch = List.copyOf(ask);
                try {
                    call.accept(batch);
                    break;
                } catch (Ec2Exception e) {
                    if (!"InvalidInstanceID.NotFound".equals(code(e))) {
                        throw e;
                    }
                    Set<String> named = idsIn(e.awsErrorDetails().errorMessage());
                    named.retainAll(batch);
                    if (named.isEmpty()) {
                        named.addAll(batch);
                    }
                    unknown.addAll(named);
                    ask.removeAll(named);
                }
            }
        }
        return unknown;
    }

    private static Set<String> idsIn(String message) {
        Set<String> ids = new LinkedHashSet<>();
        Matcher m = INSTANCE_ID.matcher(Objects.toString(message, ""));
        while (m.find()) {
            ids.add(m.group());
        }
        return ids;
    }

    // ------------------------------------------------------------------ listing and destroying

    @Override
    public List<Machine> listNodes() {
        return call("list", () -> describeByTags(LIVE_STATES).stream().map(this::machine).toList());
    }

    private List<Instance> describeByTags(List<String> states) {
        DescribeInstancesRequest request = DescribeInstancesRequest.builder()
                .filters(ourTagFilters(filter("instance-state-name", states)))
                .maxResults(1000)
                .build();
        return ec2.describeInstancesPaginator(request).reservations().stream()
                .flatMap(r -> r.instances().stream()).toList();
    }

    @Override
    public void destroyNodes(Collection<String> machineIds) {
        List<String> ids = List.copyOf(new LinkedHashSet<>(machineIds));
        call("destroy", () -> {
            terminate(ids);
            return null;
        });
    }

    /** Terminates these instances in one call per 1000 and waits until every one is terminated or gone. */
    private void terminate(List<String> ids) {
        forKnownIds(ids, batch -> ec2.terminateInstances(r -> r.instanceIds(batch)));
        List<String> open = new ArrayList<>(ids);
        boolean done = waiting.until(() -> {
            Described d = describeByIds(open);
            Set<String> gone = new HashSet<>(d.unknown());
            for (Instance i : d.instances()) {
                if (i.state().name() == InstanceStateName.TERMINATED) {
                    gone.add(i.instanceId());
                }
            }
            Set<String> listed = new HashSet<>();
            d.instances().forEach(i -> listed.add(i.instanceId()));
            for (String id : open) {
                if (!listed.contains(id)) {
                    gone.add(id);
                }
            }
            for (String id : gone) {
                if (open.remove(id)) {
                    recorder.deleted(ResourceKind.INSTANCE, id);
                }
            }
            return open.isEmpty();
        }, Boolean::booleanValue, poll -> { }, WAITING_FOR).isPresent();
        if (!done) {
            throw new CloudFailure(open.size() + " instance(s) still not terminated after "
                    + waiting.timeout().toMinutes() + " min (" + String.join(", ", open.subList(0,
                    Math.min(5, open.size()))) + "): re-run -Daction=teardown");
        }
    }

    // ------------------------------------------------------------------ teardown

    @Override
    public void teardown(Collection<CloudResource> known) {
        call("teardown", () -> {
            Set<String> instances = new LinkedHashSet<>();
            Set<String> groups = new LinkedHashSet<>();
            Set<String> keys = new LinkedHashSet<>();
            for (CloudResource r : known) {
                switch (r.kind()) {
                    case INSTANCE -> instances.add(r.id());
                    case SECURITY_GROUP -> groups.add(r.id());
                    case KEY_PAIR -> keys.add(r.id());
                    default -> {
                        // Other kinds belong to other clouds.
                    }
                }
            }
            describeByTags(NOT_TERMINATED_STATES).forEach(i -> instances.add(i.instanceId()));
            ec2.describeSecurityGroupsPaginator(r -> r.filters(ourTagFilters()))
                    .securityGroups().forEach(g -> groups.add(g.groupId()));
            ec2.describeKeyPairs(r -> r.filters(ourTagFilters())).keyPairs().forEach(k -> keys.add(k.keyName()));
            if (!instances.isEmpty()) {
                terminate(List.copyOf(instances));
            }
            for (String id : groups) {
                deleteGroup(id);
            }
            for (String name : keys) {
                ec2.deleteKeyPair(r -> r.keyName(name)); // 200 even when absent (docs/aws-facts.md)
                recorder.deleted(ResourceKind.KEY_PAIR, name);
            }
            groupId = null;
            return null;
        });
    }

    private void deleteGroup(String id) {
        Duration timeout = waiting.timeout().compareTo(GROUP_DELETE_TIMEOUT) < 0 ? waiting.timeout() : GROUP_DELETE_TIMEOUT;
        Instant deadline = Instant.now().plus(timeout);
        for (int attempt = 0; ; attempt++) {
            try {
                ec2.deleteSecurityGroup(r -> r.groupId(id));
                break;
            } catch (Ec2Exception e) {
                String code = code(e);
                if ("InvalidGroup.NotFound".equals(code)) {
                    break;
                }
                // The terminated instances' network interfaces hold the group for minutes (docs/aws-facts.md).
                if (!"DependencyViolation".equals(code)) {
                    throw e;
                }
                // Or an instance launched moments before a crash has only now become visible: end it too.
                List<String> stragglers = describeByTags(LIVE_STATES).stream().map(Instance::instanceId).toList();
                if (!stragglers.isEmpty()) {
                    terminate(stragglers);
                }
                if (Instant.now().isAfter(deadline)) {
                    throw new CloudFailure("security group " + id + " is still in use after "
                            + timeout.toMinutes() + " min: check for other instances or network"
                            + " interfaces using it, then re-run -Daction=teardown");
                }
                waiting.pause(attempt, WAITING_FOR);
            }
        }
        recorder.deleted(ResourceKind.SECURITY_GROUP, id);
    }

    // ------------------------------------------------------------------ baked images

    /** The AMI to launch: the context's baked image when set, else the catalog's Ubuntu (looked up once). */
    private String launchImage(LaunchContext context) {
        if (context.imageId() != null) {
            return context.imageId();
        }
        if (imageId == null) {
            imageId = amis.imageFor(config.region(), ec2);
        }
        return imageId;
    }

    /** The available AMI baked for this recipe in this account and region (see {@link Ec2Images}). */
    @Override
    public Optional<MachineImage> findImage(String recipeHash) {
        RecipeHash recipe = new RecipeHash(recipeHash);
        return call("image lookup", () -> images.find(recipe));
    }

    /**
     * {@code CreateImage} of the instance (EC2 reboots it for a consistent snapshot), tagged for the recipe and never
     * for the workshop, then waits until the AMI is available; an image of the recipe already being made is adopted.
     */
    @Override
    public MachineImage captureImage(String machineId, String recipeHash, Duration timeout) {
        RecipeHash recipe = new RecipeHash(recipeHash);
        return call("image bake", () -> images.capture(machineId, recipe, timeout));
    }

    @Override
    public List<MachineImage> listImages() {
        return call("image listing", images::list);
    }

    /** Deregisters the AMI, then deletes its EBS snapshots; what is already gone counts as removed. */
    @Override
    public void removeImage(MachineImage image) {
        call("image removal", () -> {
            images.remove(image);
            return null;
        });
    }

    // ------------------------------------------------------------------ mapping

    private Machine machine(Instance i) {
        Map<String, String> tags = new HashMap<>();
        i.tags().forEach(t -> tags.put(t.key(), t.value()));
        OptionalInt attendee = AttendeeList.attendeeAt(tags.get(Tags.ATTENDEE), i.amiLaunchIndex());
        String name = attendee.isPresent() ? config.machineName(attendee.getAsInt()) : tags.getOrDefault(Tags.NAME, i.instanceId());
        return new Machine(i.instanceId(), name, attendee.orElse(0), state(i.state() == null ? null : i.state().name()),
                i.publicIpAddress(), i.instanceTypeAsString(), i.launchTime());
    }

    private static MachineState state(InstanceStateName name) {
        if (name == null) {
            return MachineState.UNKNOWN;
        }
        return switch (name) {
            case PENDING -> MachineState.PENDING;
            case RUNNING -> MachineState.RUNNING;
            case STOPPING -> MachineState.STOPPING;
            case STOPPED -> MachineState.STOPPED;
            case SHUTTING_DOWN -> MachineState.SHUTTING_DOWN;
            case TERMINATED -> MachineState.TERMINATED;
            default -> MachineState.UNKNOWN;
        };
    }

    private static CloudResource resource(Machine m) {
        return new CloudResource(ResourceKind.INSTANCE, m.id(), m.name(), m.attendee());
    }

    private boolean isOurs(List<Tag> tags) {
        Map<String, String> map = new HashMap<>();
        tags.forEach(t -> map.put(t.key(), t.value()));
        return config.workshop().equals(map.get(Tags.WORKSHOP)) && Tags.MANAGED_BY_VALUE.equals(map.get(Tags.MANAGED_BY));
    }

    private Map<String, String> sharedTags() {
        Map<String, String> tags = new TreeMap<>(config.baseTags());
        tags.put(Tags.NAME, Tags.MANAGED_BY_VALUE + "-" + config.workshop());
        return tags;
    }

    private List<Filter> ourTagFilters(Filter... more) {
        List<Filter> filters = new ArrayList<>();
        filters.add(filter("tag:" + Tags.WORKSHOP, config.workshop()));
        filters.add(filter("tag:" + Tags.MANAGED_BY, Tags.MANAGED_BY_VALUE));
        filters.addAll(List.of(more));
        return filters;
    }

    private static Filter filter(String name, String value) {
        return Filter.builder().name(name).values(value).build();
    }

    private static Filter filter(String name, List<String> values) {
        return Filter.builder().name(name).values(values).build();
    }

    private static TagSpecification tagSpec(ResourceType type, Map<String, String> tags) {
        List<Tag> list = new ArrayList<>();
        new TreeMap<>(tags).forEach((k, v) -> list.add(Tag.builder().key(k).value(v).build()));
        return TagSpecification.builder().resourceType(type).tags(list).build();
    }

    static String code(Ec2Exception e) {
        return e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorCode();
    }

    private static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Runs one public operation, turning any EC2 error that escaped the specific handling into a one-line
     * {@link FleetException} that names the operation, the code and what to check.
     */
    private <T> T call(String what, Supplier<T> body) {
        try {
            return body.get();
        } catch (SdkClientException e) {
            String message = Objects.toString(e.getMessage(), e.getClass().getSimpleName()).replaceAll("[\\r\\n]+", " ");
            String hint = message.contains("credentials")
                    ? "no usable AWS credentials: set AWS_PROFILE, run 'aws sso login' or 'aws configure'"
                    : "cannot reach EC2: check the network, the proxy and AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_EC2";
            String line = "EC2 " + what + " failed in " + config.region() + " ("
                    + message.substring(0, Math.min(160, message.length())) + "): " + hint;
            // Credentials are the facilitator's configuration, refused before anything is made; the network is not.
            throw message.contains("credentials") ? new BadInput(line, e) : new CloudFailure(line, e);
        } catch (Ec2Exception e) {
            String code = Objects.toString(code(e), "HTTP " + e.statusCode());
            String message = e.awsErrorDetails() == null ? "" : Objects.toString(e.awsErrorDetails().errorMessage(), "");
            message = message.replaceAll("[\\r\\n]+", " ");
            if (message.length() > 200) {
                message = message.substring(0, 200) + "…";
            }
            String hint = switch (code) {
                case "AuthFailure", "HTTP 401" -> "check your AWS credentials (AWS_PROFILE, aws sso login) and clock";
                case "UnauthorizedOperation" -> "the AWS identity lacks an EC2 permission; see the message";
                case "RequestLimitExceeded" -> "EC2 is throttling this account; re-run in a minute";
                default -> "re-run the same command; it resumes where it stopped";
            };
            String line = "EC2 " + what + " failed in " + config.region() + ": " + code
                    + (message.isEmpty() ? "" : " (" + message + ")") + ": " + hint;
            boolean refused = switch (code) {
                case "AuthFailure", "HTTP 401", "UnauthorizedOperation" -> true;
                default -> false;
            };
            throw refused ? new BadInput(line, e) : new CloudFailure(line, e);
        }
    }

    @Override
    public String toString() {
        return "Ec2Cloud[" + config.workshop() + " in " + config.region().toLowerCase(Locale.ROOT) + "]";
    }
}
