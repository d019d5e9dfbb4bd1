package org.workshopfleet.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
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
 * {@code up} with two machines, {@code verify} passes every readiness check on both, {@code teardown} leaves the host as
 * it was. Each command runs through {@link Main#run} as on the command line, the stand-ins reached through
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
                List.of("wf-" + name + "-01", "wf-" + name + "-02"), Wiring.TEMPLATES);
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
            runScenario(name, Provider.EC2, clouds, List.of(), DebianRendering.FOR_LAB_MACHINES);
            assertEquals(1, fake.calls("CreateTags").size(), "extend retags the fleet in one call");
            assertTrue(fake.liveInstanceCount() == 0, "the fake holds no live instance after teardown");
            assertTrue(fake.securityGroupNames().stream().noneMatch(n -> n.contains(name)), "security group deleted");
            assertTrue(fake.keyPairNames().stream().noneMatch(n -> n.contains(name)), "key pair deleted");
        } finally {
            backendMachines.destroyAll();
        }
    }

    private void runScenario(String name, Provider provider, CloudFactory clouds, List<String> labNames,
                             Function<Path, MachineRendering> rendering) throws Exception {
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
            WorkshopSpec spec = Options.parse(props, Map.of()).spec();
            assertEquals(standIns.sources(), spec.sources(), "-Dsources points every download at the stand-ins");
            Wiring wiring = new Wiring(clouds, s -> { }, () -> LabNetwork.SUBNET, null, ProvisionListener.NONE,
                    Clock.systemUTC(), SshLogin.MACHINE_USER, 22, MachineLayout.STANDARD, Duration.ofMinutes(5),
                    Duration.ofMinutes(10)).withRendering(rendering);
            Function<String, Integer> command = action -> {
                Map<String, String> withAction = new HashMap<>(props);
                withAction.put("action", action);
                return Main.run(withAction, Map.of(), out, out, wiring);
            };

            assertEquals(0, command.apply("up"), () -> "up failed:\n" + buffer);
            assertEquals(0, command.apply("verify"), () -> "verify failed:\n" + buffer);
            String output = buffer.toString(StandardCharsets.UTF_8);
            assertTrue(output.contains("verify: all 2 machine(s) pass every check"), output);
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

            // A second up is a resume: nothing relaunched, every step skipped by its marker.
            buffer.reset();
            assertEquals(0, command.apply("up"), () -> "second up failed:\n" + buffer);
            assertFalse(buffer.toString(StandardCharsets.UTF_8).contains("launching"), buffer::toString);

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
