package org.workshopfleet.cloud.lab;

/**
 * A running lab machine.
 *
 * @param name the name it was booted with (its cloud-init {@code local-hostname}); the host-side objects carry
 *             {@code wf-<name>}
 * @param ip   its address in {@code 10.231.0.0/16}, reachable from the host and from the other lab machines
 */
public record LabMachine(String name, String ip) {
}
