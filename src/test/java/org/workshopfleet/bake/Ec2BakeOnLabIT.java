package org.workshopfleet.bake;

import org.workshopfleet.spec.Cidr;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.workshopfleet.command.CloudFactory;
import org.workshopfleet.Fleet;
import org.workshopfleet.command.Wiring;
import org.workshopfleet.cloud.RecipeHash;
import org.workshopfleet.cloud.ec2.AmiCatalog;
import org.workshopfleet.cloud.ec2.Ec2Cloud;
import org.workshopfleet.concurrent.Waiter;
import org.workshopfleet.cloud.ec2.fake.BakedImages;
import org.workshopfleet.cloud.ec2.fake.Ec2Fake;
import org.workshopfleet.cloud.ec2.fake.RecordedCall;
import org.workshopfleet.cloud.lab.HostState;
import org.workshopfleet.cloud.lab.LabInstanceBackend;
import org.workshopfleet.cloud.lab.LabMachines;
import org.workshopfleet.cloud.lab.LabNetwork;
import org.workshopfleet.cloud.lab.LabPaths;
import org.workshopfleet.cloud.lab.LabPrerequisites;
import org.workshopfleet.e2e.DebianRendering;
import org.workshopfleet.lab.standins.StandIns;
import org.workshopfleet.provision.MachineLayout;
import org.workshopfleet.provision.ProvisionListener;
import org.workshopfleet.spec.Provider;
import org.workshopfleet.spec.Tags;
import org.workshopfleet.spec.WorkshopSpec;
import org.workshopfleet.ssh.SshLogin;

/**
 * Bake mode end to end on EC2's protocol: {@code Fleet.up} with {@link ImageMode#BAKE} through the real {@code Ec2Cloud}
 * and SDK client against the EC2 STAND-IN ({@link Ec2Fake}), whose instances are real Debian 12 lab machines and whose
 * AMIs are real lab layers ({@link LabInstanceBackend}); the real setup scripts run, with the usual stand-ins for the
 * downloads, Grafana's apt repository and the git remote.
 *
 * <p>It shows, in EC2's calls: the builder is launched from the stock AMI and provisioned with the image steps only;
 * CreateImage images that instance with the recipe's tags on the image and its snapshot (never the workshop's); the
 * image is awaited until available before any attendee launches; the attendees launch with the baked ImageId and run
 * only the {@code # phase: machine} steps (the image steps are skipped by the markers baked into the image); each has
 * its own host key, machine-id and Grafana password; verify passes; teardown removes the instances, the security group
 * and the key pair but not the AMI or its snapshot; a later workshop's {@code up} launches from the same AMI without a
 * builder or a second CreateImage; remove-image deregisters it and deletes its snapshot (and with it the lab layer).
 */
class Ec2BakeOnLabIT {

    private static final Path PROJECT = Path.of("").toAbsolutePath();
    private static final Pattern RAN = Pattern.compile("(?m)^.*step \\d+/\\d+ (\\S+)\\s*$");

    @TempDir
    Path tmp;

