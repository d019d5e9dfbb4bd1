package org.workshopfleet.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.workshopfleet.cli.Main;
import org.workshopfleet.cloud.ec2.fake.Ec2Fake;
import org.workshopfleet.command.ReadinessCheck;
import org.workshopfleet.command.Wiring;
import org.workshopfleet.error.ExitCode;
import org.workshopfleet.provision.MachineLayout;
import org.workshopfleet.provision.ProvisionListener;
import org.workshopfleet.provision.Verifier;
import org.workshopfleet.ssh.LoopbackSshd;
import org.workshopfleet.state.Ledger;
import org.workshopfleet.state.LedgerData;
import org.workshopfleet.state.MachineRecord;
import org.workshopfleet.state.Secrets;
import org.workshopfleet.state.StateFolder;

/**
 * Spares, {@code replace} and {@code up}'s heal, through the command ({@link Main#run}) on the EC2 stand-in whose
 * instances are loopback SSH machines ({@link LoopbackInstances}) provisioned with the {@link TinyWorkshop}. Which
 * machines fail their readiness checks is decided by the test ({@link #broken}), through the wiring's
 * {@link ReadinessCheck}: the loopback machines hold no workshop for the real {@link Verifier} to check.
 */
class SparesTest {

    @TempDir
    Path dir;
    final Ec2Fake ec2 = Ec2Fake.start();
    final List<AutoCloseable> clients = new ArrayList<>();
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final ByteArrayOutputStream err = new ByteArrayOutputStream();
    /** Machines (by name) whose readiness checks fail; every other machine passes them. */
    final Set<String> brokenNames = ConcurrentHashMap.newKeySet();
    Predicate<String> broken = brokenNames::contains;
    /** Machines (by name) whose readiness was checked, in order. */
    final List<String> checked = java.util.Collections.synchronizedList(new ArrayList<>());
    final TinyWorkshop tiny = new TinyWorkshop();
    Path project;
    LoopbackInstances machines;
    int port;

