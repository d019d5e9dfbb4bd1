package org.workshopfleet.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.workshopfleet.error.BadInput;

/** A machine's pinned host key: made before its launch, never made again once the machine carries it. */
class SecretsHostKeyTest {

    @TempDir
    Path dir;

    Secrets secrets() {
        return new Secrets(new StateFolder(dir.resolve("ws")), "ws");
    }

    Path keyFile(int attendee) {
        return new StateFolder(dir.resolve("ws")).secretsDir().resolve(String.format("host-%02d_ed25519", attendee));
    }

    static MachineRecord launched(int attendee, int seat) {
        return MachineRecord.planned(attendee, "ws-0" + attendee, Instant.now()).forSeat(seat)
                .launched("i-0" + attendee, "t3.medium", Instant.now());
    }

    @Test
    void aMachineNotYetLaunchedGetsAKeyMadeAndALaunchedOneKeepsIt() {
        Secrets secrets = secrets();
        MachineRecord planned = MachineRecord.planned(3, "ws-03", Instant.now());
        String made = secrets.hostKey(planned).publicKeyNoComment();
        assertTrue(Files.exists(keyFile(3)));
        MachineRecord up = planned.launched("i-03", "t3.medium", Instant.now());
        assertEquals(made, secrets.hostKey(up).publicKeyNoComment(), "the pinned key is read back");
        assertEquals(made, secrets.hostKey(3).publicKeyNoComment());
    }

    @Test
    void aLaunchedMachineWhoseKeyIsLostIsRefusedSayingToReplaceItsSeatAndNoKeyIsMade() throws Exception {
        Secrets secrets = secrets();
        secrets.hostKey(3); // made before the launch, as up renders its user data
        MachineRecord seat3 = launched(3, 3);
        secrets.hostKey(seat3);
        Files.delete(keyFile(3));

        BadInput e = assertThrows(BadInput.class, () -> secrets.hostKey(seat3));
        assertTrue(e.getMessage().contains("the host key pinned on ws-03 (" + keyFile(3) + ") is missing"),
                e.getMessage());
        assertTrue(e.getMessage().contains("-Daction=replace -Dseat=3"), e.getMessage());
        assertFalse(Files.exists(keyFile(3)), "no fresh key silently re-pins it");

        secrets.hostKey(4);
        MachineRecord spare = launched(4, MachineRecord.SPARE);
        Files.delete(keyFile(4));
        e = assertThrows(BadInput.class, () -> secrets.hostKey(spare));
        assertTrue(e.getMessage().contains("remove the spare"), e.getMessage());
        assertFalse(Files.exists(keyFile(4)));
    }

    @Test
    void aRetiredMachinesLostKeyIsNoError() {
        Secrets secrets = secrets();
        MachineRecord retired = launched(5, 5).retired("replaced");
        assertFalse(Files.exists(keyFile(5)));
        secrets.hostKey(retired);
        assertTrue(Files.exists(keyFile(5)));
    }
}
