package org.workshopfleet.cli;

import org.workshopfleet.command.Wiring;
import org.workshopfleet.command.Prompt;
import org.workshopfleet.command.CidrDetector;
import org.workshopfleet.cloud.AwsCredentials;
import org.workshopfleet.cloud.CredentialsCheck;
import org.workshopfleet.error.ExitCode;
import org.workshopfleet.error.Interrupted;
import software.amazon.awssdk.core.exception.AbortedException;
import software.amazon.awssdk.core.exception.SdkInterruptedException;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.workshopfleet.provision.MachineLayout;
import org.workshopfleet.provision.ProvisionListener;

/** The command line: parsing, {@code -Dhelp}, and bad input as one line with exit code 2 and nothing written. */
class MainTest {

    @TempDir
    Path dir;
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final ByteArrayOutputStream err = new ByteArrayOutputStream();

    /** A wiring that can never reach a network or a cloud: any use of them fails the test. */
    Wiring offline(Prompt prompt) {
        CredentialsCheck noCreds = spec -> {
            if (spec.provider() != org.workshopfleet.spec.Provider.LAB) {
                throw AwsCredentials.missing(spec);
            }
        };
        return offline(prompt, noCreds);
    }

    /** As {@link #offline(Prompt)}, the AWS credentials checked by {@code creds}. */
    Wiring offline(Prompt prompt, CredentialsCheck creds) {
        CidrDetector noDetect = () -> {
            throw new AssertionError("tests never detect a public address");
        };
        return new Wiring(Wiring.NO_CLOUDS, creds, noDetect, prompt, ProvisionListener.NONE, Clock.systemUTC(), "ubuntu",
                22, MachineLayout.STANDARD, Duration.ofSeconds(1), Duration.ofSeconds(1));
    }

    int run(Prompt prompt, String... kv) {
        return runWith(offline(prompt), kv);
    }

