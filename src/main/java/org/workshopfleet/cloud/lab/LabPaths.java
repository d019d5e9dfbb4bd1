package org.workshopfleet.cloud.lab;

import java.nio.file.Path;

/**
 * Where the lab keeps its things on the host.
 *
 * @param cacheDir  {@code ${WORKSHOP_FLEET_CACHE:-/var/cache/workshop-fleet}/lab}: base images and machine folders
 *                  (upper/work/merged layers and console logs), kept outside the checkout so a clean clone reuses them
 * @param runDir    {@code /run/workshop-fleet}: the host-wide lock and, under {@code lab/}, one record per machine and
 *                  the network record; a later teardown finds a crashed run's leftovers here
 */
public record LabPaths(Path cacheDir, Path runDir) {

    /** The standard locations (the cache root can be moved with {@code WORKSHOP_FLEET_CACHE}). */
    public static LabPaths standard() {
        String cache = System.getenv("WORKSHOP_FLEET_CACHE");
        Path root = cache == null || cache.isBlank() ? Path.of("/var/cache/workshop-fleet") : Path.of(cache);
        return new LabPaths(root.resolve("lab"), Path.of("/run/workshop-fleet"));
    }

    Path lockFile() {
        return runDir.resolve("lab.lock");
    }

    /** One empty file per scope that holds the lab network up without a machine ({@code LabMachines.ensureNetwork}). */
    Path holdersDir() {
        return runDir.resolve("lab").resolve("holders");
    }

    Path recordsDir() {
        return runDir.resolve("lab").resolve("machines");
    }

    Path networkRecord() {
        return runDir.resolve("lab").resolve("network.properties");
    }

    Path machinesDir() {
        return cacheDir.resolve("machines");
    }
}
