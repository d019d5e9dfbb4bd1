package org.workshopfleet.cli;

import org.workshopfleet.error.BadInput;
import org.workshopfleet.error.FleetException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.workshopfleet.bake.ImageMode;
import org.workshopfleet.render.ProjectFiles;
import org.workshopfleet.spec.Cidr;
import org.workshopfleet.spec.Provider;
import org.workshopfleet.spec.SourceLocations;
import org.workshopfleet.spec.SourcesFile;
import org.workshopfleet.spec.WebEntry;
import org.workshopfleet.spec.WorkshopSpec;

/**
 * The command line (see {@code -Dhelp}), read from {@code -D} system properties so {@code mvn exec:java -Dcount=30}
 * works (exec:java runs in-process) and the same options work on the jar. Parsing validates everything (through
 * {@link WorkshopSpec}) and fails with a one-line {@link FleetException} before anything is created.
 *
 * @param action      what to do
 * @param spec        the validated workshop
 * @param yes         skip confirmation prompts
 * @param verbose     print stack traces of unexpected failures
 * @param help        print the options and stop
 * @param projectRoot where templates/, scripts/, dashboards/ and security-groups/ are (the working directory)
 * @param image       {@code -Dimage}: how {@code up} launches machines (stock image, or a baked one)
 * @param imageRecipe {@code -DimageRecipe}: which image {@code remove-image} removes (recipe hash or its prefix, or the
 *                    image's name or id); null for other actions
 * @param seat        {@code -Dseat}: the seat {@code replace} moves to another machine; null for other actions
 */
