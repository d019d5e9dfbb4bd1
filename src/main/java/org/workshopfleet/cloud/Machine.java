package org.workshopfleet.cloud;

import java.time.Instant;

/**
 * One attendee machine as the cloud sees it.
 *
 * @param id           the cloud's id (EC2 instance id, Lightsail instance name, lab machine name)
 * @param name         {@code <workshop>-NN}
 * @param attendee     attendee number, 1-based
 * @param state        lifecycle state
 * @param publicIp     address the facilitator and attendees reach it on; {@code null} until running
 * @param instanceType instance type or bundle
 * @param launchedAt   when the cloud launched it
 */
public record Machine(String id, String name, int attendee, MachineState state, String publicIp, String instanceType,
                      Instant launchedAt) {

    public boolean isRunningWithAddress() {
        return state == MachineState.RUNNING && publicIp != null && !publicIp.isEmpty();
    }

    public Machine withState(MachineState newState, String newIp) {
        return new Machine(id, name, attendee, newState, newIp, instanceType, launchedAt);
    }
}
