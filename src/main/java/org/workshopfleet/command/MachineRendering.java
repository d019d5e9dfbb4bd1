package org.workshopfleet.command;

import org.workshopfleet.cloud.UserDataFormat;
import org.workshopfleet.render.Bundle;
import org.workshopfleet.render.MachineModel;
import org.workshopfleet.render.Renderer;

/**
 * What the commands need from rendering: a machine's user data and its bundle. The real one is the
 * {@link Renderer}; tests give tiny bundles so a loopback "machine" never runs the real setup scripts.
 */
public interface MachineRendering {

    String userData(MachineModel machine, UserDataFormat format);

    Bundle bundle(MachineModel machine);

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
        };
    }
}
