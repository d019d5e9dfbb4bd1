package org.workshopfleet.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.workshopfleet.cloud.CloudResource;
import org.workshopfleet.cloud.ResourceKind;

/** The ledger's journal: cost per change, replay after a crash, torn lines, crashes around a compaction. */
class LedgerJournalTest {

    private static final CloudResource SG = new CloudResource(ResourceKind.SECURITY_GROUP, "sg-1", "ws", 0);

    private static Ledger open(StateFolder folder) {
        return Ledger.open(folder, "ws", "ec2", "ap-northeast-1", Clock.systemUTC());
    }

    private static CloudResource instance(int n) {
        return new CloudResource(ResourceKind.INSTANCE, "i-" + n, "ws-" + n, n);
    }

    /**
     * What one {@code up} and {@code teardown} of {@code machines} write: each machine gets the same resource records
     * and progress events, phase by phase across the fleet as the runner does, each waiting for the disk (the worst
     * case: no two share a write).
     */
    private static Ledger.WriteCount upAndTeardown(StateFolder folder, int machines) {
        Ledger ledger = open(folder);
        ledger.created(SG);
        for (int n = 1; n <= machines; n++) {
            ledger.created(instance(n));
            int attendee = n;
            ledger.updateMachine(n, "ws-" + n, r -> r.launched("i-" + attendee, "t3.medium", java.time.Instant.now()));
        }
        for (int n = 1; n <= machines; n++) {
            int last = n % 250 + 1;
            ledger.updateMachine(n, "ws-" + n, r -> r.withAddress("203.0.113." + last).inPhase(MachinePhase.BOOTING, null));
        }
        for (String step : List.of("01-base", "02-php", "03-ebpf", "04-prometheus", "05-grafana")) {
            for (int n = 1; n <= machines; n++) {
                ledger.updateMachine(n, "ws-" + n, r -> r.inPhase(MachinePhase.PROVISIONING, step));
                ledger.updateMachine(n, "ws-" + n, r -> r.stepDone(step));
            }
        }
        for (int n = 1; n <= machines; n++) {
            ledger.updateMachine(n, "ws-" + n, r -> r.inPhase(MachinePhase.READY, null));
        }
        ledger.compact();
        for (int n = 1; n <= machines; n++) {
            ledger.deleted(ResourceKind.INSTANCE, "i-" + n);
        }
        ledger.deleted(ResourceKind.SECURITY_GROUP, "sg-1");
        ledger.close();
        return ledger.writeCount();
    }

    @Test
    void bytesFsyncsAndWritesPerMachineStayFlatFromTwentyToTwoHundredMachines(@TempDir Path dir) {
        Ledger.WriteCount small = upAndTeardown(new StateFolder(dir.resolve("small")), 20);
        Ledger.WriteCount large = upAndTeardown(new StateFolder(dir.resolve("large")), 200);
        double bytes = (large.bytes() / 200.0) / (small.bytes() / 20.0);
        double fsyncs = (large.fsyncs() / 200.0) / (small.fsyncs() / 20.0);
        double writes = (large.writes() / 200.0) / (small.writes() / 20.0);
        String figures = "20: " + small + ", 200: " + large;
        // Rewriting the whole file per change made the bytes per machine grow with the fleet: about 10x here.
        assertTrue(bytes < 1.6, "bytes per machine grew " + bytes + "x: " + figures);
        assertTrue(fsyncs < 1.2, "fsyncs per machine grew " + fsyncs + "x: " + figures);
        assertTrue(writes < 1.2, "writes per machine grew " + writes + "x: " + figures);
        assertTrue(large.bytes() / 200 < 16 * 1024, "a few KiB per machine: " + figures);
    }

    @Test
    void aCrashedCommandsChangesAreInTheJournalAndReplayedByEveryReader(@TempDir Path dir) throws Exception {
        StateFolder folder = new StateFolder(dir.resolve("ws"));
        Ledger ledger = open(folder);
        ledger.created(SG);
        ledger.created(instance(1));
        ledger.updateMachine(1, "ws-1", r -> r.launched("i-1", "t3.medium", null).inPhase(MachinePhase.BOOTING, null));
        ledger.putSetting("cidr", "203.0.113.7/32");
        ledger.removeMachine(1);
        ledger.updateMachine(2, "ws-2", r -> r.stepDone("01-base"));
        ledger.deleted(ResourceKind.SECURITY_GROUP, "sg-1");
        ledger.putImage(new BakedImage("ami-1", "ab".repeat(32)));
        // No compact(): the process is gone. ledger.json holds the first change only, the journal the rest.
        String file = Files.readString(folder.ledgerFile());
        assertFalse(file.contains("cidr"), file);
        List<String> lines = Files.readAllLines(folder.ledgerJournal());
        assertEquals(8, lines.size(), "its header and one line per later change: " + lines);
        assertTrue(lines.get(0).contains("\"extends\""), lines.get(0));

        LedgerData read = open(folder).snapshot();
        assertEquals(ledger.snapshot(), read);
        assertEquals(List.of(instance(1)), open(folder).liveResources());
        assertEquals("203.0.113.7/32", read.settings().get("cidr"));
        assertEquals(List.of(2), List.copyOf(read.machines().keySet()));
        assertEquals("ami-1", read.image().id());

        // The next command's first write takes it all into ledger.json; its end leaves the file alone.
        Ledger next = open(folder);
        next.putSetting("spares", "1");
        assertFalse(Files.exists(folder.ledgerJournal()), "compacted by the first write of a process");
        next.putSetting("spares", "2");
        assertTrue(Files.exists(folder.ledgerJournal()));
        next.compact();
        assertFalse(Files.exists(folder.ledgerJournal()));
        assertTrue(Files.readString(folder.ledgerFile()).contains("\"spares\" : \"2\""));
        assertEquals(next.snapshot(), open(folder).snapshot());
        Ledger.WriteCount before = next.writeCount();
        next.compact();
        assertEquals(before, next.writeCount(), "nothing more to compact: no write");
    }

