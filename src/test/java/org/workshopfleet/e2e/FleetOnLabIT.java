package org.workshopfleet.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Comparator;
import org.workshopfleet.grafana.GrafanaClient;
import org.workshopfleet.lab.browser.WebEntryCheck;
import org.workshopfleet.lab.browser.WebEntry;
import org.workshopfleet.lab.browser.Login;
import org.workshopfleet.lab.browser.PinnedCertificate;
import org.workshopfleet.tls.TlsMaterial;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.workshopfleet.cli.Main;
import org.workshopfleet.cli.Options;
import org.workshopfleet.command.CloudFactory;
import org.workshopfleet.command.CloudsByProvider;
import org.workshopfleet.Fleet;
import org.workshopfleet.command.MachineRendering;
import org.workshopfleet.command.ReadinessCheck;
import org.workshopfleet.command.Wiring;
import org.workshopfleet.bake.OwnIdentities;
import org.workshopfleet.cloud.ec2.AmiCatalog;
import org.workshopfleet.cloud.ec2.Ec2Cloud;
import org.workshopfleet.concurrent.Waiter;
import org.workshopfleet.cloud.ec2.fake.Ec2Fake;
import org.workshopfleet.cloud.lab.HostState;
import org.workshopfleet.cloud.lab.LabInstanceBackend;
import org.workshopfleet.cloud.lab.LabMachines;
import org.workshopfleet.cloud.lab.LabNetwork;
import org.workshopfleet.cloud.lab.LabPaths;
import org.workshopfleet.cloud.lab.LabPrerequisites;
import org.workshopfleet.lab.standins.StandIns;
import org.workshopfleet.provision.MachineLayout;
import org.workshopfleet.render.ExpiryTimer;
import org.workshopfleet.provision.ProvisionListener;
import org.workshopfleet.spec.Provider;
import org.workshopfleet.ssh.Remote;
import org.workshopfleet.ssh.SshTarget;
import org.workshopfleet.state.Ledger;
import org.workshopfleet.state.MachineRecord;
import org.workshopfleet.state.Secrets;
import org.workshopfleet.state.StateFolder;
import org.workshopfleet.spec.WorkshopSpec;
import org.workshopfleet.ssh.SshLogin;

/**
 * Tier 3, end to end with real parts: real Debian 12 lab machines, real SSH, the real setup scripts and templates,
 * stand-ins only for what this sandbox cannot reach (release downloads, Grafana's apt repository, the git remote).
 * {@code up} with two machines, {@code verify} passes every readiness check on both; on the lab path one machine is
 * then broken (Apache without {@code USE_ZEND_DTRACE}), {@code verify} catches it, and the next {@code up}'s heal
 * replaces that seat's machine and nothing else; {@code teardown} leaves the host as it was. Each command runs through {@link Main#run} as on the command line, the stand-ins reached through
 * {@code -Dsources} (the file {@link StandIns#writeSourcesFile} writes), as an offline rehearsal reaches them; the test
 * keeps only its wiring (the cloud factory, the Debian rendering for the EC2 path). Once through {@code -Dprovider=lab},
 * once through the EC2 code path (the real SDK client against the EC2
 * protocol fake, whose RunInstances boots lab machines from the user data it was sent).
 */
class FleetOnLabIT {

    private static final Path PROJECT = Path.of("").toAbsolutePath();

    @TempDir
    Path tmp;

    /**
     * Per run, so two checkouts running this test on one host (a CI run beside a developer's) never share a lab scope
     * and tear down each other's machines.
     */
    private static final String RUN = String.format(java.util.Locale.ROOT, "%04x",
            new java.security.SecureRandom().nextInt(0x10000));

    @Test
    void labProviderUpVerifyTeardown() throws Exception {
        LabPrerequisites.require("ssh-keyscan");
        String name = "e2e-lab-" + RUN;
        runScenario(name, Provider.LAB, (spec, recorder) -> new CloudsByProvider(PROJECT).create(spec, recorder),
                List.of("wf-" + name + "-01", "wf-" + name + "-02"), Wiring.TEMPLATES, null);
    }

