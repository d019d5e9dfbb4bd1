package org.workshopfleet.faults;

import org.workshopfleet.error.ExitCode;
import org.workshopfleet.error.FleetException;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.workshopfleet.command.CloudFactory;
import org.workshopfleet.cloud.AwsCredentials;
import org.workshopfleet.cloud.CredentialsCheck;
import org.workshopfleet.cli.Main;
import org.workshopfleet.command.MachineRendering;
import org.workshopfleet.command.Wiring;
import org.workshopfleet.cloud.ec2.Ec2Cloud;
import org.workshopfleet.cloud.ec2.fake.Ec2Fake;
import org.workshopfleet.cloud.ec2.fake.RecordedCall;
import org.workshopfleet.provision.MachineLayout;
import org.workshopfleet.provision.ProvisionListener;
import org.workshopfleet.render.Renderer;
import org.workshopfleet.state.Ledger;
import org.workshopfleet.state.StateFolder;

/**
 * The bad-input table, through the command ({@link Main#run}) with an {@link Ec2Cloud} on a fresh {@link Ec2Fake}
 * and the real {@link Renderer} on a copy of the project's templates, scripts, dashboards, security groups and
 * {@code ami.properties} (one of them broken per row). Every row must end in exactly one {@code error: } line naming
 * the problem, a non-zero exit, no cloud request at all (or, for refusals that are themselves cloud answers, nothing
 * created; for the vCPU quota, read-only EC2 calls only), and no ledger that records a live resource or a machine.
 */
class BadInputTest {

    @TempDir
    Path dir;
    final Ec2Fake fake = Ec2Fake.start();
    final List<AutoCloseable> clients = new ArrayList<>();
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final ByteArrayOutputStream err = new ByteArrayOutputStream();