    int runWith(Wiring wiring, String... kv) {
        Map<String, String> props = new HashMap<>();
        props.put("stateDir", dir.resolve("workshops").toString());
        for (String s : kv) {
            int eq = s.indexOf('=');
            props.put(eq < 0 ? s : s.substring(0, eq), eq < 0 ? "" : s.substring(eq + 1));
        }
        return Main.run(props, Map.of(), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), wiring);
    }

    String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "count=abc                                | count 'abc' is not a whole number",
        "count=0                                  | launches nothing",
        "count=999                                | out of range",
        "provider=gcp;count=2                     | unknown provider 'gcp'",
        "count=2;cidr=1.2.3.4/33                  | is not an IPv4 CIDR",
        "count=2;cidr=10.0.0.1/8                  | host bits set",
        "count=2;cidr=0.0.0.0/0                   | allowWorld",
        "count=2;name=Bad_Name                    | workshop name 'Bad_Name' is not allowed",
        "count=2;ttl=5m                           | ttl '5m' is out of range",
        "count=2;ttl=soon                         | ttl 'soon' is not a duration",
        "action=launch                            | unknown action 'launch'",
        "provider=lab                             | add -Dcount=N",
        "count=2;yes=maybe                        | -Dyes=maybe is not true or false",
        "count=2;parallelism=0                    | parallelism 0 is out of range",
        "count=2;instanceType=T3 Medium           | instance type 'T3 Medium' is malformed",
        "count=2;region=mars-1                    | unknown AWS region 'mars-1'",
        "count=2;provider=ec2;cidr=203.0.113.7/32 | no AWS credentials",
        "count=2;provider=lab;cidr=10.231.0.0/16  | re-run with -Dyes",
    })
    void badInputIsOneLineExitTwoAndWritesNothing(String props, String expected) {
        int code = run(null, props.split(";"));
        assertEquals(2, code, err());
        String e = err();
        assertTrue(e.startsWith("error: ") && e.endsWith("\n") && e.indexOf('\n') == e.length() - 1, "one line: " + e);
        assertTrue(e.contains(expected), e);
        assertFalse(e.contains("Exception") || e.contains("\tat "), "no stack trace: " + e);
        assertFalse(Files.exists(dir.resolve("workshops")), "nothing written under workshops/");
    }

    @Test
    void missingCredentialsPointToPlanAndLab() {
        assertEquals(2, run(null, "count=2", "cidr=203.0.113.7/32", "yes"));
        assertTrue(err().contains("AWS_PROFILE") && err().contains("aws sso login") && err().contains("-Daction=plan")
                && err().contains("-Dprovider=lab"), err());
    }

    /**
     * Ctrl-C while the SDK resolved the credentials: one line and exit 130; with {@code -Dverbose} also the stack trace
     * down to the SDK's error it replaced, by class, without that error's message (it may quote a secret).
     */
    @Test
    void verboseShowsWhatAnInterruptReplacedByClassOnly() {
        CredentialsCheck interrupted = spec -> {
            throw new Interrupted("resolving the AWS credentials", AbortedException.create(
                    "aborted; the helper said password=hunter2-for-a-test", new SdkInterruptedException()));
        };
        String[] up = {"count=2", "provider=ec2", "cidr=203.0.113.7/32"};

        assertEquals(ExitCode.INTERRUPTED, runWith(offline(null, interrupted), up));
        assertEquals("error: interrupted while resolving the AWS credentials: re-run the same command to continue\n",
                err(), "without -Dverbose: the line alone");

        err.reset();
        String[] verbose = java.util.Arrays.copyOf(up, up.length + 1);
        verbose[up.length] = "verbose";
        assertEquals(ExitCode.INTERRUPTED, runWith(offline(null, interrupted), verbose));
        String e = err();
        assertTrue(e.startsWith("error: interrupted while resolving the AWS credentials"), e);
        assertTrue(e.contains("Caused by: " + AbortedException.class.getName())
                && e.contains("Caused by: " + SdkInterruptedException.class.getName()), e);
        assertFalse(e.contains("hunter2"), "the cause's message is not printed: " + e);
    }

    @Test
    void declinedConfirmationChangesNothing() {
        assertEquals(2, run(q -> false, "count=2", "provider=lab"));
        assertTrue(err().contains("cancelled"), err());
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("lab: 2 × lab machine (local), no cloud cost"), out.toString(StandardCharsets.UTF_8));
        assertFalse(Files.exists(dir.resolve("workshops/ebpf-php/ledger.json")));
        assertFalse(Files.exists(dir.resolve("workshops/ebpf-php/secrets")));
    }

    @Test
    void aProviderMissingFromTheBuildIsOneLine() {
        assertEquals(2, run(null, "count=1", "provider=lab", "yes"));
        assertTrue(err().contains("provider lab is not available in this build"), err());
    }

    @Test
    void helpListsEveryProperty() {
        assertEquals(0, run(null, "help"));
        String text = out.toString(StandardCharsets.UTF_8);
        for (String key : new String[] {"action", "count", "provider", "name", "region", "cidr", "yes", "ttl",
            "parallelism", "instanceType", "bundle", "allowWorld", "stateDir", "verbose", "sources"}) {
            assertTrue(text.contains("-D" + key + " "), key + " in " + text);
        }
        assertTrue(text.contains("-DebpfExporterSha256 wins over the file's"), text);
        assertTrue(text.contains("wins over ebpfExporterSha256 in -Dsources"), text);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"help;nmae=rehearsal", "help;count=abc;provider=gcp", "help;action=launch", "help=true;cidr=1.2.3.4/33"})
    void helpWinsOverAnUnknownOrMalformedOptionBesideIt(String props) {
        assertEquals(0, run(null, props.split(";")), err());
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("-Dcount "), out.toString(StandardCharsets.UTF_8));
        assertEquals("", err());
        assertFalse(Files.exists(dir.resolve("workshops")), "nothing written under workshops/");
    }

    @Test
    void helpFalseIsNoHelpAndAnUnknownOptionBesideItIsStillRefused() {
        assertEquals(2, run(null, "help=false", "nmae=rehearsal"));
        assertTrue(err().contains("unknown option -Dnmae (did you mean -Dname?)"), err());
    }

    /**
     * {@code -Dsources} replaces exactly the keys it gives, {@code -DebpfExporterSha256} wins over the file's, and plan
     * writes the effective sources (in the same format, so the copy is itself a valid file) and renders them into the
     * machines' environment.
     */
    @Test
    void planWritesTheEffectiveSourcesFromTheFileAndTheCommandLine() throws java.io.IOException {
        String fromFile = "a".repeat(64);
        String fromCommandLine = "b".repeat(64);
        Path sources = Files.writeString(dir.resolve("mirror.properties"),
                "releaseBase=http://10.0.0.5:8080/gh\nebpfExporterSha256=" + fromFile + "\n");
        assertEquals(0, run(null, "action=plan", "count=2", "cidr=203.0.113.7/32", "sources=" + sources,
                "ebpfExporterSha256=" + fromCommandLine), err());

        org.workshopfleet.spec.SourceLocations expected = org.workshopfleet.spec.SourceLocations.defaults()
                .withEbpfExporterSha256(fromCommandLine);
        expected = new org.workshopfleet.spec.SourceLocations("http://10.0.0.5:8080/gh", expected.grafanaAptRepo(),
                expected.grafanaAptKeyUrl(), expected.grafanaKeyFingerprint(), expected.attendeeGitRemote(),
                expected.attendeeGitBranch(), expected.ddebsRepo(), fromCommandLine, expected.prometheusSha256(),
                expected.libbpfSha256());
        assertEquals(expected, Options.parse(Map.of("count", "2", "sources", sources.toString(),
                "ebpfExporterSha256", fromCommandLine), Map.of()).spec().sources());

        Path plan = dir.resolve("workshops/ebpf-php/plan");
        Path written = plan.resolve(org.workshopfleet.command.Plan.SOURCES_FILE);
        String text = Files.readString(written);
        assertTrue(text.contains("\nreleaseBase=http://10.0.0.5:8080/gh\n"), text);
        assertTrue(text.contains("\nebpfExporterSha256=" + fromCommandLine + "\n"), text);
        assertEquals(expected, org.workshopfleet.spec.SourcesFile.load(written));
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("download sources in " + plan), out.toString(StandardCharsets.UTF_8));
        try (var files = Files.walk(plan.resolve("ebpf-php-01"))) {
            assertTrue(files.filter(Files::isRegularFile).anyMatch(f -> {
                try {
                    return new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1).contains("RELEASE_BASE='http://10.0.0.5:8080/gh'");
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }), "the machine's environment carries the mirror");
        }
    }

    @Test
    void optionsParseDurationsListsAndFlags() {
        Options o = Options.parse(Map.of("count", "3", "ttl", "90m", "instanceType", "t3.large, t3a.large",
                "parallelism", "5", "provider", "lightsail", "bundle", "large_3_0", "yes", "", "stateDir", "x"),
                Map.of("AWS_REGION", "eu-west-1"));
        assertEquals(Duration.ofMinutes(90), o.spec().ttl());
        assertEquals(java.util.List.of("t3.large", "t3a.large"), o.spec().instanceTypes());
        assertEquals(5, o.spec().parallelism());
        assertEquals("eu-west-1", o.spec().region());
        assertEquals("large_3_0", o.spec().lightsailBundle());
        assertTrue(o.yes());
        assertEquals(Options.Action.UP, o.action());
        assertEquals(Duration.ofDays(2), Options.duration("2d"));
        assertEquals(Duration.ofHours(12), Options.duration("12h"));
        assertEquals(Options.Action.ALLOW_IP, Options.parse(Map.of("action", "allow-ip"), Map.of()).action());
    }

    @Test
    void optionsParseTheHttpsEntry() throws java.io.IOException {
        Path cert = Files.writeString(dir.resolve("cert.pem"), "-----BEGIN CERTIFICATE-----\n");
        Path key = Files.writeString(dir.resolve("key.pem"), "-----BEGIN PRIVATE KEY-----\n");
        Options o = Options.parse(Map.of("count", "3", "access", " Anywhere ", "tlsCert", cert.toString(),
                "tlsKey", key.toString(), "hostnamePattern", "Seat{n}.Example.org."), Map.of());
        org.workshopfleet.spec.WebEntry web = o.spec().web();
        assertEquals(org.workshopfleet.spec.WebEntry.Access.ANYWHERE, web.access());
        assertEquals(cert, web.tlsCert());
        assertEquals(key, web.tlsKey());
        assertEquals("seat07.example.org", web.seatName(7));
        assertEquals("seatspare-12.example.org", web.spareName(12));

        org.workshopfleet.spec.WebEntry plain = Options.parse(Map.of("count", "3"), Map.of()).spec().web();
        assertEquals(org.workshopfleet.spec.WebEntry.DEFAULT, plain);
        assertEquals(org.workshopfleet.spec.WebEntry.Access.CIDR, plain.access());
        assertEquals(null, plain.seatName(1));
        assertEquals(org.workshopfleet.spec.WebEntry.Access.CIDR,
                Options.parse(Map.of("count", "3", "access", "cidr"), Map.of()).spec().web().access());
        for (String option : java.util.List.of("access", "tlsCert", "tlsKey", "hostnamePattern")) {
            assertTrue(Options.helpText().contains("-D" + option + " "), "-Dhelp lists -D" + option);
        }
    }
}