    @Test
    void ec2CodePathWithLabMachinesBehindTheFake() throws Exception {
        LabPrerequisites.require("ssh-keyscan");
        String name = "e2e-ec2-" + RUN;
        LabInstanceBackend backendMachines = new LabInstanceBackend(name);
        try (Ec2Fake fake = Ec2Fake.start()) {
            fake.backend(backendMachines);
            CloudFactory clouds = (spec, recorder) -> new Ec2Cloud(fake.client(), Ec2Cloud.config(spec), recorder,
                    AmiCatalog.load(PROJECT.resolve("ami.properties")),
                    new Waiter(Duration.ofMillis(500), Duration.ofSeconds(2), 1.5, 0.0, Duration.ofMinutes(2)));
            // This path serves the facilitator's own wildcard certificate under the seats' names instead.
            runScenario(name, Provider.EC2, clouds, List.of(), DebianRendering.FOR_LAB_MACHINES,
                    TlsMaterial.selfSigned("*." + OWN_DOMAIN, Duration.ofDays(30)));
            assertEquals(1, fake.calls("CreateTags").size(), "extend retags the fleet in one call");
            assertTrue(fake.liveInstanceCount() == 0, "the fake holds no live instance after teardown");
            assertTrue(fake.securityGroupNames().stream().noneMatch(n -> n.contains(name)), "security group deleted");
            assertTrue(fake.keyPairNames().stream().noneMatch(n -> n.contains(name)), "key pair deleted");
        } finally {
            backendMachines.destroyAll();
        }
    }

    /** The seats' DNS domain of the scenario with the facilitator's own certificate: seat01.lab.test, …. */
    private static final String OWN_DOMAIN = "lab.test";

