package org.workshopfleet.spec;

import org.workshopfleet.error.BadInput;
import org.workshopfleet.error.FleetException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * What the facilitator asked for, validated on construction: a spec that exists is a spec that can be launched.
 * Every violation is a {@link FleetException} with one line saying how to fix it, raised before anything is created.
 *
 * @param name          workshop name; scopes tags, resource names and the state folder ({@code workshops/<name>})
 * @param count         number of attendee machines (0 only for actions that do not launch)
 * @param provider      where the machines come from
 * @param region        AWS region (ignored by the lab)
 * @param instanceTypes EC2 instance types, preferred first; later ones are used when capacity runs out
 * @param lightsailBundle Lightsail bundle id
 * @param cidr          who may reach ports 22, 80 and 3000; {@code null} = detect the caller's address; a block wider
 *                      than /16 needs {@code allowWorld}
 * @param allowWorld    explicit opt-in for a CIDR wider than /16 ({@code 0.0.0.0/0} included), see {@link Cidr#admitted}
 * @param ttl           how long the fleet may live; sets the expiry tag and the on-machine power-off timer
 * @param parallelism   how many machines are provisioned at once
 * @param stateRoot     folder holding {@code <name>/} state folders
 * @param sources       download locations
 * @param spares        extra machines, provisioned and verified like the others but belonging to no seat, ready to take
 *                      over a seat whose machine breaks; {@code count + spares} stays within {@link #MAX_COUNT}
 * @param web           the machines' HTTPS entry: who may reach port 443, its certificate and the seats' names
 */
public record WorkshopSpec(
        String name,
        int count,
        Provider provider,
        String region,
        List<String> instanceTypes,
        String lightsailBundle,
        Cidr cidr,
        boolean allowWorld,
        Duration ttl,
        int parallelism,
        Path stateRoot,
        SourceLocations sources,
        int spares,
        WebEntry web) {

    public static final String DEFAULT_NAME = "ebpf-php";
    public static final String DEFAULT_REGION = "ap-northeast-1";
    public static final List<String> DEFAULT_INSTANCE_TYPES = List.of("t3.medium", "t3a.medium", "t2.medium");
    public static final String DEFAULT_LIGHTSAIL_BUNDLE = "medium_3_0";
    public static final Duration DEFAULT_TTL = Duration.ofHours(12);
    /** The shortest ttl: time to provision a fleet and use it. */
    public static final Duration MIN_TTL = Duration.ofMinutes(30);
    /** The longest ttl: a forgotten fleet powers itself off within a week. */
    public static final Duration MAX_TTL = Duration.ofDays(7);
    public static final int DEFAULT_PARALLELISM = 32;
    /** A sanity ceiling; a larger class is split into several workshops. */
    public static final int MAX_COUNT = 200;

    /** Lower-case letters, digits and inner hyphens; fits EC2 group names and Lightsail's {@code \w[\w\-]*\w}. */
    private static final Pattern NAME = Pattern.compile("[a-z0-9](?:[a-z0-9-]{0,22}[a-z0-9])?");
    private static final Pattern INSTANCE_TYPE = Pattern.compile("[a-z][a-z0-9-]*\\.[a-z0-9]+");
    private static final Pattern BUNDLE = Pattern.compile("[a-z0-9_]+");

    public WorkshopSpec {
        Objects.requireNonNull(provider, "provider");
        Objects.requireNonNull(stateRoot, "stateRoot");
        Objects.requireNonNull(sources, "sources");
        if (name == null || !NAME.matcher(name).matches()) {
            throw new BadInput("workshop name '" + name + "' is not allowed: use 1-24 lower-case letters, digits"
                    + " and inner hyphens, e.g. -Dname=kubecon-ebpf");
        }
        if (count < 0 || count > MAX_COUNT) {
            throw new BadInput("count " + count + " is out of range: use -Dcount=1.." + MAX_COUNT);
        }
        region = region == null ? DEFAULT_REGION : region.trim();
        if (provider.regional() && !Regions.KNOWN.contains(region)) {
            throw new BadInput("unknown AWS region '" + region + "': use a region name such as -Dregion=ap-northeast-1");
        }
        instanceTypes = instanceTypes == null || instanceTypes.isEmpty() ? DEFAULT_INSTANCE_TYPES : List.copyOf(instanceTypes);
        for (String type : instanceTypes) {
            if (!INSTANCE_TYPE.matcher(type).matches()) {
                throw new BadInput("instance type '" + type + "' is malformed: use names like -DinstanceType=t3.medium,t3a.medium");
            }
        }
        lightsailBundle = lightsailBundle == null ? DEFAULT_LIGHTSAIL_BUNDLE : lightsailBundle;
        if (!BUNDLE.matcher(lightsailBundle).matches()) {
            throw new BadInput("Lightsail bundle '" + lightsailBundle + "' is malformed: use an id such as -Dbundle=medium_3_0");
        }
        if (cidr != null) {
            cidr.admittedBy(allowWorld);
        }
        ttl = ttl == null ? DEFAULT_TTL : ttl;
        if (ttl.compareTo(MIN_TTL) < 0 || ttl.compareTo(MAX_TTL) > 0) {
            throw new BadInput("ttl " + ttl + " is out of range: use between 30m and 7d, e.g. -Dttl=12h");
        }
        if (spares < 0 || count + spares > MAX_COUNT) {
            throw new BadInput("spares " + spares + " is out of range: use -Dspares=0.." + Math.max(0, MAX_COUNT - count)
                    + " (count plus spares is at most " + MAX_COUNT + ")");
        }
        if (parallelism < 1 || parallelism > 256) {
            throw new BadInput("parallelism " + parallelism + " is out of range: use -Dparallelism=1..256");
        }
        web = web == null ? WebEntry.DEFAULT : web;
        if (web.access() == WebEntry.Access.ANYWHERE && !provider.regional()) {
            throw new BadInput("-Daccess=anywhere cannot open the lab: its machines are reachable from this computer"
                    + " only; leave -Daccess out, or use -Dprovider=ec2 or lightsail");
        }
    }

    /** As the canonical constructor, with the default {@link WebEntry}. */
    public WorkshopSpec(String name, int count, Provider provider, String region, List<String> instanceTypes,
                        String lightsailBundle, Cidr cidr, boolean allowWorld, Duration ttl, int parallelism,
                        Path stateRoot, SourceLocations sources, int spares) {
        this(name, count, provider, region, instanceTypes, lightsailBundle, cidr, allowWorld, ttl, parallelism, stateRoot,
                sources, spares, WebEntry.DEFAULT);
    }

    /** As the canonical constructor, without spares. */
    public WorkshopSpec(String name, int count, Provider provider, String region, List<String> instanceTypes,
                        String lightsailBundle, Cidr cidr, boolean allowWorld, Duration ttl, int parallelism,
                        Path stateRoot, SourceLocations sources) {
        this(name, count, provider, region, instanceTypes, lightsailBundle, cidr, allowWorld, ttl, parallelism, stateRoot,
                sources, 0);
    }

    /** Every machine of the fleet: the seats' and the spares'. */
    public int machines() {
        return count + spares;
    }

    /** A spec with every default, for the given count and provider. */
    public static WorkshopSpec defaults(int count, Provider provider) {
        return new WorkshopSpec(DEFAULT_NAME, count, provider, DEFAULT_REGION, DEFAULT_INSTANCE_TYPES,
                DEFAULT_LIGHTSAIL_BUNDLE, null, false, DEFAULT_TTL, DEFAULT_PARALLELISM, Path.of("workshops"),
                SourceLocations.defaults());
    }

    /** The workshop's state folder: ledger, keys, logs, handout. */
    public Path stateDir() {
        return stateRoot.resolve(name);
    }

    /** Machine name for attendee {@code n} (1-based): {@code <name>-01}. */
    public String machineName(int attendee) {
        return name + "-" + String.format(Locale.ROOT, "%02d", attendee);
    }

    public WorkshopSpec withCount(int newCount) {
        return new WorkshopSpec(name, newCount, provider, region, instanceTypes, lightsailBundle, cidr, allowWorld, ttl,
                parallelism, stateRoot, sources, spares, web);
    }

    /** The same workshop with {@code n} spares. */
    public WorkshopSpec withSpares(int n) {
        return new WorkshopSpec(name, count, provider, region, instanceTypes, lightsailBundle, cidr, allowWorld, ttl,
                parallelism, stateRoot, sources, n, web);
    }

    public WorkshopSpec withCidr(Cidr newCidr) {
        return new WorkshopSpec(name, count, provider, region, instanceTypes, lightsailBundle, newCidr, allowWorld, ttl,
                parallelism, stateRoot, sources, spares, web);
    }

    public WorkshopSpec withSources(SourceLocations newSources) {
        return new WorkshopSpec(name, count, provider, region, instanceTypes, lightsailBundle, cidr, allowWorld, ttl,
                parallelism, stateRoot, newSources, spares, web);
    }

    /** The same workshop on another provider and region (those its ledger records). */
    public WorkshopSpec withPlace(Provider newProvider, String newRegion) {
        return new WorkshopSpec(name, count, newProvider, newRegion, instanceTypes, lightsailBundle, cidr, allowWorld, ttl,
                parallelism, stateRoot, sources, spares, web);
    }

    /** The same workshop with this HTTPS entry. */
    public WorkshopSpec withWeb(WebEntry newWeb) {
        return new WorkshopSpec(name, count, provider, region, instanceTypes, lightsailBundle, cidr, allowWorld, ttl,
                parallelism, stateRoot, sources, spares, newWeb);
    }

    public WorkshopSpec withStateRoot(Path root) {
        return new WorkshopSpec(name, count, provider, region, instanceTypes, lightsailBundle, cidr, allowWorld, ttl,
                parallelism, root, sources, spares, web);
    }

    /** The tags every resource of this workshop carries (expiry excluded; it is per launch). */
    public Map<String, String> baseTags() {
        return Map.of(Tags.WORKSHOP, name, Tags.MANAGED_BY, Tags.MANAGED_BY_VALUE);
    }
}
