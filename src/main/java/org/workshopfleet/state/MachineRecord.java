package org.workshopfleet.state;

import java.time.Instant;
import java.util.List;

/**
 * One attendee machine's progress.
 *
 * @param attendee   attendee number, 1-based
 * @param name       machine name
 * @param cloudId    the cloud's id once launched
 * @param publicIp   address once running
 * @param phase      where it is
 * @param step       current or failing step name, if any
 * @param stepsDone  names of finished setup steps
 * @param error      one-line reason of the failure (never a secret), if failed
 * @param logTail    last lines of the failing step's log, if failed
 * @param launchedAt when the cloud launched it
 * @param updatedAt  last change
 */
public record MachineRecord(int attendee, String name, String cloudId, String publicIp, MachinePhase phase, String step,
                            List<String> stepsDone, String error, List<String> logTail, Instant launchedAt,
                            Instant updatedAt) {

    public MachineRecord {
        stepsDone = stepsDone == null ? List.of() : List.copyOf(stepsDone);
        logTail = logTail == null ? List.of() : List.copyOf(logTail);
    }

    static MachineRecord planned(int attendee, String name, Instant now) {
        return new MachineRecord(attendee, name, null, null, MachinePhase.PLANNED, null, List.of(), null, List.of(), null, now);
    }

    MachineRecord touched(Instant now) {
        return new MachineRecord(attendee, name, cloudId, publicIp, phase, step, stepsDone, error, logTail, launchedAt, now);
    }

    public MachineRecord launched(String id, Instant at) {
        return new MachineRecord(attendee, name, id, publicIp, MachinePhase.LAUNCHING, null, stepsDone, null, List.of(), at, updatedAt);
    }

    public MachineRecord withAddress(String ip) {
        return new MachineRecord(attendee, name, cloudId, ip, phase, step, stepsDone, error, logTail, launchedAt, updatedAt);
    }

    public MachineRecord inPhase(MachinePhase p, String currentStep) {
        return new MachineRecord(attendee, name, cloudId, publicIp, p, currentStep, stepsDone,
                p == MachinePhase.FAILED ? error : null, p == MachinePhase.FAILED ? logTail : List.of(), launchedAt, updatedAt);
    }

    public MachineRecord stepDone(String stepName) {
        List<String> done = new java.util.ArrayList<>(stepsDone);
        if (!done.contains(stepName)) {
            done.add(stepName);
        }
        return new MachineRecord(attendee, name, cloudId, publicIp, phase, step, done, error, logTail, launchedAt, updatedAt);
    }

    public MachineRecord failed(String failingStep, String reason, List<String> tail) {
        return new MachineRecord(attendee, name, cloudId, publicIp, MachinePhase.FAILED, failingStep, stepsDone, reason, tail,
                launchedAt, updatedAt);
    }
}
