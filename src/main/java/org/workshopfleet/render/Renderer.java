package org.workshopfleet.render;

import java.nio.file.Path;
import org.workshopfleet.cloud.UserDataFormat;

/** PLACEHOLDER for the contract (the content helper's branch replaces this file): renders user data and bundles. */
public final class Renderer {

    private final Path projectRoot;

    public Renderer(Path projectRoot) {
        this.projectRoot = projectRoot;
    }

    public String userData(MachineModel m, UserDataFormat f) {
        throw new UnsupportedOperationException("placeholder Renderer (" + projectRoot + "): merge the content branch");
    }

    public Bundle bundle(MachineModel m) {
        throw new UnsupportedOperationException("placeholder Renderer (" + projectRoot + "): merge the content branch");
    }
}
