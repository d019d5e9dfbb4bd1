package org.workshopfleet.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.workshopfleet.ssh.SshKeyPair;

/** Attendee cards with distinct addresses and passwords, for handout tests. */
final class HandoutFixtures {

    private HandoutFixtures() {
    }

    static List<AttendeeCard> cards(int n) {
        List<AttendeeCard> cards = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
            boolean ready = i != 5;
            cards.add(new AttendeeCard(i, String.format(Locale.ROOT, "ebpf-php-%02d", i), i == 2 ? "192.168.100.200" : "203.0.113." + (10 + i),
                    "admin", "Gr4f" + "abcdefghijkmnpqr".charAt(i % 16) + "XyZ7kQ2mP" + i, "ubuntu",
                    "Sh3ll" + "stuvwxyzABCDEFGH".charAt(i % 16) + "9hJ4nTb" + i, ready, ready ? "ready" : "failed at 08-grafana-admin",
                    SshKeyPair.generate("host@ebpf-php").fingerprint()));
        }
        return cards;
    }
}
