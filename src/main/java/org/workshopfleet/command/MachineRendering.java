package org.workshopfleet.command;

import org.workshopfleet.cloud.UserDataFormat;
import org.workshopfleet.render.Bundle;
import org.workshopfleet.render.MachineModel;
import org.workshopfleet.render.Renderer;
import org.workshopfleet.spec.OsProfile;

/**
 * What the commands need from rendering: a machine's user data and its bundle. The real one is the
 * {@link Renderer}; tests give tiny bundles so a loopback "machine" never runs the real setup scripts.
 */
public interface MachineRendering {

    String userData(MachineModel machine, UserDataFormat format);

    Bundle bundle(MachineModel machine);

    /**
     * The bundle of {@code machine}, which now has its TLS material, given the one {@code rendered} for it before
     * (without). The same as {@code bundle(machine)}; the real rendering only adds the two files.
     */
    default Bundle withTls(Bundle rendered, MachineModel machine) {
        return bundle(machine);
    }

    /**
     * The system the machines run, given the provider's: the same unless this rendering targets another one (the
     * lab tests render the EC2 path's bundles for their Debian machines).
     */
    default OsProfile os(OsProfile providerOs) {
        return providerOs;
    }

    /** The templates of {@code renderer}. */
    static MachineRendering of(Renderer renderer) {
        return new MachineRendering() {
            @Override
            public String userData(MachineModel machine, UserDataFormat format) {
                return renderer.userData(machine, format);
            }

            @Override
            public Bundle bundle(MachineModel machine) {
                return renderer.bundle(machine);
            }

            @Override
            public Bundle withTls(Bundle rendered, MachineModel machine) {
                return renderer.withTls(rendered, machine.tls());
            }
        };
    }
}