    @AfterEach
    void close() {
        for (AutoCloseable c : clients) {
            try {
                c.close();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
        fake.close();
    }

    /** Whether a row's refusal is itself a cloud answer (so calls are expected, creations are not). */
    enum Calls { NONE, REFUSED_BY_CLOUD, QUOTA }

    /**
     * One row.
     *
     * @param props    command-line properties added to the baseline ({@code count=2}, a CIDR, {@code yes})
     * @param breakIt  what to break in the project copy or the fake before running
     * @param expected text the one error line must contain (what is wrong / how to fix it)
     */
    record Row(String title, Map<String, String> props, Consumer<Setup> breakIt, Calls calls, String expected) {
        @Override
        public String toString() {
            return title;
        }
    }

    /** What a row may break. */
    record Setup(Path project, Ec2Fake fake, boolean[] noCredentials) {
    }

    static Row row(String title, String props, String expected) {
        return new Row(title, props(props), s -> { }, Calls.NONE, expected);
    }

    static Row row(String title, String props, Consumer<Setup> breakIt, Calls calls, String expected) {
        return new Row(title, props(props), breakIt, calls, expected);
    }

    /** A row whose {@code -Dsources} file (in the project copy) holds {@code content}. */
    static Row sourcesRow(String title, String content, String expected) {
        return row(title, "sources={project}/sources.properties",
                s -> write(s.project().resolve("sources.properties"), content + "\n"), Calls.NONE, expected);
    }

    static Map<String, String> props(String kv) {
        Map<String, String> p = new HashMap<>();
        for (String s : kv.split(";")) {
            if (s.isBlank()) {
                continue;
            }
            int eq = s.indexOf('=');
            p.put(eq < 0 ? s : s.substring(0, eq), eq < 0 ? "" : s.substring(eq + 1));
        }
        return p;
    }

    static Stream<Arguments> rows() {
        return Stream.of(
            row("misspelt option (teardown of the default workshop)", "action=teardown;nmae=rehearsal",
                    "unknown option -Dnmae (did you mean -Dname?)"),
            row("-Dsources empty", "sources=", "-Dsources is empty: give the path of a properties file"),
            row("-Dsources missing", "sources={project}/no-such.properties", "no-such.properties: no such file"),
            sourcesRow("sources file with a misspelt key", "relaseBase=http://10.0.0.5/",
                    "unknown key 'relaseBase' (did you mean releaseBase?): fix or remove it"),
            sourcesRow("sources file with an ftp URL", "grafanaAptRepo=ftp://10.0.0.5/apt",
                    "grafanaAptRepo 'ftp://10.0.0.5/apt' is not an http(s) URL"),
            sourcesRow("sources file with credentials in a URL", "releaseBase=https://u:p@10.0.0.5/",
                    "releaseBase carries a user name or password"),
            sourcesRow("sources file with a git remote over ssh", "attendeeGitRemote=ssh://git@10.0.0.5/x.git",
                    "attendeeGitRemote"),
            sourcesRow("sources file with a short SHA-256", "prometheusSha256=9a9d1e11",
                    "prometheusSha256 '9a9d1e11' is not a SHA-256: 64 hex digits"),
            sourcesRow("sources file with a short fingerprint", "grafanaKeyFingerprint=963FA27710458545",
                    "grafanaKeyFingerprint '963FA27710458545' is not a key fingerprint: its 40 hex digits"),
            sourcesRow("sources file with an empty value", "attendeeGitBranch=",
                    "attendeeGitBranch is empty: give a git branch name, e.g. ebpf-php-sample, or remove the line"),
            row("misspelt ttl", "tll=1h", "unknown option -Dtll (did you mean -Dttl?)"),
            row("misspelt count, case and transposition", "Coutn=3", "unknown option -DCoutn (did you mean -Dcount?)"),
            row("unknown option, nothing near", "workshopTitle=x", "unknown option -DworkshopTitle: fix or remove it"),
            row("ttl overflowing a long", "ttl=99999999999999999999h", "ttl '99999999999999999999h' is out of range"),
            row("ttl overflowing Duration", "ttl=9999999999999999d", "ttl '9999999999999999d' is out of range"),
            row("ttl over a week", "ttl=8d", "ttl '8d' is out of range: use between 30m and 7d"),
            row("ttl zero", "ttl=0h", "ttl '0h' is out of range"),
            row("ttl negative", "ttl=PT-5H", "ttl 'PT-5H' is out of range"),
            row("ttl overflowing in ISO form", "ttl=PT99999999999999999999H", "ttl 'PT99999999999999999999H' is not a duration"),
            row("count 0", "count=0", "count 0 launches nothing"),
            row("count negative", "count=-3", "count -3"),
            row("count not a number", "count=thirty", "count 'thirty' is not a whole number"),
            row("count above the ceiling", "count=100000", "out of range"),
            row("count above the vCPU quota", "count=5", s -> s.fake().vcpuLimit(8), Calls.QUOTA,
                    "(L-1216C47A) in ap-northeast-1 is 8 vCPUs"),
            row("name with illegal characters", "name=PHP_Workshop!", "workshop name 'PHP_Workshop!' is not allowed"),
            row("name too long for Lightsail", "provider=lightsail;name=a-very-long-workshop-name-for-lightsail",
                    "is not allowed"),
            row("unknown region", "region=xx-nowhere-9", "unknown AWS region 'xx-nowhere-9'"),
            row("unknown provider", "provider=azure", "unknown provider 'azure'"),
            row("malformed CIDR", "cidr=203.0.113.300/32", "is not an IPv4 CIDR"),
            row("CIDR prefix out of range", "cidr=203.0.113.7/40", "is not an IPv4 CIDR"),
            row("whole internet without opt-in", "cidr=0.0.0.0/0", "allowWorld"),
            row("half the internet without opt-in", "cidr=0.0.0.0/1", "-DallowWorld=true"),
            row("wider than a /16 without opt-in", "cidr=10.0.0.0/15", "-DallowWorld=true"),
            row("allow-ip wider than a /16 without opt-in", "action=allow-ip;cidr=128.0.0.0/1", "-DallowWorld=true"),
            row("-Daccess misspelt value", "access=everywhere", "-Daccess=everywhere is not a choice: use -Daccess=cidr"),
            row("-Daccess misspelt option", "acess=anywhere", "unknown option -Dacess (did you mean -Daccess?)"),
            row("-DtlsCert misspelt option", "tlsCret={project}/ami.properties", "(did you mean -DtlsCert?)"),
            row("-DhostnamePattern misspelt option", "hostnamePatern=seat{n}.example.org",
                    "(did you mean -DhostnamePattern?)"),
            row("-Daccess=anywhere on the lab", "provider=lab;access=anywhere", "-Daccess=anywhere cannot open the lab"),
            row("-DtlsCert without -DtlsKey", "tlsCert={project}/tls/cert.pem", s -> tlsFiles(s.project()), Calls.NONE,
                    "-DtlsCert needs -DtlsKey"),
            row("-DtlsKey without -DtlsCert", "tlsKey={project}/tls/key.pem", s -> tlsFiles(s.project()), Calls.NONE,
                    "-DtlsKey needs -DtlsCert"),
            row("-DtlsCert missing file", "tlsCert={project}/tls/nope.pem;tlsKey={project}/tls/key.pem",
                    s -> tlsFiles(s.project()), Calls.NONE, "nope.pem is not a readable file: give the path of the certificate"),
            row("-DtlsKey is a folder", "tlsCert={project}/tls/cert.pem;tlsKey={project}/tls",
                    s -> tlsFiles(s.project()), Calls.NONE, "is not a readable file: give the path of the private key"),
            row("-DtlsCert empty", "tlsCert=;tlsKey={project}/tls/key.pem", "-DtlsCert is empty"),
            row("-DhostnamePattern without {n}", "hostnamePattern=seat.example.org;" + TLS, s -> tlsFiles(s.project()),
                    Calls.NONE, "has no {n} for the seat number"),
            row("-DhostnamePattern not a DNS name", "hostnamePattern=seat_{n}.example.org;" + TLS,
                    s -> tlsFiles(s.project()), Calls.NONE, "does not give DNS names (seat_01.example.org)"),
            row("-DhostnamePattern a single label", "hostnamePattern=seat{n};" + TLS, s -> tlsFiles(s.project()),
                    Calls.NONE, "does not give DNS names"),
            row("-DhostnamePattern label over 63", "hostnamePattern=" + "x".repeat(60) + "{n}.example.org;" + TLS,
                    s -> tlsFiles(s.project()), Calls.NONE, "does not give DNS names"),
            row("-DhostnamePattern without -DtlsCert", "hostnamePattern=seat{n}.example.org",
                    "-DhostnamePattern needs -DtlsCert and -DtlsKey"),
            row("-DtlsCert not PEM", TLS, s -> tlsFiles(s.project()), Calls.NONE, "cert.pem"),
            row("-DtlsKey of another certificate", TLS, s -> realTls(s.project(), "seat01.example.org", true),
                    Calls.NONE, "does not belong to the certificate"),
            row("-DtlsCert not naming the seats", "hostnamePattern=seat{n}.example.org;" + TLS,
                    s -> realTls(s.project(), "seat01.other.org", false), Calls.NONE,
                    "does not name seat01.example.org"),
            row("pinned stock AMI not Canonical's", "", s -> s.fake().addImage(Ec2Fake.STOCK_AMI,
                    "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20250112", "2025-01-12T00:00:00.000Z",
                    "111122223333", "available"), Calls.REFUSED_BY_CLOUD, "belongs to account 111122223333, not Canonical"),
            row("missing credentials", "", s -> s.noCredentials()[0] = true, Calls.NONE, "no AWS credentials"),
            row("expired or wrong credentials", "", s -> s.fake().faults().failNext("*", "AuthFailure", 1000),
                    Calls.REFUSED_BY_CLOUD, "AuthFailure"),
            row("AMI not found (region not pinned, no image)", "region=eu-west-1", // not pinned; the fake has no image
                    s -> s.fake().removeImage(Ec2Fake.STOCK_AMI),
                    Calls.REFUSED_BY_CLOUD, "no available Ubuntu 22.04 amd64 image"),
            row("no default VPC", "", s -> s.fake().withoutDefaultVpc(), Calls.REFUSED_BY_CLOUD, "has no default VPC"),
            row("user data over 16 KB", "", s -> append(s.project().resolve("templates/cloud-init/user-data.yaml.ftl"),
                    "\n# " + "x".repeat(17_000) + "\n"), Calls.NONE, "over EC2's 16384-byte limit"),
            row("missing user-data template", "", s -> delete(s.project().resolve("templates/cloud-init/user-data.yaml.ftl")),
                    Calls.NONE, "user-data.yaml.ftl is missing"),
            row("malformed user-data template", "", s -> append(s.project().resolve("templates/cloud-init/user-data.yaml.ftl"),
                    "\n<#if unclosed>\n"), Calls.NONE, "is malformed"),
            row("malformed bundle template", "", s -> append(s.project().resolve("templates/prometheus/prometheus.yml.ftl"),
                    "\n${\n"), Calls.NONE, "prometheus.yml.ftl is malformed"),
            row("missing setup script library", "", s -> delete(s.project().resolve("scripts/lib.sh")), Calls.NONE,
                    "lib.sh is missing"),
            row("symlink in scripts/php", "", s -> link(s.project().resolve("scripts/php/creds.txt")), Calls.NONE,
                    "scripts/php/creds.txt is a symbolic link"),
            row("symlink in scripts/bt", "", s -> link(s.project().resolve("scripts/bt/creds.bt")), Calls.NONE,
                    "scripts/bt/creds.bt is a symbolic link"),
            row("symlink in dashboards", "", s -> link(s.project().resolve("dashboards/extra.json")), Calls.NONE,
                    "dashboards/extra.json is a symbolic link"),
            row("malformed dashboard", "", s -> write(s.project().resolve("dashboards/php-usdt-uprobe.json"), "{\"uid\": "),
                    Calls.NONE, "php-usdt-uprobe.json is not valid JSON"),
            row("missing dashboards", "", s -> delete(s.project().resolve("dashboards/php-usdt-uprobe.json")), Calls.NONE,
                    "holds no .json dashboard"),
            row("malformed security group file", "", s -> write(s.project().resolve("security-groups/workshop.json"),
                    "{\"ingress\": [{\"protocol\": \"tcp\", \"port\": 99999}]}"), Calls.NONE, "has a bad rule"),
            row("malformed ami.properties entry", "", s -> write(s.project().resolve("ami.properties"),
                    "ap-northeast-1=ubuntu-latest\n"), Calls.NONE, "which is not an AMI id"),
            row("missing ami.properties", "", s -> delete(s.project().resolve("ami.properties")), Calls.NONE,
                    "ami.properties")
        ).map(Arguments::of);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rows")
    void badInputIsOneLineNonZeroAndLeavesNothing(Row row) throws IOException {
        Path project = copyProject();
        boolean[] noCredentials = {false};
        row.breakIt().accept(new Setup(project, fake, noCredentials));

        Map<String, String> props = new HashMap<>(Map.of("count", "2", "cidr", "203.0.113.7/32", "yes", "",
                "stateDir", dir.resolve("workshops").toString(), "projectRoot", project.toString()));
        // {project} stands for the project copy, which only exists once the row runs.
        row.props().forEach((k, v) -> props.put(k, v.replace("{project}", project.toString())));
        int code = Main.run(props, Map.of(), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), wiring(project, noCredentials));

        String e = err.toString(StandardCharsets.UTF_8);
        assertTrue(code != 0, "non-zero exit; stdout: " + out.toString(StandardCharsets.UTF_8));
        assertTrue(e.startsWith("error: ") && e.indexOf('\n') == e.length() - 1, "exactly one line: " + e);
        assertTrue(e.contains(row.expected()), "names the problem (" + row.expected() + "): " + e);
        assertFalse(e.startsWith("error: unexpected") || e.contains("\tat "),
                "a FleetException, not a crash: " + e);
        assertEquals(ExitCode.BAD_INPUT, code, e);

        List<RecordedCall> calls = fake.calls();
        if (row.calls() == Calls.NONE) {
            assertEquals(List.of(), calls.stream().map(RecordedCall::operation).toList(), "no cloud call: " + e);
        } else if (row.calls() == Calls.REFUSED_BY_CLOUD) {
            assertTrue(calls.stream().noneMatch(c -> !c.failed() && (c.operation().equals("RunInstances")
                    || c.operation().equals("CreateSecurityGroup") || c.operation().equals("ImportKeyPair"))),
                    "nothing created: " + calls.stream().map(c -> c.operation() + "/" + c.errorCode()).toList());
        }
        if (row.calls() == Calls.QUOTA) {
            // Refused before prepare: Service Quotas was asked, EC2 only read from.
            assertTrue(calls.stream().allMatch(c -> c.operation().startsWith("Describe")),
                    "read-only EC2 calls only: " + calls.stream().map(RecordedCall::operation).toList());
            assertEquals(1, fake.quotas().calls().size(), "the quota was read once");
        }
        assertEquals(0, fake.launchedInstanceCount(), "no instance launched");
        assertEquals(java.util.Set.of(), fake.securityGroupNames());
        assertEquals(java.util.Set.of(), fake.keyPairNames());

        StateFolder folder = new StateFolder(dir.resolve("workshops").resolve(
                row.props().getOrDefault("name", "ebpf-php")));
        if (Ledger.exists(folder)) {
            Ledger ledger = Ledger.open(folder, folder.root().getFileName().toString(), "ec2", "x", Clock.systemUTC());
            assertEquals(List.of(), ledger.liveResources(), "no live resource in the ledger");
            assertTrue(ledger.snapshot().machines().isEmpty(), "no machine in the ledger");
        }
    }

    /** A /16 (a campus, a large venue) is the widest CIDR accepted without -DallowWorld; the plan shows it. */
    @org.junit.jupiter.api.Test
    void aSlash16IsAcceptedWithoutTheOptIn() throws IOException {
        Path project = copyProject();
        Map<String, String> props = new HashMap<>(Map.of("action", "plan", "count", "2", "cidr", "10.20.0.0/16",
                "stateDir", dir.resolve("workshops").toString(), "projectRoot", project.toString()));
        int code = Main.run(props, Map.of(), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), wiring(project, new boolean[1]));

        assertEquals(0, code, err.toString(StandardCharsets.UTF_8));
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("10.20.0.0/16"), out.toString(StandardCharsets.UTF_8));
    }