    @Test
    void bakeOnEc2LaunchFromTheAmiVerifyTeardownReuse() throws Exception {
        LabPrerequisites.require("ssh-keyscan");
        String name = "bake-ec2";
        HostState before = HostState.capture(LabPaths.standard());
        LabMachines network = new LabMachines(name);
        network.ensureNetwork();
        LabInstanceBackend backend = new LabInstanceBackend(name);
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(buffer, true, StandardCharsets.UTF_8);
        List<String> labNames = new ArrayList<>();
        List<String> amis = new ArrayList<>();
        try (Ec2Fake fake = Ec2Fake.start();
             StandIns standIns = StandIns.start(InetAddress.getByName(LabNetwork.HOST_ADDRESS), tmp.resolve("standins"))) {
            fake.backend(backend);
            CloudFactory clouds = (spec, recorder) -> new Ec2Cloud(fake.client(), Ec2Cloud.config(spec), recorder,
                    AmiCatalog.load(PROJECT.resolve("ami.properties")),
                    new Waiter(Duration.ofMillis(500), Duration.ofSeconds(2), 1.5, 0.0, Duration.ofMinutes(2)));
            // The machines reach this host (the stand-ins) from the lab bridge: the fleet's ingress names it.
            WorkshopSpec spec = new WorkshopSpec(name, 2, Provider.EC2, Ec2Fake.REGION, null, null, Cidr.parse(LabNetwork.SUBNET), false,
                    null, 8, tmp.resolve("workshops"), standIns.sources());
            Wiring wiring = new Wiring(clouds, s -> { }, () -> LabNetwork.SUBNET, null, ProvisionListener.NONE,
                    Clock.systemUTC(), SshLogin.MACHINE_USER, 22, MachineLayout.STANDARD, Duration.ofMinutes(5),
                    Duration.ofMinutes(10)).withRendering(DebianRendering.FOR_LAB_MACHINES);
            Fleet fleet = new Fleet(spec, PROJECT, wiring, out);
            String recipe = fleet.currentRecipe().hash();
            String stockAmi = AmiCatalog.load(PROJECT.resolve("ami.properties")).pinned(Ec2Fake.REGION).orElseThrow();

            // ---- the first up bakes
            assertEquals(0, fleet.up(true, ImageMode.BAKE), () -> "bake up failed:\n" + buffer);
            String first = buffer.toString(StandardCharsets.UTF_8);
            assertTrue(first.contains("baking it on one builder machine, " + name + "-bake"), first);
            fake.instances().forEach(i -> labNames.add(LabMachines.PREFIX + i.id()));

            List<RecordedCall> launches = succeeded(fake.calls("RunInstances"));
            assertEquals(3, launches.size(), "one builder, then two attendees: " + launches);
            RecordedCall builderLaunch = launches.get(0);
            assertEquals(name + "-bake", instanceTag(builderLaunch, Tags.NAME), "the builder launches first");
            assertEquals(stockAmi, builderLaunch.param("ImageId"), "the builder starts from the stock AMI");
            String builderId = fake.instances().stream().filter(i -> (name + "-bake").equals(i.tags().get(Tags.NAME)))
                    .findFirst().orElseThrow().id();

            // The builder ran the image steps, and only those, before it was imaged.
            Path logs = tmp.resolve("workshops").resolve(name).resolve("logs");
            assertEquals(List.of("01-packages", "02-apache-php", "03-ebpf-exporter", "04-prometheus", "05-grafana",
                    "06-attendee"), ran(Files.readString(logs.resolve(name + "-bake.log"))), "builder steps");

            List<RecordedCall> creates = succeeded(fake.calls("CreateImage"));
            assertEquals(1, creates.size(), creates.toString());
            RecordedCall create = creates.get(0);
            assertEquals(builderId, create.param("InstanceId"), "CreateImage images the builder");
            Map<String, String> recipeTags = Map.of(Tags.MANAGED_BY, Tags.MANAGED_BY_VALUE, RecipeHash.TAG, recipe,
                    Tags.NAME, "workshop-fleet-" + recipe.substring(0, 12));
            assertEquals(Map.of("image", recipeTags, "snapshot", recipeTags), create.tagSpecifications(),
                    "the image and its snapshot carry the recipe's tags and no workshop tag");
            BakedImages.ImageView ami = single(fake.bakedImages().registered());
            amis.add(ami.id());
            assertEquals("available", ami.state());
            assertEquals(recipeTags, ami.tags());
            BakedImages.SnapshotView snapshot = single(fake.bakedImages().snapshots());
            assertEquals(List.of(snapshot.id()), ami.snapshotIds());
            assertEquals(recipeTags, snapshot.tags());
            assertTrue(first.contains("image: baked workshop-fleet-" + recipe.substring(0, 12) + " (" + ami.id() + ")"), first);
            assertTrue(backend.layerOf(ami.id()).isPresent(), "a real lab layer backs the AMI");

            // Awaited: DescribeImages polled the new image, and no attendee launched before it was available.
            List<RecordedCall> all = fake.calls();
            int created = all.indexOf(create);
            int firstAttendee = all.indexOf(launches.get(1));
            assertTrue(all.subList(created, firstAttendee).stream().anyMatch(c -> c.operation().equals("DescribeImages")
                    && c.list("ImageId").equals(List.of(ami.id()))), "the image was polled before the attendees launched");
            int builderTerminated = indexOf(all, "TerminateInstances", builderId);
            assertTrue(created < builderTerminated && builderTerminated < firstAttendee,
                    "the builder is terminated after imaging, before the attendees launch");

            for (RecordedCall attendee : launches.subList(1, 3)) {
                assertEquals(ami.id(), attendee.param("ImageId"), "attendees launch from the baked AMI");
            }
            assertTrue(fake.instances().stream().filter(i -> i.id().equals(builderId))
                    .allMatch(i -> i.state().equals("terminated") || i.state().equals("shutting-down")), "builder terminated");
            assertAttendeesRanOnlyMachineSteps(logs, name);

            buffer.reset();
            assertEquals(0, fleet.verify(), () -> "verify failed:\n" + buffer);
            assertTrue(buffer.toString(StandardCharsets.UTF_8).contains("verify: all 2 machine(s) pass every check"), buffer::toString);
            OwnIdentities.assertEachMachineHasItsOwn(spec, "ec2");

            // ---- teardown keeps the image
            assertEquals(0, fleet.teardown(true), () -> "teardown failed:\n" + buffer);
            assertEquals(0, fake.liveInstanceCount(), "no live instance after teardown");
            assertTrue(fake.securityGroupNames().stream().noneMatch(n -> n.contains(name)), "security group deleted");
            assertTrue(fake.keyPairNames().stream().noneMatch(n -> n.contains(name)), "key pair deleted");
            assertEquals(List.of(ami.id()), fake.bakedImages().registered().stream().map(BakedImages.ImageView::id).toList(),
                    "teardown never deregisters the image");
            assertEquals(List.of(snapshot.id()), fake.bakedImages().snapshots().stream().map(BakedImages.SnapshotView::id)
                    .toList(), "nor deletes its snapshot");

            // ---- a later workshop with the same recipe: the AMI is reused, no builder, no second CreateImage
            String later = name + "b";
            WorkshopSpec laterSpec = new WorkshopSpec(later, 2, Provider.EC2, Ec2Fake.REGION, null, null, Cidr.parse(LabNetwork.SUBNET),
                    false, null, 8, tmp.resolve("workshops"), standIns.sources());
            Fleet laterFleet = new Fleet(laterSpec, PROJECT, wiring, out);
            assertEquals(recipe, laterFleet.currentRecipe().hash(), "the recipe holds nothing of the workshop");
            fake.clearCalls();
            buffer.reset();
            assertEquals(0, laterFleet.up(true, ImageMode.BAKE), () -> "second bake up failed:\n" + buffer);
            String second = buffer.toString(StandardCharsets.UTF_8);
            fake.instances().forEach(i -> labNames.add(LabMachines.PREFIX + i.id()));
            assertTrue(second.contains("matches recipe " + recipe.substring(0, 12)) && second.contains("reused"), second);
            assertFalse(second.contains("baking it"), second);
            assertTrue(fake.calls("CreateImage").isEmpty(), "no second CreateImage");
            List<RecordedCall> relaunches = succeeded(fake.calls("RunInstances"));
            assertEquals(2, relaunches.size(), "two attendees, no builder: " + relaunches);
            relaunches.forEach(c -> assertEquals(ami.id(), c.param("ImageId"), "launched from the same AMI"));
            assertAttendeesRanOnlyMachineSteps(tmp.resolve("workshops").resolve(later).resolve("logs"), later);
            assertEquals(0, laterFleet.verify(), () -> "verify after reuse failed:\n" + buffer);
            assertEquals(0, laterFleet.teardown(true), () -> "second teardown failed:\n" + buffer);
            assertEquals(0, fake.liveInstanceCount());
            assertTrue(fake.securityGroupNames().stream().noneMatch(n -> n.contains(name)), "security groups deleted");
            assertEquals(1, fake.bakedImages().registered().size(), "the image outlives the second teardown too");

            // ---- only remove-image removes it: AMI deregistered, snapshot deleted, the layer behind it released
            assertEquals(0, laterFleet.removeImage(true, recipe.substring(0, 16)), buffer::toString);
            assertTrue(fake.bakedImages().registered().isEmpty(), "AMI deregistered");
            assertTrue(fake.bakedImages().snapshots().isEmpty(), "snapshot deleted");
            // The stand-in's machines are destroyed in the background after TerminateInstances; the layer goes with the last.
            for (int i = 0; i < 120 && backend.layerOf(ami.id()).isPresent(); i++) {
                Thread.sleep(500);
            }
            assertTrue(backend.layerOf(ami.id()).isEmpty(), "the lab layer behind the snapshot is gone");
        } finally {
            System.out.println(buffer.toString(StandardCharsets.UTF_8));
            backend.destroyAll();
            backend.releaseAll(amis);
            network.destroyAll();
        }
        HostState.assertRestored(before, HostState.capture(LabPaths.standard()), labNames.toArray(String[]::new));
    }