    /**
     * {@code own}: the facilitator's certificate, given with {@code -DtlsCert/-DtlsKey} and
     * {@code -DhostnamePattern=seat{n}.lab.test}; null: the per-machine certificates made by {@code up}.
     */
    private void runScenario(String name, Provider provider, CloudFactory clouds, List<String> labNames,
                             Function<Path, MachineRendering> rendering, TlsMaterial own) throws Exception {
        HostState before = HostState.capture(LabPaths.standard());
        LabMachines network = new LabMachines(name);
        network.ensureNetwork();
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(buffer, true, StandardCharsets.UTF_8);
        try (StandIns standIns = StandIns.start(InetAddress.getByName(LabNetwork.HOST_ADDRESS), tmp.resolve("standins"))) {
            // The stand-ins are reached as a facilitator reaches a mirror: through -Dsources on the command line.
            Path sourcesFile = standIns.writeSourcesFile(tmp.resolve("sources.properties"));
            Map<String, String> props = new HashMap<>(Map.of("name", name, "count", "2", "provider", provider.id(),
                    "region", "ap-northeast-1", "parallelism", "8", "stateDir", tmp.resolve("workshops").toString(),
                    "projectRoot", PROJECT.toString(), "sources", sourcesFile.toString(), "yes", ""));
            if (provider != Provider.LAB) {
                // The machines reach this host (the stand-ins) from the lab bridge; an EC2 fleet's ingress names it.
                props.put("cidr", LabNetwork.SUBNET);
            }
            if (own != null) {
                Path tls = Files.createDirectories(tmp.resolve("tls"));
                Files.writeString(tls.resolve("cert.pem"), own.certificatePem());
                Files.writeString(tls.resolve("key.pem"), own.keyPem());
                props.put("tlsCert", tls.resolve("cert.pem").toString());
                props.put("tlsKey", tls.resolve("key.pem").toString());
                props.put("hostnamePattern", "seat{n}." + OWN_DOMAIN);
            }
            WorkshopSpec spec = Options.parse(props, Map.of()).spec();
            assertEquals(standIns.sources(), spec.sources(), "-Dsources points every download at the stand-ins");
            Wiring wiring = new Wiring(clouds, s -> { }, () -> LabNetwork.SUBNET, null, ProvisionListener.NONE,
                    Clock.systemUTC(), SshLogin.MACHINE_USER, 22, MachineLayout.STANDARD, Duration.ofMinutes(5),
                    Duration.ofMinutes(10)).withRendering(rendering).withReadiness(ReadinessCheck.VERIFIER);
            Function<String, Integer> command = action -> {
                Map<String, String> withAction = new HashMap<>(props);
                withAction.put("action", action);
                return Main.run(withAction, Map.of(), out, out, wiring);
            };

            assertEquals(0, command.apply("up"), () -> "up failed:\n" + buffer);
            // up's own end: the deep readiness checks passed on both seats.
            assertTrue(buffer.toString(StandardCharsets.UTF_8).contains("ready: all 2 seat(s) verified"), buffer::toString);
            if (own != null) {
                ownNamesOnTheCardsAndInDns(spec, provider, buffer.toString(StandardCharsets.UTF_8));
            }
            Map<String, String> treesBefore = onEachMachine(spec, provider, ATTENDEE_TREE);
            buffer.reset();
            long verifyStarted = System.nanoTime();
            assertEquals(0, command.apply("verify"), () -> "verify failed:\n" + buffer);
            long verifyMillis = (System.nanoTime() - verifyStarted) / 1_000_000;
            String output = buffer.toString(StandardCharsets.UTF_8);
            assertTrue(output.contains("verify: all 2 machine(s) pass every check"), output);
            for (String row : DEEP_ROWS) {
                assertTrue(output.matches("(?s).*checks: [^\n]*\\d+=" + row + "\\b.*"), row + " is not a row:\n" + output);
            }
            for (String row : HTTPS_ROWS) {
                assertTrue(output.matches("(?s).*checks: [^\n]*\\d+=" + row + "\\b.*"), row + " is not a row:\n" + output);
            }
            servesHttpsAsTheCardSays(spec, provider, own);
            if (provider == Provider.LAB) {
                walkedInABrowser(spec, provider);
            }
            long shallowMillis = shallowChecksMillis(spec, provider);
            System.out.printf("figure: verify of 2 lab machines (%s) took %d ms with the deep checks; the checks that"
                    + " were there before them (the script without its deep rows, both machines at once) take %d ms%n",
                    provider.id(), verifyMillis, shallowMillis);
            verifyLeftNothingBehind(spec, provider, treesBefore);
            if (provider == Provider.LAB) {
                aMachineWithoutZendDtraceIsCaught(spec, provider, command, buffer);
            }
            // Stock machines too are each their own (the lab base ships an empty /etc/machine-id, as a cloud image does).
            OwnIdentities.assertEachMachineHasItsOwn(spec, provider.id());

            attendeeMakeNeedsNoNetwork(spec, provider, standIns);

            Path handout = tmp.resolve("workshops").resolve(name).resolve("handout");
            String csv = Files.readString(handout.resolve("attendees.csv"));
            assertEquals(3, csv.lines().count(), csv);

            // Extend moves the expiry in the ledger and each machine's power-off timer.
            String expiryBefore = Ledger.open(new StateFolder(spec.stateDir()), name, provider.id(), spec.region(), Clock.systemUTC())
                    .setting(Fleet.SETTING_EXPIRES_AT);
            Thread.sleep(1100);
            assertEquals(0, command.apply("extend"), () -> "extend failed:\n" + buffer);
            Ledger ledger = Ledger.open(new StateFolder(spec.stateDir()), name, provider.id(), spec.region(), Clock.systemUTC());
            Instant moved = Instant.parse(ledger.setting(Fleet.SETTING_EXPIRES_AT));
            assertTrue(moved.isAfter(Instant.parse(expiryBefore)), expiryBefore + " -> " + moved);
            Secrets secrets = new Secrets(new StateFolder(spec.stateDir()), name);
            for (MachineRecord r : ledger.snapshot().machines().values()) {
                try (Remote remote = Remote.await(new SshTarget(r.publicIp(), 22, secrets.hostKey(r.attendee()).publicKeyNoComment()),
                        new SshLogin(SshLogin.MACHINE_USER, secrets.loginKey()), Duration.ofSeconds(30))) {
                    Remote.Result timer = remote.exec("grep '^OnCalendar=' /etc/systemd/system/" + ExpiryTimer.TIMER
                            + " && systemctl is-active " + ExpiryTimer.TIMER);
                    assertEquals("OnCalendar=" + ExpiryTimer.calendar(moved) + "\nactive", timer.stdout().strip(), r.name());
                }
            }

            // A second up is a resume: every step skipped by its marker, nothing relaunched, except that its heal
            // replaces the machine broken above (the lab scenario), which fails the readiness checks.
            buffer.reset();
            assertEquals(0, command.apply("up"), () -> "second up failed:\n" + buffer);
            String second = buffer.toString(StandardCharsets.UTF_8);
            if (provider == Provider.LAB) {
                assertTrue(second.contains("heal: seat 02 on " + name + "-02 fails apache_dtrace"), second);
                assertTrue(second.contains("launching 1 machine(s)"), "only the broken seat's machine is remade:\n" + second);
                assertTrue(second.matches("(?s).*heal: seat 02 healed on " + name + "-\\d+ \\(every check passed\\).*"), second);
                assertFalse(second.contains("heal: seat 01"), second);
                assertTrue(second.contains("ready: all 2 seat(s) verified"), second);
            } else {
                assertFalse(second.contains("launching"), second);
            }

            assertEquals(0, command.apply("teardown"), () -> "teardown failed:\n" + buffer);
            assertEquals(0, command.apply("teardown"), () -> "second teardown failed:\n" + buffer);
        } finally {
            System.out.println(buffer.toString(StandardCharsets.UTF_8));
            printLogTails(tmp.resolve("workshops").resolve(name).resolve("logs"));
            new LabMachines(name).destroyAll();
            network.destroyAll();
        }
        HostState.assertRestored(before, HostState.capture(LabPaths.standard()), labNames.toArray(String[]::new));
    }

