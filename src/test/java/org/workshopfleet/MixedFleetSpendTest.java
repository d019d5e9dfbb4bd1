package org.workshopfleet;

import org.workshopfleet.command.Wiring;
import org.workshopfleet.command.CloudFactory;
import org.workshopfleet.spec.Cidr;
import org.workshopfleet.cloud.ec2.Ec2Profile;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.workshopfleet.cloud.ec2.Ec2Cloud;
import org.workshopfleet.cloud.ec2.fake.Ec2Fake;
import org.workshopfleet.cloud.ec2.fake.InstanceBackend;
import org.workshopfleet.faults.TinyWorkshop;
import org.workshopfleet.provision.MachineLayout;
import org.workshopfleet.provision.ProvisionListener;
import org.workshopfleet.report.FleetSpend;
import org.workshopfleet.report.PriceTable;
import org.workshopfleet.spec.Provider;
import org.workshopfleet.spec.WorkshopSpec;
import org.workshopfleet.ssh.LoopbackSshd;
import org.workshopfleet.state.Ledger;
import org.workshopfleet.state.LedgerData;
import org.workshopfleet.state.MachineRecord;
import org.workshopfleet.state.StateFolder;
import software.amazon.awssdk.utils.SdkAutoCloseable;

/**
 * Money figures of a mixed fleet: {@code up} through {@link Fleet} and the real {@link Ec2Cloud} against the EC2
 * stand-in ({@link Ec2Fake}), which has capacity for only one {@code t3.medium} per zone, so EC2's fallback launches the
 * rest as {@code t3a.medium}. The ledger must record each machine's own type from the RunInstances answer, and spend,
 * status and the re-run's estimate must price each machine at its own type. The stand-in's machines are 127.0.0.1 with
 * nothing listening on the SSH port: they fail at "ssh" quickly, which is enough here (nothing is provisioned).
 */
class MixedFleetSpendTest {

    private static final String REGION = Ec2Fake.REGION;
    /** List prices in ap-northeast-1 from the shipped table. */
    private static final double T3_MEDIUM = 0.0544;
    private static final double T3A_MEDIUM = 0.0490;

    @TempDir
    Path dir;
    final Ec2Fake fake = Ec2Fake.start();
    final List<SdkAutoCloseable> clients = new ArrayList<>();
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final PriceTable prices = PriceTable.load();

    @AfterEach
    void stop() {
        synchronized (clients) {
            clients.forEach(SdkAutoCloseable::close);
        }
        fake.close();
    }

    @Test
    void eachMachineIsRecordedAndPricedAtTheTypeEc2LaunchedItWith() throws IOException {
        assertEquals(T3_MEDIUM, prices.hourly(new Ec2Profile(), REGION, "t3.medium").orElseThrow().usdPerHour());
        assertEquals(T3A_MEDIUM, prices.hourly(new Ec2Profile(), REGION, "t3a.medium").orElseThrow().usdPerHour());
        for (String zone : fake.zones()) {
            fake.capacity(zone, "t3.medium", 1); // three zones: three t3.medium, then EC2 says no
        }
        WorkshopSpec spec = spec(5);

        assertEquals(1, fleet(spec).up(true), "machines fail at ssh (nothing listens): " + out());

        Map<String, String> typeById = fake.instances().stream()
                .collect(Collectors.toMap(Ec2Fake.InstanceView::id, Ec2Fake.InstanceView::type));
        assertEquals(Map.of("t3.medium", 3L, "t3a.medium", 2L), typeById.values().stream()
                .collect(Collectors.groupingBy(t -> t, Collectors.counting())), "the stand-in launched a mixed fleet");
        LedgerData data = ledger(spec).snapshot();
        assertEquals(5, data.machines().size());
        for (MachineRecord r : data.machines().values()) {
            assertEquals(typeById.get(r.cloudId()), r.instanceType(), "type recorded for " + r.name());
        }

        // Spend: the sum, machine by machine, of its own type's price for the time since its launch.
        Instant now = data.machines().values().stream().map(MachineRecord::launchedAt).max(Instant::compareTo)
                .orElseThrow().plus(Duration.ofHours(2));
        double expected = 0;
        for (MachineRecord r : data.machines().values()) {
            double price = typeById.get(r.cloudId()).equals("t3.medium") ? T3_MEDIUM : T3A_MEDIUM;
            expected += price * Duration.between(r.launchedAt(), now).getSeconds() / 3600.0;
        }
        FleetSpend spend = FleetSpend.fromLedger(data, prices, new Ec2Profile(), REGION, "t3.medium", now);
        assertEquals(expected, spend.usd(), 1e-9);
        assertEquals(3 * T3_MEDIUM + 2 * T3A_MEDIUM, spend.usdPerHour(), 1e-9);
        assertTrue(spend.complete());
        assertEquals(0, spend.assumed());
        assertTrue(out().contains("cost so far $"), out());

        // status prices each machine at the type the cloud reports for it: 3 × 0.0544 + 2 × 0.0490 = $0.261/h
        // (five of the first type would be $0.272/h).
        out.reset();
        assertEquals(0, fleet(spec).status());
        assertTrue(out().contains(", now $0.261/h (list price, " + prices.asOf() + ")"), out());

        // A re-run's estimate prices the machines it keeps at their recorded types and names the mix.
        out.reset();
        fleet(spec).up(true);
        assertTrue(out().contains("ec2: 5 × t3.medium in " + REGION + " (fallback t3a.medium, t2.medium; 5 launched:"
                + " 3 × t3.medium, 2 × t3a.medium) ≈ $0.261/h (list price, "), out());
        assertEquals(5, fake.launchedInstanceCount(), "the re-run launched nothing");

        // extend says what the longer life costs at the fleet's own hourly price. (Addresses dropped from the ledger so
        // that moving the power-off timers fails at once instead of waiting for SSH: the cost line comes first.)
        Ledger ledger = ledger(spec);
        for (MachineRecord r : ledger.snapshot().machines().values()) {
            ledger.updateMachine(r.attendee(), r.name(), m -> m.withAddress(null));
        }
        out.reset();
        WorkshopSpec longer = new WorkshopSpec(spec.name(), 5, Provider.EC2, REGION, spec.instanceTypes(), null,
                spec.cidr(), false, Duration.ofHours(24), spec.parallelism(), dir.resolve("workshops"), spec.sources());
        assertEquals(1, fleet(longer).extend(true), out());
        assertTrue(out().contains(" on 5 machine(s); about $3.1") && out().contains(" more at list price ($0.261/h for "),
                "12 h more (less the time since the first up) × $0.261/h: " + out());
        assertTrue(out().contains("NOT moved: no address recorded"), out());
    }