    /** The attendees skipped every image step by its baked marker and ran the per-machine steps. */
    private static void assertAttendeesRanOnlyMachineSteps(Path logs, String name) throws java.io.IOException {
        for (String machine : List.of(name + "-01", name + "-02")) {
            String log = Files.readString(logs.resolve(machine + ".log"));
            for (String step : List.of("01-packages", "02-apache-php", "03-ebpf-exporter", "04-prometheus", "05-grafana",
                    "06-attendee")) {
                assertTrue(log.contains("step " + step + ": unchanged since its last successful run, skipped"),
                        machine + " ran image step " + step + " again:\n" + log);
            }
            assertEquals(List.of("07-login", "08-grafana-admin"), ran(log), machine + " ran these steps:\n" + log);
        }
    }

    /** The steps a machine's log shows as run (not skipped), in order. */
    private static List<String> ran(String log) {
        List<String> out = new ArrayList<>();
        RAN.matcher(log).results().forEach(m -> out.add(m.group(1)));
        return out;
    }

    private static List<RecordedCall> succeeded(List<RecordedCall> calls) {
        return calls.stream().filter(c -> !c.failed()).toList();
    }

    private static String instanceTag(RecordedCall runInstances, String key) {
        return runInstances.tagSpecifications().getOrDefault("instance", Map.of()).get(key);
    }

    private static int indexOf(List<RecordedCall> calls, String operation, String instanceId) {
        for (int i = 0; i < calls.size(); i++) {
            if (calls.get(i).operation().equals(operation) && !calls.get(i).failed()
                    && calls.get(i).list("InstanceId").contains(instanceId)) {
                return i;
            }
        }
        throw new AssertionError("no " + operation + " of " + instanceId + " in " + calls);
    }

    private static <T> T single(List<T> list) {
        assertEquals(1, list.size(), list.toString());
        return list.get(0);
    }
}