    /**
     * The attendee's first {@code make} in {@code ~/ebpf_exporter/examples}, as {@code ubuntu}, builds the BPF object
     * without fetching anything: provisioning built the libbpf that {@code Makefile.libbpf} would git-clone. Git's
     * GitHub URLs point at a closed port for this make (a clone would fail it), the artifact server must see no
     * request meanwhile, and no clone is left behind ({@code libbpf/.git}).
     */
    private static void attendeeMakeNeedsNoNetwork(WorkshopSpec spec, Provider provider, StandIns standIns)
            throws Exception {
        Ledger ledger = Ledger.open(new StateFolder(spec.stateDir()), spec.name(), provider.id(), spec.region(), Clock.systemUTC());
        MachineRecord r = ledger.snapshot().machines().values().iterator().next();
        Secrets secrets = new Secrets(new StateFolder(spec.stateDir()), spec.name());
        try (Remote remote = Remote.await(new SshTarget(r.publicIp(), 22, secrets.hostKey(r.attendee()).publicKeyNoComment()),
                new SshLogin(SshLogin.MACHINE_USER, secrets.loginKey()), Duration.ofSeconds(30))) {
            int requestsBefore = standIns.requests().size();
            Remote.Result make = remote.exec("cd ~/ebpf_exporter/examples && GIT_CONFIG_COUNT=1"
                    + " GIT_CONFIG_KEY_0=url.http://127.0.0.1:9/.insteadOf GIT_CONFIG_VALUE_0=https://github.com/"
                    + " make 2>&1");
            assertEquals(0, make.exitCode(), r.name() + ": the attendee's make fails:\n" + make.stdout());
            assertFalse(make.stdout().contains("git clone"), "Makefile.libbpf's clone rule ran:\n" + make.stdout());
            assertEquals(requestsBefore, standIns.requests().size(), "make downloaded: "
                    + standIns.requests().subList(requestsBefore, standIns.requests().size()));
            Remote.Result built = remote.exec("cd ~/ebpf_exporter && test -s examples/php.bpf.o"
                    + " && test -f libbpf/dest/usr/lib/libbpf.so.1.4.2 && test ! -e libbpf/.git && echo built");
            assertEquals("built", built.stdout().strip(), r.name() + ": " + built.stderr());
        }
    }

    /** The rows port 443 adds to verify's matrix (docs/machine.md, "Port 443"). */
    private static final List<String> HTTPS_ROWS = List.of("terminal_https", "grafana_https");

