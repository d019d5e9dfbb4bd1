package org.workshopfleet.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
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
    void deletedResourcesLeaveTheLiveSetAndCloseEndsTheFleet(@TempDir Path dir) {
        StateFolder folder = new StateFolder(dir.resolve("ws"));
        Ledger ledger = Ledger.open(folder, "ws", "ec2", "ap-northeast-1", Clock.systemUTC());
        ledger.created(new CloudResource(ResourceKind.KEY_PAIR, "ws-key", "ws-key", 0));
        ledger.updateMachine(1, "ws-01", m -> m.launched("i-1", null).inPhase(MachinePhase.READY, null));
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
}