    @Test
    void aTornLastLineIsIgnoredAndNeverFollowedByAnother(@TempDir Path dir) throws Exception {
        StateFolder folder = new StateFolder(dir.resolve("ws"));
        Ledger ledger = open(folder);
        ledger.created(SG);
        ledger.created(instance(1));
        ledger.created(instance(2));
        LedgerData whole = ledger.snapshot();
        byte[] journal = Files.readAllBytes(folder.ledgerJournal());
        for (String torn : List.of("{\"op\":\"created\",\"resource\":{\"kind\":\"INSTANCE\",\"id\":\"i-3\"",
                "{\"op\":\"created\",\"resource\":{\"kind\":\"INSTANCE\",\"id\":\"i-3\",\"name\":\"ws-3\"}}",
                "\0\0\0\0\0\0\0\0\n", "{\"op\":\"created\",\"res\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0}}\n")) {
            // A crash in the middle of an append: a line without its end, or blocks the disk never got.
            Files.write(folder.ledgerJournal(), journal);
            Files.write(folder.ledgerJournal(), torn.getBytes(StandardCharsets.UTF_8), StandardOpenOption.APPEND);
            assertEquals(whole, open(folder).snapshot(), "torn: " + torn);
        }
        Ledger next = open(folder);
        next.created(instance(4));
        next.created(instance(5));
        assertFalse(Files.readString(folder.ledgerJournal()).contains("\0"), "a new journal, not the torn one");
        assertEquals(List.of(instance(1), instance(2), instance(4), instance(5), SG), open(folder).liveResources());
    }

    @Test
    void aJournalLineOfAChangeThisVersionDoesNotKnowMakesTheLedgerUnreadable(@TempDir Path dir) throws Exception {
        StateFolder folder = new StateFolder(dir.resolve("ws"));
        Ledger ledger = open(folder);
        ledger.created(SG);
        ledger.created(instance(1));
        Files.writeString(folder.ledgerJournal(), "{\"op\":\"renamed\",\"to\":\"ws2\"}\n", StandardOpenOption.APPEND);
        Ledger.Unreadable e = assertThrows(Ledger.Unreadable.class, () -> open(folder));
        assertTrue(e.getMessage().contains("journal ledger.journal holds a line this version cannot read"),
                e.getMessage());
    }

    @Test
    void aJournalOfAnotherWriteOfTheFileIsNeverReplayedOntoIt(@TempDir Path dir) throws Exception {
        StateFolder folder = new StateFolder(dir.resolve("ws"));
        Ledger first = open(folder);
        first.created(SG);
        first.compact();

        // A command that crashed: its journal extends the file it wrote, not the one it found (now the backup).
        Ledger crashed = open(folder);
        crashed.created(instance(1));
        crashed.created(instance(2));
        crashed.deleted(ResourceKind.INSTANCE, "i-2");
        Path staleJournal = dir.resolve("stale-journal");
        Files.copy(folder.ledgerJournal(), staleJournal);

        // The facilitator restores the backup: its state wins, the journal is not its own.
        Path crashedFile = dir.resolve("crashed-ledger");
        Files.copy(folder.ledgerFile(), crashedFile);
        Files.copy(folder.ledgerBackup(), folder.ledgerFile(), StandardCopyOption.REPLACE_EXISTING);
        assertEquals(List.of(SG), open(folder).liveResources());
        Files.copy(crashedFile, folder.ledgerFile(), StandardCopyOption.REPLACE_EXISTING);

        // A crash in the middle of the next compaction: the new file written, the journal it took in not yet removed.
        // Replayed onto the new file, its "deleted i-2" would delete the i-2 created again since.
        Ledger next = open(folder);
        assertEquals(List.of(instance(1), SG), next.liveResources());
        next.created(instance(2));
        assertFalse(Files.exists(folder.ledgerJournal()), "the first write of a process is a compaction");
        Files.copy(staleJournal, folder.ledgerJournal());
        assertEquals(List.of(instance(1), instance(2), SG), open(folder).liveResources());
        assertEquals(next.snapshot(), open(folder).snapshot());
    }

    @Test
    void theEndOfACommandLeavesTheWholeLedgerInLedgerJson(@TempDir Path dir) throws Exception {
        StateFolder folder = new StateFolder(dir.resolve("ws"));
        Ledger ledger;
        try (WorkshopLock held = WorkshopLock.acquire(folder, "ws", "up")) {
            ledger = open(folder);
            held.beforeRelease(ledger::compact);
            ledger.created(SG);
            ledger.created(instance(1));
            assertTrue(Files.exists(folder.ledgerJournal()));
        }
        assertFalse(Files.exists(folder.ledgerJournal()));
        String file = Files.readString(folder.ledgerFile());
        assertTrue(file.contains("\"id\" : \"i-1\""), file);
        assertEquals(ledger.snapshot(), open(folder).snapshot());
    }
}
