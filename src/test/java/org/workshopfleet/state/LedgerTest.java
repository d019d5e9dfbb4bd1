package org.workshopfleet.state;

import org.workshopfleet.error.FleetException;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.workshopfleet.cloud.CloudResource;
import org.workshopfleet.cloud.ResourceKind;

class LedgerTest {

    @Test
    void everyChangeIsOnDiskAndPrivateBeforeTheCallReturns(@TempDir Path dir) throws Exception {
        StateFolder folder = new StateFolder(dir.resolve("ws"));
        Ledger ledger = Ledger.open(folder, "ws", "ec2", "ap-northeast-1", Clock.systemUTC());
        ledger.created(new CloudResource(ResourceKind.SECURITY_GROUP, "sg-1", "ws", 0));
        ledger.created(new CloudResource(ResourceKind.INSTANCE, "i-1", "ws-01", 1));
        ledger.created(new CloudResource(ResourceKind.INSTANCE, "i-1", "ws-01", 1)); // recorded once

        Ledger reread = Ledger.open(folder, "ws", "ec2", "ap-northeast-1", Clock.systemUTC());
        assertEquals(List.of(new CloudResource(ResourceKind.INSTANCE, "i-1", "ws-01", 1),
                new CloudResource(ResourceKind.SECURITY_GROUP, "sg-1", "ws", 0)), reread.liveResources());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(folder.ledgerFile())));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(folder.root())));
        assertTrue(Files.readString(folder.root().resolve(".gitignore")).contains("*"));
    }

    @Test
    void writesAreCountedWithTheirFsyncsAndBytes(@TempDir Path dir) throws Exception {
        StateFolder folder = new StateFolder(dir.resolve("ws"));
        Ledger ledger = Ledger.open(folder, "ws", "ec2", "ap-northeast-1", Clock.systemUTC());
        Ledger.WriteCount before = Ledger.writesSoFar();
        ledger.created(new CloudResource(ResourceKind.SECURITY_GROUP, "sg-1", "ws", 0));
        ledger.created(new CloudResource(ResourceKind.INSTANCE, "i-1", "ws-01", 1));
        Ledger.WriteCount two = ledger.writeCount();
        // The process-wide count includes these (and whatever other ledgers of this JVM wrote meanwhile).
        assertTrue(Ledger.writesSoFar().since(before).writes() >= 2);
        // A new ledger has no earlier file to keep as the backup: one whole-file write per change, two fsyncs each.
        assertEquals(2, two.writes(), two.toString());
        assertEquals(4, two.fsyncs(), two.toString());
        long size = Files.size(folder.ledgerFile());
        assertTrue(size > 0 && two.bytes() > size, "both writes' bytes, the second being the file now: " + two);
    }

    @Test
    void concurrentChangesShareWritesYetEachIsOnDiskWhenItsCallReturns(@TempDir Path dir) throws Exception {
        StateFolder folder = new StateFolder(dir.resolve("ws"));
        Ledger ledger = Ledger.open(folder, "ws", "ec2", "ap-northeast-1", Clock.systemUTC());
        int machines = 30;
        int steps = 20;
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(machines);
        java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
        List<java.util.concurrent.Future<String>> results = new java.util.ArrayList<>();
        for (int n = 1; n <= machines; n++) {
            int attendee = n;
            results.add(pool.submit(() -> {
                go.await();
                for (int i = 1; i <= steps; i++) {
                    String step = "step-" + i;
                    ledger.updateMachine(attendee, "ws-" + attendee, m -> m.stepDone(step));
                    // Read back from disk by a fresh ledger: the change must already be there.
                    List<String> onDisk = Ledger.open(folder, "ws", "ec2", "ap-northeast-1", Clock.systemUTC())
                            .snapshot().machines().get(attendee).stepsDone();
                    if (!onDisk.contains(step)) {
                        return "attendee " + attendee + ": " + step + " not on disk when updateMachine returned";
                    }
                }
                return null;
            }));
        }
        go.countDown();
        for (java.util.concurrent.Future<String> r : results) {
            assertNull(r.get(60, java.util.concurrent.TimeUnit.SECONDS));
        }
        pool.shutdown();
        Ledger reread = Ledger.open(folder, "ws", "ec2", "ap-northeast-1", Clock.systemUTC());
        assertEquals(machines, reread.snapshot().machines().size());
        reread.snapshot().machines().values().forEach(m -> assertEquals(steps, m.stepsDone().size(), m.toString()));
    }

    @Test
    void progressWrittenSoonReachesTheDiskWithoutAnotherChange(@TempDir Path dir) throws Exception {
        StateFolder folder = new StateFolder(dir.resolve("ws"));
        Ledger ledger = Ledger.open(folder, "ws", "ec2", "ap-northeast-1", Clock.systemUTC());
        ledger.updateMachine(1, "ws-01", m -> m.launched("i-1", "t3.medium", null));
        for (int i = 1; i <= 50; i++) {
            String step = "step-" + i;
            ledger.updateMachineSoon(1, "ws-01", m -> m.stepDone(step));
        }
        assertEquals(50, ledger.snapshot().machines().get(1).stepsDone().size(), "applied in memory at once");
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
        List<String> onDisk = List.of();
        while (System.nanoTime() < deadline) {
            onDisk = Ledger.open(folder, "ws", "ec2", "ap-northeast-1", Clock.systemUTC()).snapshot().machines().get(1)
                    .stepsDone();
            if (onDisk.size() == 50) {
                break;
            }
            Thread.sleep(20);
        }
        assertEquals(50, onDisk.size(), "the background write put the last change on disk");
        assertEquals("i-1", Ledger.open(folder, "ws", "ec2", "ap-northeast-1", Clock.systemUTC()).snapshot().machines()
                .get(1).cloudId());
    }

    @Test
    void deletedResourcesLeaveTheLiveSetAndCloseEndsTheFleet(@TempDir Path dir) {
        StateFolder folder = new StateFolder(dir.resolve("ws"));
        Ledger ledger = Ledger.open(folder, "ws", "ec2", "ap-northeast-1", Clock.systemUTC());
        ledger.created(new CloudResource(ResourceKind.KEY_PAIR, "ws-key", "ws-key", 0));
        ledger.updateMachine(1, "ws-01", m -> m.launched("i-1", "t3.medium", null).inPhase(MachinePhase.READY, null));
        ledger.deleted(ResourceKind.KEY_PAIR, "ws-key");
        ledger.close();

        Ledger reread = Ledger.open(folder, "ws", "ec2", "ap-northeast-1", Clock.systemUTC());
        assertTrue(reread.liveResources().isEmpty());
        assertTrue(reread.snapshot().isClosed());
        assertTrue(reread.snapshot().machines().isEmpty());
        assertEquals(1, reread.snapshot().resources().size());
    }

    @Test
    void aFailureKeepsItsReasonUntilTheNextPhase(@TempDir Path dir) {
        Ledger ledger = Ledger.open(new StateFolder(dir), "ws", "lab", "local", Clock.systemUTC());
        MachineRecord failed = ledger.updateMachine(2, "ws-02", m -> m.failed("04-prometheus", "exit 1", List.of("boom")));
        assertEquals("exit 1", failed.error());
        MachineRecord retried = ledger.updateMachine(2, "ws-02", m -> m.inPhase(MachinePhase.PROVISIONING, "04-prometheus"));
        assertNull(retried.error());
    }

    @Test
    void aLedgerWrittenBeforeInstanceTypesWereRecordedStillLoadsAndKeepsEverythingElse(@TempDir Path dir)
            throws Exception {
        StateFolder folder = new StateFolder(dir.resolve("ebpf-php"));
        folder.ensure();
        try (var in = LedgerTest.class.getResourceAsStream("/ledgers/before-instance-types.json")) {
            Files.write(folder.ledgerFile(), in.readAllBytes());
        }
        Instant later = Instant.parse("2026-11-24T10:00:00Z");

        Ledger ledger = Ledger.open(folder, "ebpf-php", "ec2", "ap-northeast-1", Clock.fixed(later, ZoneOffset.UTC));

        LedgerData data = ledger.snapshot();
        assertEquals(1, data.formatVersion());
        assertEquals(2, data.machines().size());
        MachineRecord one = data.machines().get(1);
        assertEquals("i-0a1b2c3d4e5f60001", one.cloudId());
        assertNull(one.instanceType(), "not recorded by the older version: unknown, never invented");
        assertNull(one.tlsSha256(), "no certificate recorded by the older version");
        assertEquals(MachinePhase.READY, one.phase());
        assertEquals(List.of("01-base"), one.stepsDone());
        assertEquals(Instant.parse("2026-11-24T09:00:00Z"), one.launchedAt());
        assertEquals("exit 1", data.machines().get(2).error());
        assertEquals(3, ledger.liveResources().size());
        assertEquals("2026-11-24T21:00:00Z", ledger.setting("expiresAt"));

        // The next up fills the type in from the cloud's description; a type recorded at launch is never replaced.
        ledger.updateMachine(1, "ebpf-php-01", r -> r.withTypeIfUnknown("t3a.medium"));
        ledger.updateMachine(1, "ebpf-php-01", r -> r.withTypeIfUnknown("t3.medium"));
        Ledger reread = Ledger.open(folder, "ebpf-php", "ec2", "ap-northeast-1", Clock.systemUTC());
        assertEquals("t3a.medium", reread.snapshot().machines().get(1).instanceType());
        assertNull(reread.snapshot().machines().get(2).instanceType());
        assertTrue(Files.readString(folder.ledgerFile()).contains("\"instanceType\" : \"t3a.medium\""));
    }

    @Test
    void theFleetsImageIsRecordedSurvivesLaterChangesAndAnOlderLedgerHasNone(@TempDir Path dir) throws Exception {
        StateFolder folder = new StateFolder(dir.resolve("ebpf-php"));
        folder.ensure();
        try (var in = LedgerTest.class.getResourceAsStream("/ledgers/before-instance-types.json")) {
            Files.write(folder.ledgerFile(), in.readAllBytes());
        }
        Ledger older = Ledger.open(folder, "ebpf-php", "ec2", "ap-northeast-1", Clock.systemUTC());
        assertNull(older.image(), "an older ledger records no image: its fleet came from the stock image");

        BakedImage image = new BakedImage("ami-0123456789abcdef0", "ab".repeat(32));
        older.putImage(image);
        older.updateMachine(1, "ebpf-php-01", r -> r.withAddress("203.0.113.9"));
        older.putSetting("spares", "1");
        Ledger reread = Ledger.open(folder, "ebpf-php", "ec2", "ap-northeast-1", Clock.systemUTC());
        assertEquals(image, reread.image());
        assertEquals(2, reread.snapshot().machines().size(), "everything else kept");

        reread.close();
        assertNull(Ledger.open(folder, "ebpf-php", "ec2", "ap-northeast-1", Clock.systemUTC()).image(),
                "teardown ends the fleet, and with it the record of its image");
    }

    @Test
    void theCertificateFingerprintIsRecordedAndSurvivesLaterChanges(@TempDir Path dir) {
        StateFolder folder = new StateFolder(dir.resolve("ws"));
        Ledger ledger = Ledger.open(folder, "ws", "lab", "local", Clock.systemUTC());
        String fp = "AB:" + "CD:".repeat(30) + "EF";
        ledger.updateMachine(1, "ws-01", r -> r.launched("m-1", "t", Instant.now()).withAddress("10.231.1.1")
                .withTlsSha256(fp));
        ledger.updateMachine(1, "ws-01", r -> r.inPhase(MachinePhase.PROVISIONING, "09-https").stepDone("09-https")
                .forSeat(1));
        MachineRecord reread = Ledger.open(folder, "ws", "lab", "local", Clock.systemUTC()).snapshot().machines().get(1);
        assertEquals(fp, reread.tlsSha256());
        assertEquals("10.231.1.1", reread.publicIp());
    }

    @Test
    void theLaunchTypeIsRecordedAndSurvivesEveryLaterChange(@TempDir Path dir) {
        StateFolder folder = new StateFolder(dir.resolve("ws"));
        Ledger ledger = Ledger.open(folder, "ws", "ec2", "ap-northeast-1", Clock.systemUTC());
        ledger.updateMachine(1, "ws-01", r -> r.launched("i-1", "t2.medium", Instant.EPOCH));
        ledger.updateMachine(1, "ws-01", r -> r.withAddress("203.0.113.1").inPhase(MachinePhase.PROVISIONING, "01")
                .stepDone("01").failed("02", "exit 1", List.of()));

        assertEquals("t2.medium", Ledger.open(folder, "ws", "ec2", "ap-northeast-1", Clock.systemUTC()).snapshot()
                .machines().get(1).instanceType());
    }

    @Test
    void theBackupIsTheLedgerAsThisProcessFoundItWrittenOnceNotOnEveryChange(@TempDir Path dir) throws Exception {
        StateFolder folder = new StateFolder(dir.resolve("ws"));
        Ledger first = Ledger.open(folder, "ws", "ec2", "ap-northeast-1", Clock.systemUTC());
        first.created(new CloudResource(ResourceKind.SECURITY_GROUP, "sg-1", "ws", 0));
        first.putSetting("cidr", "203.0.113.7/32");
        assertTrue(!Files.exists(folder.ledgerBackup()), "nothing good to keep before the first ledger");
        first.compact(); // as the end of its command does: ledger.json alone is the ledger

        byte[] good = Files.readAllBytes(folder.ledgerFile());
        Ledger second = Ledger.open(folder, "ws", "ec2", "ap-northeast-1", Clock.systemUTC());
        second.created(new CloudResource(ResourceKind.INSTANCE, "i-1", "ws-01", 1));
        assertEquals(new String(good, java.nio.charset.StandardCharsets.UTF_8), Files.readString(folder.ledgerBackup()),
                "the ledger as this process found it");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(folder.ledgerBackup())));
        Files.writeString(folder.ledgerBackup(), "marker"); // a second write of the backup would replace this
        second.created(new CloudResource(ResourceKind.INSTANCE, "i-2", "ws-02", 2));
        second.putSetting("cidr", "198.51.100.0/24");
        assertEquals("marker", Files.readString(folder.ledgerBackup()), "kept once per process, not per write");

        Files.write(folder.ledgerBackup(), good);
        Files.writeString(folder.ledgerFile(), "{ not json");
        Ledger.Unreadable e = org.junit.jupiter.api.Assertions.assertThrows(Ledger.Unreadable.class,
                () -> Ledger.open(folder, "ws", "ec2", "ap-northeast-1", Clock.systemUTC()));
        assertTrue(e.getMessage().contains("restore it from ledger.json.bak (there is one beside it)"), e.getMessage());
        Files.copy(folder.ledgerBackup(), folder.ledgerFile(), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertEquals(List.of(new CloudResource(ResourceKind.SECURITY_GROUP, "sg-1", "ws", 0)),
                Ledger.open(folder, "ws", "ec2", "ap-northeast-1", Clock.systemUTC()).liveResources());
    }

    @Test
    void aLedgerWithoutItsWorkshopOrOfANewerFormatIsRefused(@TempDir Path dir) throws Exception {
        StateFolder folder = new StateFolder(dir.resolve("ws"));
        Files.createDirectories(folder.root());
        Files.writeString(folder.ledgerFile(), "{\"formatVersion\":1,\"provider\":\"ec2\",\"region\":\"ap-northeast-1\"}");
        Ledger.Unreadable missing = org.junit.jupiter.api.Assertions.assertThrows(Ledger.Unreadable.class,
                () -> Ledger.open(folder, "ws", "ec2", "ap-northeast-1", Clock.systemUTC()));
        assertTrue(missing.getMessage().contains("is unreadable (no \"workshop\")"), missing.getMessage());

        Files.writeString(folder.ledgerFile(), "{\"formatVersion\":2,\"workshop\":\"ws\",\"layout\":\"new\"}");
        org.workshopfleet.error.BadInput newer = org.junit.jupiter.api.Assertions.assertThrows(
                org.workshopfleet.error.BadInput.class,
                () -> Ledger.open(folder, "ws", "ec2", "ap-northeast-1", Clock.systemUTC()));
        assertTrue(!(newer instanceof Ledger.Unreadable), "not moved aside by teardown");
        assertTrue(newer.getMessage().contains("was written by a newer workshop-fleet (format 2, this one reads 1): upgrade"),
                newer.getMessage());
    }
}
