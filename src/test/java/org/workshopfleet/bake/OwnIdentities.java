package org.workshopfleet.bake;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.workshopfleet.spec.WorkshopSpec;
import org.workshopfleet.ssh.Remote;
import org.workshopfleet.ssh.SshLogin;
import org.workshopfleet.ssh.SshTarget;
import org.workshopfleet.state.Ledger;
import org.workshopfleet.state.MachineRecord;
import org.workshopfleet.state.Secrets;
import org.workshopfleet.state.StateFolder;

/**
 * The check that machines launched from one baked image are still each their own: host key (pinned per machine),
 * machine-id, hostname and Grafana admin password.
 */
public final class OwnIdentities {

    private OwnIdentities() {
    }

    /** Asserts it for every machine of the fleet's ledger (two or more machines). */
    public static void assertEachMachineHasItsOwn(WorkshopSpec spec, String providerId) {
        Ledger ledger = Ledger.open(new StateFolder(spec.stateDir()), spec.name(), providerId, spec.region(), Clock.systemUTC());
        Secrets secrets = new Secrets(new StateFolder(spec.stateDir()), spec.name());
        List<MachineRecord> machines = List.copyOf(ledger.snapshot().machines().values());
        assertTrue(machines.size() >= 2, "needs two machines to compare: " + machines);
        Set<String> machineIds = new HashSet<>();
        Set<String> hostKeys = new HashSet<>();
        for (MachineRecord r : machines) {
            String hostKey = secrets.hostKey(r.attendee()).publicKeyNoComment();
            hostKeys.add(hostKey);
            // Remote.await checks the pinned host key: the machine presents exactly its own.
            try (Remote remote = Remote.await(new SshTarget(r.publicIp(), 22, hostKey),
                    new SshLogin(SshLogin.MACHINE_USER, secrets.loginKey()), Duration.ofSeconds(30))) {
                String id = remote.exec("cat /etc/machine-id").stdout().strip();
                assertTrue(id.matches("[0-9a-f]{32}"), r.name() + " machine-id '" + id + "'");
                machineIds.add(id);
                assertEquals(r.name(), remote.exec("hostname").stdout().strip());
                // The admin password is this machine's own (from its env file): Grafana accepts it, and not another's.
                String mine = secrets.grafanaPassword(r.attendee());
                int otherAttendee = machines.stream().mapToInt(MachineRecord::attendee).filter(a -> a != r.attendee())
                        .findFirst().orElseThrow();
                String other = secrets.grafanaPassword(otherAttendee);
                assertEquals("200", remote.exec("curl -s -o /dev/null -w '%{http_code}' -u 'admin:" + mine
                        + "' http://localhost:3000/api/org").stdout().strip(), r.name() + " own password");
                assertNotEquals("200", remote.exec("curl -s -o /dev/null -w '%{http_code}' -u 'admin:" + other
                        + "' http://localhost:3000/api/org").stdout().strip(), r.name() + " accepts another machine's password");
            }
        }
        assertEquals(machines.size(), machineIds.size(), "machine-ids differ");
        assertEquals(machines.size(), hostKeys.size(), "host keys differ");
    }
}
