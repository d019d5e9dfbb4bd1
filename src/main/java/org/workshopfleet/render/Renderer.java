package org.workshopfleet.render;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.workshopfleet.cloud.UserDataFormat;

/**
 * PLACEHOLDER for the contract (the content helper's branch replaces this file): renders user data and bundles.
 * This stand-in renders only a hostname and {@code fleet.env}, with no setup steps, so the orchestrator compiles and
 * its plan can be exercised before the content branch is merged.
 */
public final class Renderer {

    private final Path projectRoot;

    public Renderer(Path projectRoot) {
        this.projectRoot = projectRoot;
    }

    public String userData(MachineModel m, UserDataFormat f) {
        return f == UserDataFormat.CLOUD_CONFIG
                ? "#cloud-config\nhostname: " + m.hostname() + "\n"
                : "#!/bin/bash\nhostnamectl set-hostname " + m.hostname() + "\n";
    }

    public Bundle bundle(MachineModel m) {
        StringBuilder env = new StringBuilder();
        for (Map.Entry<String, String> e : m.spec().sources().asEnvironment().entrySet()) {
            env.append(e.getKey()).append("='").append(e.getValue()).append("'\n");
        }
        env.append("HOSTNAME='").append(m.hostname()).append("'\n");
        return new Bundle(m.hostname(), List.of(new BundleFile("fleet.env", env.toString().getBytes(StandardCharsets.UTF_8), 0644)),
                List.of());
    }

    Path projectRoot() {
        return projectRoot;
    }
}