    /**
     * From the facilitator's side, as an attendee's browser: each machine serves the certificate whose fingerprint the
     * ledger recorded for the card (checked as an attendee checks it, and named for the machine's address: the JDK's
     * host name check), asks for the terminal's password, passes Grafana through; and the workshop's
     * {@code http://<machine>:3000/} lands on Grafana's {@code /grafana/} on the same port, and its page on port 80
     * points at the HTTPS entry. With the facilitator's certificate ({@code own}), every machine serves exactly that
     * one to a browser asking for its seat's name (SNI), reached at the address its DNS record names.
     */
    private static void servesHttpsAsTheCardSays(WorkshopSpec spec, Provider provider, TlsMaterial own)
            throws Exception {
        Ledger ledger = Ledger.open(new StateFolder(spec.stateDir()), spec.name(), provider.id(), spec.region(),
                Clock.systemUTC());
        for (MachineRecord r : ledger.snapshot().machines().values()) {
            if (!r.isLive()) {
                continue;
            }
            String fingerprint = r.tlsSha256();
            assertTrue(fingerprint != null && fingerprint.matches("([0-9A-F]{2}:){31}[0-9A-F]{2}"),
                    r.name() + ": no certificate fingerprint in the ledger: " + fingerprint);
            if (own != null) {
                assertEquals(own.sha256(), fingerprint, r.name() + ": the card names the facilitator's certificate");
                String seatName = String.format(java.util.Locale.ROOT, "seat%02d.%s", r.seatNumber(), OWN_DOMAIN);
                assertEquals(own.sha256(), PinnedCertificate.servedFor(r.publicIp(), seatName),
                        r.name() + ": 443 serves the facilitator's certificate for " + seatName);
            }
            HttpClient https = HttpClient.newBuilder().sslContext(PinnedCertificate.trusting(fingerprint, own == null))
                    .connectTimeout(Duration.ofSeconds(10)).build();
            HttpResponse<String> terminal = https.send(HttpRequest.newBuilder(
                    URI.create("https://" + r.publicIp() + "/terminal/")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(401, terminal.statusCode(), r.name() + ": /terminal/ without a password");
            HttpResponse<String> health = https.send(HttpRequest.newBuilder(
                    URI.create("https://" + r.publicIp() + "/grafana/api/health")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, health.statusCode(), r.name() + ": /grafana/api/health " + health.body());
            HttpResponse<String> workshopPort = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://" + r.publicIp() + ":3000/")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(301, workshopPort.statusCode(), r.name() + ": http://<machine>:3000/");
            assertEquals("/grafana/", workshopPort.headers().firstValue("Location").orElse(""), r.name());
            HttpResponse<String> page = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://" + r.publicIp() + "/")).build(), HttpResponse.BodyHandlers.ofString());
            assertTrue(page.body().contains("href=\"/terminal/\"") && page.body().contains("href=\"/grafana/\""),
                    r.name() + ": the page on port 80 points at the HTTPS entry:\n" + page.body());
        }
    }

    /**
     * With the facilitator's certificate and names: {@code up} printed one DNS record per seat naming its machine's
     * address, and each card links its seat's name (not the address) and prints the certificate's fingerprint.
     */
    private static void ownNamesOnTheCardsAndInDns(WorkshopSpec spec, Provider provider, String upOutput)
            throws Exception {
        Ledger ledger = Ledger.open(new StateFolder(spec.stateDir()), spec.name(), provider.id(), spec.region(),
                Clock.systemUTC());
        String cards = Files.readString(spec.stateDir().resolve("handout/index.html"));
        for (MachineRecord r : ledger.snapshot().machines().values()) {
            if (!r.isLive()) {
                continue;
            }
            String seatName = String.format(java.util.Locale.ROOT, "seat%02d.%s", r.seatNumber(), OWN_DOMAIN);
            assertTrue(upOutput.contains(seatName + ". 300 IN A " + r.publicIp() + "\n"),
                    "up prints the DNS record of " + seatName + ":\n" + upOutput);
            assertTrue(cards.contains("https://" + seatName + "/terminal/"), seatName + "'s card links its name");
            assertTrue(cards.contains(r.tlsSha256()), seatName + "'s card prints the certificate's fingerprint");
        }
    }

    /**
     * Seat 01's way in over 443 in headless Chromium, as an attendee with the card: the browser trusts only the
     * certificate whose fingerprint the card prints, types {@code bpftrace --version} into the terminal and reads the
     * answer, logs in to Grafana through its form and finds the workshop dashboard; wrong passwords are refused.
     * Screenshots stay in target/failsafe-reports/browser/.
     */
    private static void walkedInABrowser(WorkshopSpec spec, Provider provider) {
        Ledger ledger = Ledger.open(new StateFolder(spec.stateDir()), spec.name(), provider.id(), spec.region(),
                Clock.systemUTC());
        Secrets secrets = new Secrets(new StateFolder(spec.stateDir()), spec.name());
        MachineRecord seat = ledger.snapshot().machines().values().stream().filter(MachineRecord::isLive)
                .min(Comparator.comparingInt(MachineRecord::attendee)).orElseThrow();
        WebEntryCheck.Seen seen = WebEntryCheck.inOwnBrowser(new WebEntry(URI.create("https://" + seat.publicIp()),
                new Login(SshLogin.MACHINE_USER, secrets.sshPassword(seat.attendee())),
                new Login(GrafanaClient.ADMIN_USER, secrets.grafanaPassword(seat.attendee())),
                seat.tlsSha256(), "php-usdt-uprobe", "PHP USDT/uprobe SAMPLES"),
                PROJECT.resolve("target/failsafe-reports/browser").resolve(provider.id()));
        assertEquals(List.of(), seen.problems(), seen::toString);
    }

    /** The rows the deep checks add to verify's matrix. */
    private static final List<String> DEEP_ROWS = List.of("usdt_probes", "usdt_fires", "attendee_make", "exporter_php",
            "prometheus_php");

    /**
     * The attendee's tree as verify must leave it: git's view (tracked, untracked and ignored files), every file's
     * size and time, and whether a BPF object was built in it.
     */
    private static final String ATTENDEE_TREE = "cd ~ubuntu/ebpf_exporter && git status --porcelain --ignored"
            + " && find . -path ./.git -prune -o -printf '%p %s %T@\\n' | sort | sha256sum"
            + " && { test -e examples/php.bpf.o && echo php.bpf.o built || echo no php.bpf.o; }";

    /** After verify: no exporter or bpftrace left running, nothing on the exporter's port, the attendee's tree as before. */
    private static void verifyLeftNothingBehind(WorkshopSpec spec, Provider provider, Map<String, String> treesBefore)
            throws Exception {
        Map<String, String> trees = onEachMachine(spec, provider, ATTENDEE_TREE);
        assertEquals(treesBefore, trees, "verify changed the attendee's ~/ebpf_exporter");
        trees.forEach((machine, tree) -> assertTrue(tree.strip().endsWith("no php.bpf.o"), machine + ": " + tree));
        Map<String, String> leftovers = onEachMachine(spec, provider, "sudo sh -c 'pgrep -a -x bpftrace;"
                + " pgrep -a -x ebpf_exporter; ss -Hltn sport = :9435; ls -d /tmp/workshop-fleet-verify.* 2>/dev/null;"
                + " true'");
        leftovers.forEach((machine, left) -> assertEquals("", left.strip(), machine + ": verify left behind: " + left));
    }

    /**
     * A machine whose apache2 lost {@code USE_ZEND_DTRACE=1} (drop-in edited, daemon-reload, restart) fails verify:
     * exit 1, its USDT row fails with a one-line reason, the other machine passes every check.
     */
    private static void aMachineWithoutZendDtraceIsCaught(WorkshopSpec spec, Provider provider,
                                                          Function<String, Integer> command, ByteArrayOutputStream buffer)
            throws Exception {
        Ledger ledger = Ledger.open(new StateFolder(spec.stateDir()), spec.name(), provider.id(), spec.region(), Clock.systemUTC());
        List<MachineRecord> machines = ledger.snapshot().machines().values().stream()
                .sorted(java.util.Comparator.comparingInt(MachineRecord::attendee)).toList();
        MachineRecord broken = machines.get(1);
        MachineRecord healthy = machines.get(0);
        Remote.Result edit = on(spec, broken, "sudo sh -c 'sed -i s/USE_ZEND_DTRACE=1// "
                + "/etc/systemd/system/apache2.service.d/workshop-fleet.conf && systemctl daemon-reload"
                + " && systemctl restart apache2 && tr \"\\0\" \"\\n\" < /proc/$(systemctl show -p MainPID --value apache2)/environ'");
        assertEquals(0, edit.exitCode(), edit.stderr());
        assertFalse(edit.stdout().contains("USE_ZEND_DTRACE"), edit.stdout());
        buffer.reset();
        assertEquals(1, command.apply("verify"), () -> "verify passed a machine without USE_ZEND_DTRACE:\n" + buffer);
        String output = buffer.toString(StandardCharsets.UTF_8);
        List<String> failures = output.lines().filter(l -> l.startsWith("  FAIL ")).toList();
        assertTrue(failures.stream().noneMatch(l -> l.startsWith("  FAIL " + healthy.name() + " ")),
                "the healthy machine failed:\n" + output);
        String usdt = failures.stream().filter(l -> l.startsWith("  FAIL " + broken.name() + " usdt_fires: "))
                .findFirst().orElse("");
        assertTrue(usdt.contains("USE_ZEND_DTRACE"), "no one-line usdt_fires reason naming USE_ZEND_DTRACE:\n" + output);
        assertTrue(failures.stream().anyMatch(l -> l.startsWith("  FAIL " + broken.name() + " apache_dtrace: ")), output);
        System.out.println("broken machine caught:\n" + String.join("\n", failures));
    }

    /** The on-machine checks that were there before the deep ones, timed on both machines at once. */
    private static long shallowChecksMillis(WorkshopSpec spec, Provider provider) throws Exception {
        String script = org.workshopfleet.provision.Verifier.scriptText();
        String shallow = script.substring(0, script.indexOf("VERIFY_TMP=$(mktemp")) + "exit 0\n";
        long started = System.nanoTime();
        Map<String, String> rows = onEachMachine(spec, provider, "sudo env BUNDLE_DIR=/opt/workshop-fleet bash -s",
                shallow.getBytes(StandardCharsets.UTF_8));
        long millis = (System.nanoTime() - started) / 1_000_000;
        rows.forEach((machine, out) -> assertTrue(out.contains("CHECK exporter_branch "), machine + ": " + out));
        return millis;
    }

    private static Map<String, String> onEachMachine(WorkshopSpec spec, Provider provider, String command) throws Exception {
        return onEachMachine(spec, provider, command, null);
    }

    /** {@code command} on every machine of the ledger at once: machine name -> its standard output. */
    private static Map<String, String> onEachMachine(WorkshopSpec spec, Provider provider, String command, byte[] stdin)
            throws Exception {
        Ledger ledger = Ledger.open(new StateFolder(spec.stateDir()), spec.name(), provider.id(), spec.region(), Clock.systemUTC());
        List<MachineRecord> machines = List.copyOf(ledger.snapshot().machines().values());
        List<java.util.concurrent.Callable<String>> calls = new java.util.ArrayList<>();
        for (MachineRecord r : machines) {
            calls.add(() -> {
                Remote.Result result = stdin == null ? on(spec, r, command) : onWithStdin(spec, r, command, stdin);
                assertEquals(0, result.exitCode(), r.name() + ": " + command + "\n" + result.stderr());
                return result.stdout();
            });
        }
        List<org.workshopfleet.concurrent.FanOut.Outcome<String>> outcomes =
                new org.workshopfleet.concurrent.FanOut("it", machines.size()).each(calls);
        Map<String, String> out = new java.util.TreeMap<>();
        for (int i = 0; i < machines.size(); i++) {
            org.workshopfleet.concurrent.FanOut.Outcome<String> o = outcomes.get(i);
            assertTrue(o.ok(), machines.get(i).name() + ": " + o.failure());
            out.put(machines.get(i).name(), o.value());
        }
        return out;
    }

    private static Remote.Result on(WorkshopSpec spec, MachineRecord r, String command) {
        return onWithStdin(spec, r, command, null);
    }

    private static Remote.Result onWithStdin(WorkshopSpec spec, MachineRecord r, String command, byte[] stdin) {
        Secrets secrets = new Secrets(new StateFolder(spec.stateDir()), spec.name());
        try (Remote remote = Remote.await(new SshTarget(r.publicIp(), 22, secrets.hostKey(r.attendee()).publicKeyNoComment()),
                new SshLogin(SshLogin.MACHINE_USER, secrets.loginKey()), Duration.ofSeconds(30))) {
            return stdin == null ? remote.exec(command) : remote.exec(command, stdin);
        }
    }

    /** The machines' logs end up in the test report: the first place to look when CI fails. */
    private static void printLogTails(Path logs) throws java.io.IOException {
        if (!Files.isDirectory(logs)) {
            return;
        }
        try (var files = Files.list(logs)) {
            for (Path log : files.sorted().toList()) {
                List<String> lines = Files.readAllLines(log);
                System.out.println("==== " + log.getFileName() + " (last 60 of " + lines.size() + " lines)");
                lines.subList(Math.max(0, lines.size() - 60), lines.size()).forEach(System.out::println);
            }
        }
    }
}