    @BeforeEach
    void setUp() throws IOException {
        LoopbackSshd.assumeAvailable();
        project = dir.resolve("project");
        Files.createDirectories(project.resolve("security-groups"));
        Files.copy(Path.of("security-groups/workshop.json"), project.resolve("security-groups/workshop.json"));
        port = LoopbackSshd.freePort();
        Secrets secrets = new Secrets(new StateFolder(dir.resolve("workshops/ebpf-php")), "ebpf-php");
        machines = new LoopbackInstances(dir.resolve("machines"), port, secrets.loginKey());
        ec2.backend(machines);
    }

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : clients) {
            c.close();
        }
        ec2.close();
        machines.close();
    }

    int run(String props) {
        out.reset();
        err.reset();
        Map<String, String> p = new HashMap<>(Map.of("cidr", "203.0.113.7/32", "yes", "",
                "stateDir", dir.resolve("workshops").toString(), "projectRoot", project.toString()));
        for (String kv : props.split(";")) {
            int eq = kv.indexOf('=');
            p.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
        return Main.run(p, Map.of("AWS_REGION", "ap-northeast-1"), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), wiring());
    }

    Wiring wiring() {
        ReadinessCheck readiness = (verifier, target) -> {
            checked.add(target.name());
            return broken.test(target.name())
                    ? List.of(new Verifier.Check("ssh", true, "ok"), new Verifier.Check("php_usdt", false, "no probes"),
                            new Verifier.Check("grafana_dashboard", false, "no data"))
                    : List.of(new Verifier.Check("ssh", true, "ok"), new Verifier.Check("php_usdt", true, "listed"));
        };
        return new Wiring(ec2.cloudFactory(Path.of("ami.properties"), clients), s -> { }, () -> {
            throw new AssertionError("no address detection in tests");
        }, null, ProvisionListener.NONE, Clock.systemUTC(), LoopbackSshd.user(), port, MachineLayout.STANDARD,
                Duration.ofSeconds(15), Duration.ofSeconds(30), root -> tiny).withReadiness(readiness);
    }

    String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    LedgerData ledger() {
        return Ledger.open(new StateFolder(dir.resolve("workshops/ebpf-php")), "ebpf-php", "ec2", "ap-northeast-1",
                Clock.systemUTC()).snapshot();
    }

    /** The live machine record serving {@code seat}, or null. */
    MachineRecord seat(int seat) {
        return ledger().machines().values().stream().filter(r -> r.isLive() && !r.isSpare() && r.seatNumber() == seat)
                .findFirst().orElse(null);
    }

    List<MachineRecord> spares() {
        return ledger().machines().values().stream().filter(r -> r.isLive() && r.isSpare()).toList();
    }

    /** The live EC2 instance named {@code name}'s tags. */
    Map<String, String> tagsOf(String name) {
        return ec2.instances().stream().filter(i -> i.state().equals("running") || i.state().equals("pending"))
                .filter(i -> name.equals(i.tags().get("Name"))).findFirst().orElseThrow(() -> new AssertionError(
                        "no live instance " + name + " in " + ec2.instances())).tags();
    }

    long liveInstances() {
        return ec2.instances().stream().filter(i -> !i.state().equals("terminated") && !i.state().equals("shutting-down"))
                .count();
    }

    String handout(String file) throws IOException {
        return Files.readString(dir.resolve("workshops/ebpf-php/handout").resolve(file));
    }

    void assertOneLineError(String expected) {
        String e = err();
        assertTrue(e.startsWith("error: ") && e.indexOf('\n') == e.length() - 1, "one line: " + e);
        assertTrue(e.contains(expected), e);
    }

    @Test
    void upWithSparesProvisionsVerifiesTagsAndPrintsThemApartAndTeardownRemovesThem() throws IOException {
        assertEquals(0, run("count=2;spares=1"), out() + err());
        assertTrue(out().contains("ready: all 2 seat(s) verified, 1 verified spare(s)"), out());
        assertEquals(3, liveInstances());
        assertEquals(Set.of("ebpf-php-01", "ebpf-php-02", "ebpf-php-03"), Set.copyOf(checked), "every machine checked");

        assertEquals("ebpf-php-01", seat(1).name());
        assertEquals("ebpf-php-02", seat(2).name());
        assertEquals(List.of("ebpf-php-03"), spares().stream().map(MachineRecord::name).toList());
        assertEquals("01", tagsOf("ebpf-php-01").get("Seat"));
        assertEquals("spare", tagsOf("ebpf-php-03").get("Seat"));
        assertEquals("03", tagsOf("ebpf-php-03").get("Attendee"), "the machine's own number stays its identity");

        String csv = handout("attendees.csv");
        assertTrue(csv.contains("\r\nspare,ebpf-php-03,"), csv);
        assertTrue(csv.contains("\r\n1,ebpf-php-01,"), csv);
        String html = handout("index.html");
        assertEquals(2, html.split("<section class=\"sheet\">", -1).length - 1, "the spare on a sheet of its own");
        assertTrue(html.contains("<span class=\"no\">SPARE</span>"), html);
        assertTrue(html.indexOf("data-attendee=\"2\"") < html.indexOf("data-spare=\"ebpf-php-03\""), "seats first");

        assertEquals(0, run("action=status"), err());
        assertTrue(out().contains("ebpf-php-03 (spare)"), out());

        assertEquals(0, run("action=teardown"), err());
        assertEquals(0, liveInstances(), "the spare is torn down with the seats");
        assertEquals(List.of(), machines.violations());
    }

    @Test
    void replaceMovesTheSeatOntoTheSpareDestroysItsMachineAndMakesANewSpare() throws IOException {
        assertEquals(0, run("count=2;spares=1"), out() + err());
        String oldId = seat(1).cloudId();
        checked.clear();

        assertEquals(0, run("action=replace;seat=1"), out() + err());
        assertEquals("ebpf-php-03", seat(1).name(), out());
        assertEquals("ebpf-php-03", checked.get(0), "the spare was checked before the seat moved onto it");
        assertEquals("01", tagsOf("ebpf-php-03").get("Seat"), "the spare's machine carries the seat");
        assertFalse(ledger().machines().containsKey(1), "seat 1's old machine left the ledger");
        assertTrue(ec2.instances().stream().anyMatch(i -> i.id().equals(oldId) && !i.state().equals("running")),
                "seat 1's old machine was destroyed");
        assertEquals(List.of("ebpf-php-04"), spares().stream().map(MachineRecord::name).toList(), "a new spare");
        assertEquals("spare", tagsOf("ebpf-php-04").get("Seat"));
        assertEquals(3, liveInstances());
        assertTrue(out().contains("new card for seat 01: machine ebpf-php-03"), out());
        assertTrue(out().contains("replace: seat 01 verified on ebpf-php-03 in "), out());
        assertTrue(handout("attendees.csv").contains("\r\n1,ebpf-php-03,"), handout("attendees.csv"));
        assertTrue(handout("seat-01.html").contains("ebpf-php-03"));
        assertFalse(out().contains(new Secrets(new StateFolder(dir.resolve("workshops/ebpf-php")), "ebpf-php")
                .sshPassword(3)), "the console never shows a password");

        // A re-run of up keeps the moved seat where it is and launches nothing.
        int launches = ec2.calls("RunInstances").size();
        assertEquals(0, run("count=2;spares=1"), out() + err());
        assertEquals(launches, ec2.calls("RunInstances").size(), out());
        assertEquals("ebpf-php-03", seat(1).name());

        assertEquals(0, run("action=teardown"), err());
        assertEquals(0, liveInstances());
        assertEquals(List.of(), machines.violations());
    }

    @Test
    void replaceWithNoSpareMakesANewMachineForTheSeat() throws IOException {
        assertEquals(0, run("count=2"), out() + err());
        assertEquals(0, run("action=replace;seat=2"), out() + err());
        assertTrue(out().contains("no spare ready for seat 02: making a new machine for it"), out());
        assertEquals("ebpf-php-03", seat(2).name());
        assertEquals("02", tagsOf("ebpf-php-03").get("Seat"));
        assertEquals(List.of(), spares(), "no spare was asked for");
        assertEquals(2, liveInstances());
        assertEquals(0, run("action=teardown"), err());
        assertEquals(0, liveInstances());
    }

    @Test
    void aBadSeatOrSparesIsOneLineBeforeAnythingChanges() throws IOException {
        assertEquals(ExitCode.BAD_INPUT, run("count=1;spares=-1"));
        assertOneLineError("spares -1 is out of range: use -Dspares=0..199");
        assertEquals(ExitCode.BAD_INPUT, run("count=150;spares=60"));
        assertOneLineError("count plus spares is at most 200");
        assertEquals(ExitCode.BAD_INPUT, run("count=1;spares=two"));
        assertOneLineError("spares 'two' is not a whole number");
        assertEquals(0, ec2.calls().size(), "refused before any cloud call");

        assertEquals(0, run("count=2"), out() + err());
        String before = Files.readString(dir.resolve("workshops/ebpf-php/ledger.json"));
        int calls = ec2.calls().size();
        assertEquals(ExitCode.BAD_INPUT, run("action=replace"));
        assertOneLineError("which seat? add -Dseat=N");
        assertEquals(ExitCode.BAD_INPUT, run("action=replace;seat=seven"));
        assertOneLineError("seat 'seven' is not a whole number");
        assertEquals(ExitCode.BAD_INPUT, run("action=replace;seat=0"));
        assertOneLineError("seat 0 is not a seat");
        assertEquals(ExitCode.BAD_INPUT, run("action=replace;seat=7"));
        assertOneLineError("seat 7 is not a seat of workshop ebpf-php: its seats are 1, 2");
        assertEquals(calls, ec2.calls().size(), "no cloud call");
        assertEquals(before, Files.readString(dir.resolve("workshops/ebpf-php/ledger.json")), "ledger untouched");
    }

    @Test
    void healMovesASeatWhoseMachineFailsItsChecksOntoTheSpareAndMakesANewSpare() {
        brokenNames.add("ebpf-php-02");
        assertEquals(0, run("count=2;spares=1"), out() + err());
        String text = out();
        assertTrue(text.contains("heal: seat 02 on ebpf-php-02 fails php_usdt, grafana_dashboard"), text);
        assertTrue(text.contains("heal: seat 02, attempt 1 of 2: replacing ebpf-php-02"), text);
        assertTrue(text.contains("heal: seat 02 healed on ebpf-php-03"), text);
        assertTrue(text.indexOf("heal: seat 02 healed") < text.indexOf("ready: all 2 seat(s) verified"), text);
        assertEquals("ebpf-php-03", seat(2).name());
        assertFalse(ledger().machines().containsKey(2), "the broken machine left the ledger");
        assertEquals(List.of("ebpf-php-04"), spares().stream().map(MachineRecord::name).toList(), "spares made up");
        assertEquals(3, liveInstances());
        assertEquals(List.of(), machines.violations());
    }

    @Test
    void aSeatWhoseMachineFailsProvisioningMovesOntoASpareAndWithoutOneUpSaysWhichSeat() {
        tiny.failing.add(2); // machine 2 fails its step 03
        assertEquals(0, run("count=2;spares=1"), out() + err());
        String text = out();
        assertTrue(text.contains("heal: seat 02 moved off ebpf-php-02, which failed provisioning, onto the spare"
                + " ebpf-php-03"), text);
        assertEquals("ebpf-php-03", seat(2).name());
        assertEquals(List.of("ebpf-php-04"), spares().stream().map(MachineRecord::name).toList());
        assertEquals(3, liveInstances());
        assertEquals(0, run("action=teardown"), err());

        tiny.failing.add(1);
        assertEquals(ExitCode.FAILURE, run("count=1"), out() + err());
        assertTrue(out().contains("not ready: seat(s) 01 not verified (failed provisioning with no spare"), out());
        assertEquals(List.of(), machines.violations());
    }

    @Test
    void healGivesUpOnASeatAfterTwoAttemptsAndUpSaysWhichSeatsFail() {
        broken = name -> !name.equals("ebpf-php-01"); // every machine but seat 1's fails, new ones too
        assertEquals(ExitCode.FAILURE, run("count=2"), out() + err());
        String text = out();
        assertTrue(text.contains("heal: seat 02, attempt 1 of 2"), text);
        assertTrue(text.contains("heal: seat 02, attempt 2 of 2 failed: no machine passed its checks"), text);
        assertTrue(text.contains("replace: new machine ebpf-php-03 fails php_usdt, grafana_dashboard"), text);
        assertTrue(text.contains("replace: new machine ebpf-php-04 fails php_usdt, grafana_dashboard"), text);
        assertTrue(text.contains("not ready: seat(s) 02 not verified"), text);
        assertFalse(text.contains("ready: all"), text);
        assertEquals(4, ec2.calls("RunInstances").size(), "two machines, then one per attempt");
        assertEquals("ebpf-php-02", seat(2).name(), "the seat keeps its machine when nothing better passed");
        assertEquals(2, liveInstances(), "the new machines that failed were destroyed");
        assertNull(ledger().machines().get(3));
        assertEquals(List.of(), machines.violations());
    }
    @Test
    void aReplaceStoppedByACloudFailureLeavesNothingUntrackedAndUpCleansUp() {
        assertEquals(0, run("count=1"), out() + err());
        // EC2 launches the new machine but answers every try with an error: replace stops there.
        ec2.faults().failAfterNext("RunInstances", "InternalError", 10);
        assertEquals(ExitCode.FAILURE, run("action=replace;seat=1"), out() + err());
        assertEquals("ebpf-php-01", seat(1).name(), "the seat keeps its machine");
        assertEquals(2, liveInstances(), "the new machine exists");
        MachineRecord made = ledger().machines().get(2);
        assertTrue(made != null && made.isSpare(), "the new machine was recorded, as a spare, before its launch: "
                + ledger().machines());
        ec2.faults().clear();

        // up without spares destroys it (found by its number's tag) and keeps seat 1 as it is.
        assertEquals(0, run("count=1"), out() + err());
        assertEquals(1, liveInstances(), out());
        assertEquals("ebpf-php-01", seat(1).name());
        assertEquals(List.of(), spares());
        assertEquals(0, run("action=teardown"), err());
        assertEquals(0, liveInstances());
        assertEquals(List.of(), machines.violations());
    }

    /** Step 01 becomes an image step of this text; the project gets the AMI pins the image recipe names. */
    void bakeable(String imageStep) throws IOException {
        tiny.imageStep = imageStep;
        Files.copy(Path.of("ami.properties"), project.resolve("ami.properties"));
    }

    /** The ImageId of the latest RunInstances call the stand-in answered. */
    String lastLaunchImage() {
        List<org.workshopfleet.cloud.ec2.fake.RecordedCall> launches = ec2.calls("RunInstances").stream()
                .filter(c -> !c.failed()).toList();
        return launches.get(launches.size() - 1).param("ImageId");
    }

    @Test
    void afterABakedUpReplaceAndALaterUpsHealLaunchFromTheBakedImageAndRunOnlyThePerMachineSteps() throws IOException {
        bakeable("recipe 1"); // step 01 is the image step; 02 and 03 run on every machine
        assertEquals(0, run("count=1;spares=1;image=bake"), out() + err());
        String stock = ec2.calls("RunInstances").get(0).param("ImageId"); // the builder's
        String ami = ec2.bakedImages().registered().get(0).id();
        assertNotEquals(stock, ami);
        assertEquals(ami, ledger().image().id(), "up records the image the fleet was launched from");
        assertEquals(List.of("02", "03"), machines.boxOf(seat(1).attendee()).runs(), "a baked machine skips the image step");

        assertEquals(0, run("action=replace;seat=1"), out() + err());
        assertEquals("ebpf-php-02", seat(1).name(), "the seat moved onto the spare");
        assertEquals(List.of("ebpf-php-03"), spares().stream().map(MachineRecord::name).toList());
        assertEquals(ami, lastLaunchImage(), "replace's new spare launched from the fleet's image");
        int newSpare = spares().get(0).attendee();
        assertEquals(ami, machines.imageOf(newSpare));
        assertEquals(List.of("02", "03"), machines.boxOf(newSpare).runs(), "only the per-machine steps ran on it");
        assertTrue(out().contains("image: new machines launch from the fleet's image " + ami + " (recipe "), out());

        // A later up, from the stock image as by default, heals a seat that fails its checks: its new spare comes
        // from the fleet's image too.
        brokenNames.add("ebpf-php-02");
        assertEquals(0, run("count=1;spares=1"), out() + err());
        assertTrue(out().contains("heal: seat 01 healed on ebpf-php-03"), out());
        assertEquals(List.of("ebpf-php-04"), spares().stream().map(MachineRecord::name).toList());
        assertEquals(ami, lastLaunchImage(), "heal's new spare launched from the fleet's image");
        assertEquals(List.of("02", "03"), machines.boxOf(spares().get(0).attendee()).runs());
        assertEquals(5, ec2.calls("RunInstances").size(),
                "the builder, the fleet's two, the new spares of replace and heal");

        assertEquals(0, run("action=teardown"), err());
        assertEquals(0, liveInstances());
        assertNull(ledger().image(), "a torn-down fleet launches from no image");
        assertEquals(List.of(), machines.violations());
    }

    @Test
    void aNewMachineComesFromTheStockImageWithOneLineWhyWhenTheRecipeChangedOrTheImageIsGone() throws IOException {
        bakeable("recipe 1");
        assertEquals(0, run("count=1;image=bake"), out() + err());
        String stock = ec2.calls("RunInstances").get(0).param("ImageId");
        String ami = ledger().image().id();
        String recipe = ledger().image().recipeHash();

        // The project's image step changed since the bake: the image's markers no longer fit its steps.
        tiny.imageStep = "recipe 2";
        assertEquals(0, run("action=replace;seat=1"), out() + err());
        assertEquals("ebpf-php-02", seat(1).name(), out());
        assertEquals(stock, lastLaunchImage(), "launched from the stock image");
        assertNull(machines.imageOf(seat(1).attendee()));
        assertEquals(List.of("01", "02", "03"), machines.boxOf(seat(1).attendee()).runs(), "every step ran");
        List<String> why = out().lines().filter(l -> l.startsWith("image: ")).toList();
        assertEquals(1, why.size(), out());
        assertTrue(why.get(0).startsWith("image: new machines launch from the stock image and run every step: the"
                + " fleet's image " + ami + " (recipe " + recipe.substring(0, 12) + ") no longer matches the project,"
                + " whose recipe is now "), why.get(0));

        // The image removed: gone.
        tiny.imageStep = "recipe 1";
        // Refused while a fleet of this state folder launches from it (see removeImageIsRefusedWhileTheFleetLaunchesFromIt);
        // images are the account's, so a remove-image from another computer (another state folder) removes it from
        // under this fleet.
        assertEquals(0, run("action=remove-image;name=other;stateDir=" + dir.resolve("elsewhere") + ";imageRecipe="
                + recipe), out() + err());
        assertEquals(0, run("action=replace;seat=1"), out() + err());
        assertEquals("ebpf-php-03", seat(1).name(), out());
        assertEquals(stock, lastLaunchImage());
        assertEquals(List.of("01", "02", "03"), machines.boxOf(seat(1).attendee()).runs());
        why = out().lines().filter(l -> l.startsWith("image: ")).toList();
        assertEquals(List.of("image: new machines launch from the stock image and run every step: the fleet's image "
                + ami + " (recipe " + recipe.substring(0, 12) + ") is gone (re-run up -Dimage=bake to bake it again)"),
                why, out());

        assertEquals(0, run("action=teardown"), err());
        assertEquals(0, liveInstances());
        assertEquals(List.of(), machines.violations());
    }

    @Test
    void aPlainUpThatAddsSeatsToABakedFleetLaunchesThemFromItsImageOrFromStockWithOneLineWhy() throws IOException {
        bakeable("recipe 1");
        assertEquals(0, run("count=1;image=bake"), out() + err());
        String stock = ec2.calls("RunInstances").get(0).param("ImageId"); // the builder's
        String ami = ledger().image().id();
        String recipe = ledger().image().recipeHash();

        // A plain re-run with one more seat: the new machine comes from the fleet's image and skips the image step.
        assertEquals(0, run("count=2"), out() + err());
        assertEquals(ami, lastLaunchImage(), "up's missing seat launched from the fleet's image");
        assertEquals(ami, machines.imageOf(seat(2).attendee()));
        assertEquals(List.of("02", "03"), machines.boxOf(seat(2).attendee()).runs(), "only the per-machine steps ran");
        assertEquals(List.of("image: new machines launch from the fleet's image " + ami + " (recipe "
                + recipe.substring(0, 12) + "), which holds the image steps: only the per-machine steps run"),
                out().lines().filter(l -> l.startsWith("image: ")).toList(), out());
        assertEquals(3, ec2.calls("RunInstances").size(), "the builder, seat 1, seat 2");

        // A re-run with nothing to launch says nothing about images.
        assertEquals(0, run("count=2"), out() + err());
        assertFalse(out().contains("image: "), out());
        assertEquals(3, ec2.calls("RunInstances").size());

        // The project's image step changed: the image no longer fits, the new seat runs every step from stock.
        tiny.imageStep = "recipe 2";
        assertEquals(0, run("count=3"), out() + err());
        assertEquals(stock, lastLaunchImage(), "launched from the stock image");
        assertNull(machines.imageOf(seat(3).attendee()));
        assertEquals(List.of("01", "02", "03"), machines.boxOf(seat(3).attendee()).runs(), "every step ran");
        List<String> why = out().lines().filter(l -> l.startsWith("image: ")).toList();
        assertEquals(1, why.size(), out());
        assertTrue(why.get(0).startsWith("image: new machines launch from the stock image and run every step: the"
                + " fleet's image " + ami + " (recipe " + recipe.substring(0, 12) + ") no longer matches the project,"
                + " whose recipe is now "), why.get(0));

        assertEquals(0, run("action=teardown"), err());
        assertEquals(0, liveInstances());
        assertEquals(List.of(), machines.violations());
    }

    @Test
    void removeImageIsRefusedWhileTheFleetLaunchesFromIt() throws IOException {
        bakeable("recipe 1");
        assertEquals(0, run("count=1;image=bake"), out() + err());
        String ami = ledger().image().id();
        String recipe = ledger().image().recipeHash();

        assertEquals(ExitCode.BAD_INPUT, run("action=remove-image;imageRecipe=" + recipe.substring(0, 12)));
        assertOneLineError("(" + ami + ") is the image fleet ebpf-php launches its new machines from");
        assertTrue(err().contains("-Daction=teardown -Dname=ebpf-php"), err());
        assertEquals(List.of(ami), ec2.bakedImages().registered().stream().map(i -> i.id()).toList(), "still there");
        assertEquals(ami, ledger().image().id());
        // Asked from another workshop of the same state folder, whose own ledger does not know the image.
        assertEquals(ExitCode.BAD_INPUT, run("action=remove-image;name=other;imageRecipe=" + recipe.substring(0, 12)));
        assertOneLineError("(" + ami + ") is the image fleet ebpf-php launches its new machines from");
        assertEquals(List.of(ami), ec2.bakedImages().registered().stream().map(i -> i.id()).toList(), "still there");

        // Torn down, the fleet launches from no image: the image may go.
        assertEquals(0, run("action=teardown"), err());
        assertEquals(0, run("action=remove-image;imageRecipe=" + recipe), out() + err());
        assertEquals(List.of(), ec2.bakedImages().registered());
        assertEquals(List.of(), machines.violations());
    }

    @Test
    void aSeatWhosePinnedHostKeyIsLostIsRefusedByUpAndReplaceGivesItANewMachine() throws IOException {
        assertEquals(0, run("count=1"), out() + err());
        Path key = dir.resolve("workshops/ebpf-php/secrets/host-01_ed25519");
        assertTrue(Files.exists(key));
        Files.delete(key);
        long launches = ec2.calls("RunInstances").size();

        assertEquals(ExitCode.BAD_INPUT, run("count=1"));
        assertOneLineError("the host key pinned on ebpf-php-01 (");
        assertTrue(err().contains("-Daction=replace -Dseat=1"), err());
        assertFalse(Files.exists(key), "no fresh key silently re-pins the machine");
        assertEquals(launches, ec2.calls("RunInstances").size());

        assertEquals(0, run("action=replace;seat=1"), out() + err());
        assertEquals("ebpf-php-02", seat(1).name());
        assertEquals(0, run("count=1"), out() + err());
        assertEquals(0, run("action=teardown"), err());
        assertEquals(0, liveInstances());
        assertEquals(List.of(), machines.violations());
    }

    @Test
    void aLedgerWithoutTheImageRecordLoadsAndReplaceLaunchesFromTheStockImageSilently() throws IOException {
        assertEquals(0, run("count=1"), out() + err());
        Path file = dir.resolve("workshops/ebpf-php/ledger.json");
        assertFalse(Files.readString(file).contains("\"image\""), "a stock fleet records no image");
        assertNull(ledger().image());
        assertEquals(0, run("action=replace;seat=1"), out() + err());
        assertEquals("ebpf-php-02", seat(1).name());
        assertFalse(out().contains("image: "), out());
        assertEquals(ec2.calls("RunInstances").get(0).param("ImageId"), lastLaunchImage());
        assertEquals(0, run("action=teardown"), err());
    }
}