public record Options(Action action, WorkshopSpec spec, boolean yes, boolean verbose, boolean help, Path projectRoot,
                      ImageMode image, String imageRecipe, Integer seat) {

    /** The values of {@code -Daction}. */
    public enum Action {
        UP("up"), TEARDOWN("teardown"), STATUS("status"), VERIFY("verify"), HANDOUT("handout"), ALLOW_IP("allow-ip"),
        PLAN("plan"), EXTEND("extend"), IMAGES("images"), REMOVE_IMAGE("remove-image"),
        REPLACE("replace");

        final String id;

        Action(String id) {
            this.id = id;
        }

        public String id() {
            return id;
        }

        static Action parse(String text) {
            for (Action a : values()) {
                if (a.id.equals(text.trim().toLowerCase(Locale.ROOT))) {
                    return a;
                }
            }
            throw new BadInput("unknown action '" + text + "': use -Daction=" + String.join(", -Daction=",
                    Arrays.stream(values()).map(Action::id).toList()));
        }
    }

    /** Every property, its meaning and default, in the order {@code -Dhelp} prints them. */
    public static final Map<String, String> PROPERTIES = properties();

    private static Map<String, String> properties() {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("action", "up, teardown, status, verify, handout, allow-ip, plan, extend, images, remove-image, replace (default: up)");
        p.put("count", "number of attendee machines (required for up and plan)");
        p.put("spares", "extra machines up provisions and verifies for no seat, ready to replace a broken one"
                + " (default: 0; count plus spares is at most " + WorkshopSpec.MAX_COUNT + ")");
        p.put("seat", "with -Daction=replace: the seat (attendee number on the card) to move onto a verified spare, or a"
                + " new machine when none is left; its old machine is destroyed and a new spare made");
        p.put("provider", "ec2, lightsail, lab (default: the live ledger's, else ec2)");
        p.put("name", "workshop name; scopes tags, state folder and resource names (default: " + WorkshopSpec.DEFAULT_NAME + ")");
        p.put("region", "AWS region (default: the live ledger's, else AWS_REGION, else " + WorkshopSpec.DEFAULT_REGION + ")");
        p.put("cidr", "who may reach ports 22/80/3000 and 443 (443: unless -Daccess=anywhere) (default: this computer's public IP /32; lab: 10.231.0.0/16)");
        p.put("access", "cidr or anywhere: who may reach port 443 (HTTPS: browser terminal and Grafana); anywhere opens"
                + " 443 alone to every address, for attendees on VPNs or proxies, while 22/80/3000 stay on -Dcidr"
                + " (default: cidr; not on the lab)");
        p.put("tlsCert", "your own certificate (PEM, e.g. a wildcard *.example.org) for port 443, with -DtlsKey"
                + " (default: a certificate made per machine, its SHA-256 fingerprint on the card)");
        p.put("tlsKey", "the private key (PEM) of -DtlsCert; both or neither");
        p.put("hostnamePattern", "the seats' DNS names, {n} being the seat number: seat{n}.example.org gives"
                + " seat01.example.org on seat 1's card; needs -DtlsCert; up prints the DNS records to create");
        p.put("yes", "skip confirmation prompts (needed without a terminal)");
        p.put("ttl", "how long the fleet may live before it powers itself off, e.g. 12h, 90m, 2d (default: 12h);"
                + " with -Daction=extend: the new expiry counted from now");
        p.put("parallelism", "machines provisioned at once (default: " + WorkshopSpec.DEFAULT_PARALLELISM + ")");
        p.put("instanceType", "EC2 instance types, preferred first, comma-separated (default: "
                + String.join(",", WorkshopSpec.DEFAULT_INSTANCE_TYPES) + ")");
        p.put("bundle", "Lightsail bundle id (default: " + WorkshopSpec.DEFAULT_LIGHTSAIL_BUNDLE + ")");
        p.put("allowWorld", "permit a -Dcidr wider than /16, 0.0.0.0/0 included (default: false)");
        p.put("ebpfExporterSha256", "SHA-256 every machine's ebpf_exporter v2.4.2 download must have (default: none published;"
                + " the first machine's is recorded and the others must match it); wins over ebpfExporterSha256 in -Dsources");
        p.put("sources", "a properties file that overrides where machines download from and the pins they check, for a"
                + " mirror on a restricted network or stand-ins for an offline rehearsal; keys: "
                + String.join(", ", SourcesFile.keyNames()) + "; a key left out keeps its default (plan writes the"
                + " effective ones to plan/sources.properties); -DebpfExporterSha256 wins over the file's");
        p.put("image", "stock or bake: with bake, up launches the attendees from a baked image of this recipe (the setup"
                + " steps that are the same on every machine), baking it first on one builder machine if the cloud has"
                + " none; later workshops reuse it until the recipe changes (default: stock)");
        p.put("imageRecipe", "with -Daction=remove-image: the image to remove, by recipe hash (or its first 8+ hex"
                + " digits), name or id, as -Daction=images lists them");
        p.put("stateDir", "folder holding the workshops' state folders (default: workshops)");
        p.put("projectRoot", "folder with templates/, scripts/, dashboards/, security-groups/, ami.properties (default: the working directory when it is a checkout, else the copy inside the jar)");
        p.put("verbose", "print stack traces of unexpected errors");
        p.put("help", "print this list");
        return java.util.Collections.unmodifiableMap(p);
    }

    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    /** A recipe hash prefix (8+ hex digits), an image name ({@code workshop-fleet-…}) or a cloud image id. */
    private static final Pattern IMAGE_REF = Pattern.compile("[0-9a-f]{8,64}|[A-Za-z0-9][A-Za-z0-9._:-]{2,127}");

    /** {@code -Dsources} over the defaults, then {@code -DebpfExporterSha256} over that. */
    private static SourceLocations sources(String file, String ebpfExporterSha256) {
        SourceLocations sources = SourceLocations.defaults();
        if (file != null) {
            if (file.isBlank()) {
                throw new BadInput("-Dsources is empty: give the path of a properties file (keys: "
                        + String.join(", ", SourcesFile.keyNames()) + "), or leave it out for the real locations");
            }
            sources = SourcesFile.load(Path.of(file.strip()));
        }
        if (ebpfExporterSha256 == null) {
            return sources;
        }
        String sha = ebpfExporterSha256.trim().toLowerCase(java.util.Locale.ROOT);
        if (!SHA256.matcher(sha).matches()) {
            throw new BadInput("-DebpfExporterSha256 is not a SHA-256: give 64 hex digits, as sha256sum prints them");
        }
        return sources.withEbpfExporterSha256(sha);
    }

    /** {@code -Daccess}, {@code -DtlsCert}, {@code -DtlsKey}, {@code -DhostnamePattern}; the spec checks them. */
    private static WebEntry web(Map<String, String> props) {
        WebEntry.Access access = props.containsKey("access") ? WebEntry.Access.parse(props.get("access")) : null;
        return new WebEntry(access, file(props, "tlsCert", "certificate"), file(props, "tlsKey", "private key"),
                nonBlank(props, "hostnamePattern", "a pattern such as -DhostnamePattern=seat{n}.example.org"));
    }

    private static Path file(Map<String, String> props, String key, String what) {
        String v = nonBlank(props, key, "the path of the " + what + " in PEM form");
        return v == null ? null : Path.of(v);
    }

    /** The value of {@code key}, trimmed; null when absent; empty is bad input saying what to give. */
    private static String nonBlank(Map<String, String> props, String key, String give) {
        String v = props.get(key);
        if (v == null) {
            return null;
        }
        if (v.isBlank()) {
            throw new BadInput("-D" + key + " is empty: give " + give + ", or leave it out");
        }
        return v.strip();
    }

    private static final Pattern DURATION = Pattern.compile("(\\d+)([mhd])");

    /** Parses the properties; {@code env} supplies AWS_REGION / AWS_DEFAULT_REGION. */
    public static Options parse(Map<String, String> props, Map<String, String> env) {
        UnknownProperties.refuse(props);
        boolean help = flag(props, "help");
        Action action = props.containsKey("action") ? Action.parse(props.get("action")) : Action.UP;
        boolean yes = flag(props, "yes");
        boolean verbose = flag(props, "verbose");
        Provider provider = props.containsKey("provider") ? Provider.parse(props.get("provider")) : Provider.EC2;
        int count = 0;
        if (props.containsKey("count")) {
            count = integer(props.get("count"), "count", "-Dcount=30");
        } else if (!help && (action == Action.UP || action == Action.PLAN)) {
            throw new BadInput("how many machines? add -Dcount=N (e.g. -Dcount=30); -Dhelp lists every option");
        }
        if (!help && action == Action.UP && count < 1) {
            throw new BadInput("count " + count + " launches nothing: use -Dcount=1.." + WorkshopSpec.MAX_COUNT
                    + ", or -Daction=teardown to remove the fleet");
        }
        int spares = 0;
        if (props.containsKey("spares")) {
            // Its range (count plus spares within the caps) is checked by the spec.
            spares = integer(props.get("spares"), "spares", "-Dspares=3");
        }
        Integer seat = null;
        if (!help && action == Action.REPLACE) {
            String given = props.get("seat");
            if (given == null || given.isBlank()) {
                throw new BadInput("which seat? add -Dseat=N, the attendee number on the card of the machine to"
                        + " replace; -Daction=status lists the seats");
            }
            seat = integer(given, "seat", "-Dseat=7");
            if (seat < 1) {
                throw new BadInput("seat " + seat + " is not a seat: use -Dseat=N with the attendee number on the"
                        + " card (1 or more); -Daction=status lists the seats");
            }
        }
        String region = props.get("region");
        if (region == null) {
            region = env.getOrDefault("AWS_REGION", env.get("AWS_DEFAULT_REGION"));
        }
        List<String> types = null;
        if (props.containsKey("instanceType")) {
            types = new ArrayList<>();
            for (String t : props.get("instanceType").split(",")) {
                if (!t.isBlank()) {
                    types.add(t.trim());
                }
            }
        }
        Duration ttl = props.containsKey("ttl") ? duration(props.get("ttl")) : null;
        int parallelism = props.containsKey("parallelism")
                ? integer(props.get("parallelism"), "parallelism", "-Dparallelism=32") : WorkshopSpec.DEFAULT_PARALLELISM;
        String cidr = props.get("cidr");
        if (cidr != null && cidr.isBlank()) {
            throw new BadInput("-Dcidr is empty: give an IPv4 CIDR such as -Dcidr=203.0.113.7/32, or leave it out to detect this computer's address");
        }
        WorkshopSpec spec = new WorkshopSpec(
                props.getOrDefault("name", WorkshopSpec.DEFAULT_NAME),
                count,
                provider,
                region,
                types,
                props.get("bundle"),
                cidr == null ? null : Cidr.parse(cidr),
                flag(props, "allowWorld"),
                ttl,
                parallelism,
                Path.of(props.getOrDefault("stateDir", "workshops")),
                sources(props.get("sources"), props.get("ebpfExporterSha256")),
                spares,
                web(props));
        ImageMode image = props.containsKey("image") ? ImageMode.parse(props.get("image")) : ImageMode.STOCK;
        String imageRecipe = props.get("imageRecipe");
        if (!help && action == Action.REMOVE_IMAGE) {
            if (imageRecipe == null || imageRecipe.isBlank()) {
                throw new BadInput("which image? add -DimageRecipe=<recipe hash, its first 8+ hex digits, or the"
                        + " image name>; -Daction=images lists them");
            }
            imageRecipe = imageRecipe.trim();
            if (!IMAGE_REF.matcher(imageRecipe).matches()) {
                throw new BadInput("-DimageRecipe=" + imageRecipe + " is neither a recipe hash (8-64 hex digits) nor"
                        + " an image name or id: copy it from -Daction=images");
            }
        }
        return new Options(action, spec, yes, verbose, help, ProjectFiles.locate(props.get("projectRoot")), image,
                imageRecipe, seat);
    }

    /** The {@code -Dhelp} text. */
    public static String helpText() {
        StringBuilder sb = new StringBuilder("workshop-fleet: ready machines for the eBPF + PHP workshop.\n"
                + "usage: mvn exec:java -Dcount=30 [-Dprovider=ec2|lightsail|lab] [-Daction=...] [-Dname=...] ...\n"
                + "   or: java -Dcount=30 ... -jar workshop-fleet-all.jar\n\n");
        for (Map.Entry<String, String> e : PROPERTIES.entrySet()) {
            sb.append(String.format(Locale.ROOT, "  -D%-13s %s%n", e.getKey(), e.getValue()));
        }
        sb.append("\nAWS credentials come from the standard chain (AWS_PROFILE, AWS_ACCESS_KEY_ID, aws sso login);"
                + " AWS_ENDPOINT_URL* variables are honoured.\n");
        return sb.toString();
    }

    static boolean flag(Map<String, String> props, String key) {
        String v = props.get(key);
        if (v == null) {
            return false;
        }
        switch (v.trim().toLowerCase(Locale.ROOT)) {
            case "", "true", "yes", "1", "on":
                return true;
            case "false", "no", "0", "off":
                return false;
            default:
                throw new BadInput("-D" + key + "=" + v + " is not true or false: use -D" + key + " or -D" + key + "=false");
        }
    }

    private static int integer(String v, String key, String example) {
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new BadInput(key + " '" + v + "' is not a whole number: use e.g. " + example);
        }
    }

    /**
     * {@code 90m}, {@code 12h}, {@code 2d} (also ISO-8601 such as {@code PT12H}), within {@link WorkshopSpec#MIN_TTL}
     * and {@link WorkshopSpec#MAX_TTL}.
     */
    static Duration duration(String v) {
        String t = v.trim().toLowerCase(Locale.ROOT);
        Matcher m = DURATION.matcher(t);
        Duration ttl;
        if (m.matches()) {
            // Digits beyond a long, or a count of days whose seconds overflow one, are simply too long a ttl.
            try {
                long n = Long.parseLong(m.group(1));
                ttl = switch (m.group(2)) {
                    case "m" -> Duration.ofMinutes(n);
                    case "h" -> Duration.ofHours(n);
                    default -> Duration.ofDays(n);
                };
            } catch (NumberFormatException | ArithmeticException e) {
                throw ttlOutOfRange(v);
            }
        } else {
            try {
                ttl = Duration.parse(v.trim().toUpperCase(Locale.ROOT));
            } catch (RuntimeException e) {
                throw new BadInput("ttl '" + v + "' is not a duration: use e.g. -Dttl=12h, -Dttl=90m or -Dttl=2d");
            }
        }
        if (ttl.compareTo(WorkshopSpec.MIN_TTL) < 0 || ttl.compareTo(WorkshopSpec.MAX_TTL) > 0) {
            throw ttlOutOfRange(v);
        }
        return ttl;
    }

    private static FleetException ttlOutOfRange(String v) {
        return new BadInput("ttl '" + v.trim() + "' is out of range: use between 30m and 7d, e.g. -Dttl=12h");
    }
}