    @Test
    void aLedgerWithoutTypesIsPricedAsTheFirstTypeSaysSoAndGetsTheTypesBackFromTheCloud() throws IOException {
        for (String zone : fake.zones()) {
            fake.capacity(zone, "t3.medium", 0); // no t3.medium at all: every machine is a t3a.medium
        }
        WorkshopSpec spec = spec(2);
        fleet(spec).up(true);
        // As an older version would have left it: the same ledger without the instanceType fields.
        Path file = new StateFolder(spec.stateDir()).ledgerFile();
        String withTypes = Files.readString(file);
        assertTrue(withTypes.contains("\"instanceType\" : \"t3a.medium\""), withTypes);
        Files.writeString(file, withTypes.replaceAll("\\s*\"instanceType\" : \"[^\"]*\",", ""));
        LedgerData old = ledger(spec).snapshot();
        old.machines().values().forEach(r -> assertNull(r.instanceType(), r.name()));

        FleetSpend assumed = FleetSpend.fromLedger(old, prices, new Ec2Profile(), REGION, "t3.medium", Instant.now());
        assertEquals(2, assumed.assumed());
        assertEquals(2 * T3_MEDIUM, assumed.usdPerHour(), 1e-9);
        assertTrue(assumed.text().endsWith("(2 machine(s) without a recorded type priced as t3.medium)"), assumed.text());

        out.reset();
        fleet(spec).up(true);
        assertTrue(out().contains("≈ $0.109/h (list price, " + prices.asOf()
                + "; 2 machine(s) without a recorded type priced as t3.medium)"), out());
        // The cloud described the running machines during that up: their types are recorded again.
        ledger(spec).snapshot().machines().values().forEach(r -> assertEquals("t3a.medium", r.instanceType(), r.name()));
        assertFalse(Files.readString(file).contains("\"instanceType\" : \"t3.medium\""), "nothing was invented");
    }

    private WorkshopSpec spec(int count) {
        return WorkshopSpec.defaults(count, Provider.EC2).withStateRoot(dir.resolve("workshops"))
                .withCidr(Cidr.parse("203.0.113.7/32"));
    }

    private Ledger ledger(WorkshopSpec spec) {
        return Ledger.open(new StateFolder(spec.stateDir()), spec.name(), "ec2", REGION, Clock.systemUTC());
    }

    private Fleet fleet(WorkshopSpec spec) throws IOException {
        fake.backend(InstanceBackend.at("127.0.0.1"));
        Path project = dir.resolve("project");
        Files.createDirectories(project.resolve("security-groups"));
        if (!Files.exists(project.resolve("security-groups/workshop.json"))) {
            Files.copy(Path.of("security-groups/workshop.json"), project.resolve("security-groups/workshop.json"));
        }
        CloudFactory clouds = fake.cloudFactory(Path.of("ami.properties"), clients);
        Wiring wiring = new Wiring(clouds, s -> { }, () -> {
            throw new AssertionError("no address detection in tests");
        }, null, ProvisionListener.NONE, Clock.systemUTC(), LoopbackSshd.user(), LoopbackSshd.freePort(),
                MachineLayout.STANDARD, Duration.ofSeconds(2), Duration.ofSeconds(30), root -> new TinyWorkshop());
        return new Fleet(spec, project, wiring, new PrintStream(out, true, StandardCharsets.UTF_8));
    }

    private String out() {
        return out.toString(StandardCharsets.UTF_8);
    }
}
