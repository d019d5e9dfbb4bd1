package org.workshopfleet.render;

import org.workshopfleet.spec.OsProfile;
import java.time.Instant;
import org.workshopfleet.spec.Provider;
import org.workshopfleet.spec.WorkshopSpec;
import org.workshopfleet.ssh.SshKeyPair;

/** Test fixtures: machine models with fixed keys so that renders are comparable. */
final class Machines {
    static final SshKeyPair HOST_KEY = SshKeyPair.generate("host@ebpf-php");
    static final SshKeyPair LOGIN_KEY = SshKeyPair.generate("workshop-fleet@ebpf-php");
    static final Instant EXPIRES = Instant.parse("2026-11-26T04:30:00Z");

    private Machines() {
    }

    static MachineModel model(OsProfile os) {
        WorkshopSpec spec = WorkshopSpec.defaults(3, os == OsProfile.DEBIAN_12 ? Provider.LAB : Provider.EC2);
        return new MachineModel(spec, 2, spec.machineName(2), os, HOST_KEY, LOGIN_KEY.publicKeyLine(),
                "GrafanaPw2345abcd", "SshPw2345abcdefg", EXPIRES);
    }

    static MachineModel debian() {
        return model(OsProfile.DEBIAN_12);
    }

    static MachineModel ubuntu() {
        return model(OsProfile.UBUNTU_2204);
    }
}
