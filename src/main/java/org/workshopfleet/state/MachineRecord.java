package org.workshopfleet.state;

import java.time.Instant;
import com.fasterxml.jackson.annotation.JsonIgnore;
import java.util.List;

/**
 * One attendee machine's progress.
 *
 * @param attendee     attendee number, 1-based
 * @param name         machine name
 * @param cloudId      the cloud's id once launched
 * @param instanceType the EC2 instance type or Lightsail bundle the machine was launched with, as the cloud's launch
 *                     answer gave it (EC2 may fall back to a later type of {@code -DinstanceType} when capacity is short,
 *                     so a fleet can be mixed); {@code null} before launch and in ledgers written before this field
 *                     existed, where readers assume the spec's first type and say so
 * @param publicIp     address once running
 * @param phase        where it is
 * @param step         current or failing step name, if any
 * @param stepsDone    names of finished setup steps
 * @param error        one-line reason of the failure (never a secret), if failed
 * @param logTail      last lines of the failing step's log, if failed
 * @param launchedAt   when the cloud launched it
 * @param updatedAt    last change
 * @param seat         the seat this machine serves: {@link #SPARE} for a spare, which serves none yet; {@code null} in
 *                     records written before spares existed, read as the machine's own number ({@link #seatNumber})
 * @param tlsSha256    SHA-256 fingerprint ({@code AB:CD:…}) of the certificate the machine serves HTTPS with, for the
 *                     card; {@code null} before it was provisioned and in ledgers written before this field existed
 */
public record MachineRecord(int attendee, String name, String cloudId, String instanceType, String publicIp,
                            MachinePhase phase, String step, List<String> stepsDone, String error, List<String> logTail,
                            Instant launchedAt, Instant updatedAt, Integer seat, String tlsSha256) {

    /** The {@link #seat} of a spare. */
    public static final int SPARE = 0;

    public MachineRecord {
        stepsDone = stepsDone == null ? List.of() : List.copyOf(stepsDone);
        logTail = logTail == null ? List.of() : List.copyOf(logTail);
    }

    /** As the canonical constructor, before the machine's certificate is known. */
    public MachineRecord(int attendee, String name, String cloudId, String instanceType, String publicIp,
                         MachinePhase phase, String step, List<String> stepsDone, String error, List<String> logTail,
                         Instant launchedAt, Instant updatedAt, Integer seat) {
        this(attendee, name, cloudId, instanceType, publicIp, phase, step, stepsDone, error, logTail, launchedAt,
                updatedAt, seat, null);
    }

    /** As the canonical constructor, for a machine that serves the seat of its own number. */
    public MachineRecord(int attendee, String name, String cloudId, String instanceType, String publicIp,
                         MachinePhase phase, String step, List<String> stepsDone, String error, List<String> logTail,
                         Instant launchedAt, Instant updatedAt) {
        this(attendee, name, cloudId, instanceType, publicIp, phase, step, stepsDone, error, logTail, launchedAt,
                updatedAt, null);
    }

    /** The seat this machine serves ({@link #SPARE} for a spare); its own number when the record names none. */
    @JsonIgnore
    public int seatNumber() {
        return seat == null ? attendee : seat;
    }

    /** Whether this machine is a spare: provisioned, serving no seat. */
    @JsonIgnore
    public boolean isSpare() {
        return seatNumber() == SPARE;
    }

    /** Whether this record names a machine that exists or is being made (not destroyed). */
    @JsonIgnore
    public boolean isLive() {
        return phase != MachinePhase.DESTROYED;
    }

    /** The same machine serving {@code newSeat} ({@link #SPARE}: none). */
    public MachineRecord forSeat(int newSeat) {
        return new MachineRecord(attendee, name, cloudId, instanceType, publicIp, phase, step, stepsDone, error, logTail,
                launchedAt, updatedAt, newSeat, tlsSha256);
    }

    /**
     * Marked for destruction: written before the machine is destroyed, so a crash in between leaves a record that
     * {@code up} and {@code teardown} still remove, and that no seat counts as its machine.
     */
    public MachineRecord retired(String why) {
        return new MachineRecord(attendee, name, cloudId, instanceType, publicIp, MachinePhase.DESTROYED, step,
                stepsDone, why, logTail, launchedAt, updatedAt, seat, tlsSha256);
    }

    static MachineRecord planned(int attendee, String name, Instant now) {
        return new MachineRecord(attendee, name, null, null, null, MachinePhase.PLANNED, null, List.of(), null, List.of(),
                null, now, null);
    }

    MachineRecord touched(Instant now) {
        return new MachineRecord(attendee, name, cloudId, instanceType, publicIp, phase, step, stepsDone, error, logTail,
                launchedAt, now, seat, tlsSha256);
    }

    /**
     * Launched as {@code id}, of {@code type} (the instance type or bundle the cloud launched it with; null if the
     * cloud did not say), at {@code at}.
     */
    public MachineRecord launched(String id, String type, Instant at) {
        return new MachineRecord(attendee, name, id, type, publicIp, MachinePhase.LAUNCHING, null, stepsDone, null,
                List.of(), at, updatedAt, seat, tlsSha256);
    }

    /**
     * Fills in the instance type when this record has none (a ledger written before types were recorded, read back
     * while the cloud describes the machine); a recorded type is kept, since it came from the launch itself.
     */
    public MachineRecord withTypeIfUnknown(String type) {
        if (instanceType != null || type == null) {
            return this;
        }
        return new MachineRecord(attendee, name, cloudId, type, publicIp, phase, step, stepsDone, error, logTail,
                launchedAt, updatedAt, seat, tlsSha256);
    }

    /** Serving HTTPS with the certificate of this fingerprint. */
    public MachineRecord withTlsSha256(String fingerprint) {
        return new MachineRecord(attendee, name, cloudId, instanceType, publicIp, phase, step, stepsDone, error, logTail,
                launchedAt, updatedAt, seat, fingerprint);
    }

    public MachineRecord withAddress(String ip) {
        return new MachineRecord(attendee, name, cloudId, instanceType, ip, phase, step, stepsDone, error, logTail,
                launchedAt, updatedAt, seat, tlsSha256);
    }

    public MachineRecord inPhase(MachinePhase p, String currentStep) {
        return new MachineRecord(attendee, name, cloudId, instanceType, publicIp, p, currentStep, stepsDone,
                p == MachinePhase.FAILED ? error : null, p == MachinePhase.FAILED ? logTail : List.of(), launchedAt,
                updatedAt, seat, tlsSha256);
    }

    public MachineRecord stepDone(String stepName) {
        List<String> done = new java.util.ArrayList<>(stepsDone);
        if (!done.contains(stepName)) {
            done.add(stepName);
        }
        return new MachineRecord(attendee, name, cloudId, instanceType, publicIp, phase, step, done, error, logTail,
                launchedAt, updatedAt, seat, tlsSha256);
    }

    public MachineRecord failed(String failingStep, String reason, List<String> tail) {
        return new MachineRecord(attendee, name, cloudId, instanceType, publicIp, MachinePhase.FAILED, failingStep,
                stepsDone, reason, tail, launchedAt, updatedAt, seat, tlsSha256);
    }
}
