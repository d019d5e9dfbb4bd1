package org.workshopfleet.render;

/**
 * One numbered setup script of a bundle.
 *
 * @param name        e.g. {@code 04-prometheus}; the orchestrator's marker file is named after it
 * @param script      path relative to the bundle root, e.g. {@code scripts/04-prometheus.sh}
 * @param contentHash lower-case hex SHA-256 over the script, {@code scripts/lib.sh}, {@code fleet.env} and every
 *                    bundle file the step installs: a step whose hash is unchanged need not run again
 */
public record SetupStep(String name, String script, String contentHash) {
}
