package org.workshopfleet.e2e;

import java.nio.file.Path;
import java.util.function.Function;
import org.workshopfleet.command.MachineRendering;
import org.workshopfleet.cloud.UserDataFormat;
import org.workshopfleet.render.Bundle;
import org.workshopfleet.render.MachineModel;
import org.workshopfleet.spec.OsProfile;
import org.workshopfleet.render.Renderer;

/**
 * The machines behind the EC2 stand-in in the lab tests are Debian 12 lab machines, not the Ubuntu 22.04 AMI: their
 * user data and bundles are rendered for the OS they really run (the setup scripts refuse a bundle rendered for another
 * OS). Everything else about the EC2 code path stays as it is.
 */
public final class DebianRendering {

    private DebianRendering() {
    }

    /** The {@code Wiring.withRendering} argument: the real renderer, with every machine's OS profile set to Debian 12. */
    public static final Function<Path, MachineRendering> FOR_LAB_MACHINES = root -> {
        Renderer renderer = new Renderer(root);
        return new MachineRendering() {
            @Override
            public String userData(MachineModel m, UserDataFormat format) {
                return renderer.userData(onDebian(m), format);
            }

            @Override
            public Bundle bundle(MachineModel m) {
                return renderer.bundle(onDebian(m));
            }

            @Override
            public Bundle withTls(Bundle rendered, MachineModel m) {
                return renderer.withTls(rendered, m.tls());
            }

            @Override
            public OsProfile os(OsProfile providerOs) {
                return OsProfile.DEBIAN_12;
            }
        };
    };

    private static MachineModel onDebian(MachineModel m) {
        return new MachineModel(m.spec(), m.attendee(), m.hostname(), OsProfile.DEBIAN_12, m.hostKey(), m.loginPublicKey(),
                m.grafanaPassword(), m.sshPassword(), m.expiresAt(), m.tls());
    }
}