    /**
     * A misspelt option is refused before the command looks at any state: no state folder appears, no cloud is asked,
     * while keys with a dot (the JVM's, Maven's, slf4j's) and the Maven/Surefire/JDK keys without one pass.
     */
    @org.junit.jupiter.api.Test
    void aMisspeltOptionTouchesNoStateAndDottedKeysPass() throws IOException {
        Path project = copyProject();
        Map<String, String> props = new HashMap<>(Map.of("action", "teardown", "nmae", "rehearsal", "yes", "",
                "stateDir", dir.resolve("workshops").toString(), "projectRoot", project.toString()));
        int code = Main.run(props, Map.of(), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), wiring(project, new boolean[1]));
        assertEquals(ExitCode.BAD_INPUT, code);
        assertEquals("error: unknown option -Dnmae (did you mean -Dname?): fix or remove it; nothing was done"
                + " (-Dhelp lists every option)\n", err.toString(StandardCharsets.UTF_8));
        assertFalse(Files.exists(dir.resolve("workshops")), "no state folder, so no ledger");
        assertEquals(List.of(), fake.calls(), "no cloud call");

        Map<String, String> tools = new HashMap<>(Map.of("count", "2", "java.home", "/usr/lib/jvm", "exec.mainClass",
                "org.workshopfleet.cli.Main", "org.slf4j.simpleLogger.defaultLogLevel", "warn", "maven.home", "/usr/share/maven",
                "skipTests", "", "basedir", "/tmp", "line.separator", "\n"));
        assertEquals(2, org.workshopfleet.cli.Options.parse(tools, Map.of()).spec().count());
    }

    /**
     * A vCPU quota that cannot be read (no servicequotas:GetServiceQuota permission) is a notice, and EC2's refusal at
     * launch still names the limit: the pre-check is a courtesy, not the only guard. Four machines fit before EC2
     * refused the fifth, so the exit code is a failure (1), not a refusal (2): something exists.
     */
    @org.junit.jupiter.api.Test
    void anUnreadableQuotaIsANoticeAndEc2StillRefuses() throws IOException {
        Path project = copyProject();
        fake.vcpuLimit(8);
        fake.quotas().failNext("AccessDeniedException", 10);
        Map<String, String> props = new HashMap<>(Map.of("count", "5", "cidr", "203.0.113.7/32", "yes", "",
                "stateDir", dir.resolve("workshops").toString(), "projectRoot", project.toString()));
        int code = Main.run(props, Map.of(), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), wiring(project, new boolean[1]));

        String o = out.toString(StandardCharsets.UTF_8);
        String e = err.toString(StandardCharsets.UTF_8);
        assertEquals(ExitCode.FAILURE, code, e);
        assertTrue(e.contains("4 launched and recorded"), e);
        assertTrue(o.lines().anyMatch(l -> l.startsWith("notice: cannot read the EC2 vCPU quota")
                && l.contains("AccessDeniedException")), o);
        assertTrue(e.startsWith("error: ") && e.indexOf('\n') == e.length() - 1, "one line: " + e);
        assertTrue(e.contains("VcpuLimitExceeded") && e.contains("limit 8 vCPUs"), e);
    }

    private Wiring wiring(Path project, boolean[] noCredentials) {
        CloudFactory clouds = fake.cloudFactory(project.resolve("ami.properties"), clients);
        CredentialsCheck credentials = spec -> {
            if (noCredentials[0]) {
                throw AwsCredentials.missing(spec);
            }
        };
        return new Wiring(clouds, credentials, () -> {
            throw new AssertionError("no address detection in tests");
        }, null, ProvisionListener.NONE, Clock.systemUTC(), "ubuntu", 22, MachineLayout.STANDARD,
                Duration.ofSeconds(1), Duration.ofSeconds(2), root -> MachineRendering.of(new Renderer(project)));
    }

    private Path copyProject() throws IOException {
        Path project = dir.resolve("project");
        for (String item : List.of("templates", "scripts", "dashboards", "security-groups", "ami.properties")) {
            Path from = Path.of(item);
            try (Stream<Path> walk = Files.walk(from)) {
                for (Path p : walk.toList()) {
                    Path to = project.resolve(p.toString());
                    if (Files.isDirectory(p)) {
                        Files.createDirectories(to);
                    } else {
                        Files.createDirectories(to.getParent());
                        Files.copy(p, to);
                    }
                }
            }
        }
        return project;
    }

    /** The -DtlsCert/-DtlsKey pair of the project copy's {@code tls/} (their PEM content is not this check's). */
    static final String TLS = "tlsCert={project}/tls/cert.pem;tlsKey={project}/tls/key.pem";

    private static void tlsFiles(Path project) {
        try {
            Files.createDirectories(project.resolve("tls"));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        write(project.resolve("tls/cert.pem"), "-----BEGIN CERTIFICATE-----\n");
        write(project.resolve("tls/key.pem"), "-----BEGIN PRIVATE KEY-----\n");
    }

    /** A real certificate for {@code name} and its key, or (with {@code otherKey}) the key of another certificate. */
    private static void realTls(Path project, String name, boolean otherKey) {
        tlsFiles(project);
        org.workshopfleet.tls.TlsMaterial made = org.workshopfleet.tls.TlsMaterial.selfSigned(name, Duration.ofDays(2));
        write(project.resolve("tls/cert.pem"), made.certificatePem());
        write(project.resolve("tls/key.pem"), otherKey
                ? org.workshopfleet.tls.TlsMaterial.selfSigned(name, Duration.ofDays(2)).keyPem() : made.keyPem());
    }

    private static void append(Path file, String text) {
        try {
            Files.writeString(file, text, java.nio.file.StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void write(Path file, String text) {
        try {
            Files.writeString(file, text);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** A link to a file outside the project, as a credentials file would be. */
    private static void link(Path at) {
        try {
            Path project = at;
            while (!project.getFileName().toString().equals("project")) {
                project = project.getParent();
            }
            Path target = project.resolveSibling("outside-credentials");
            Files.writeString(target, "{\"uid\": \"x\", \"secret\": \"not for attendees\"}");
            Files.createSymbolicLink(at, target);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void delete(Path file) {
        try {
            Files.delete(file);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
