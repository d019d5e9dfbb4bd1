package org.workshopfleet.report;

import java.util.Objects;

/**
 * One change of one machine, fed to the {@link ProgressBoard}.
 *
 * @param attendee  attendee number, 1-based
 * @param machine   machine name
 * @param stage     where it is now
 * @param stepIndex current setup step, 1-based (0 when not running a step)
 * @param stepCount number of setup steps (0 when not running a step)
 * @param step      step name ({@code 04-prometheus}), or the failing step; null if none
 * @param detail    short free text (the failure reason, "waiting for SSH"...); never a secret; null if none
 */
public record ProgressEvent(int attendee, String machine, Stage stage, int stepIndex, int stepCount, String step,
                            String detail) {

    public ProgressEvent {
        Objects.requireNonNull(machine, "machine");
        Objects.requireNonNull(stage, "stage");
        // The board prints these on the terminal; a failure reason can quote what the machine printed.
        machine = TerminalText.clean(machine);
        step = TerminalText.clean(step);
        detail = TerminalText.clean(detail);
    }

    /** A machine entered {@code stage}, with optional detail. */
    public static ProgressEvent stage(int attendee, String machine, Stage stage, String detail) {
        return new ProgressEvent(attendee, machine, stage, 0, 0, null, detail);
    }

    /** A machine started setup step {@code index} of {@code count}. */
    public static ProgressEvent step(int attendee, String machine, int index, int count, String step) {
        return new ProgressEvent(attendee, machine, Stage.PROVISIONING, index, count, step, null);
    }

    public static ProgressEvent ready(int attendee, String machine) {
        return new ProgressEvent(attendee, machine, Stage.READY, 0, 0, null, null);
    }

    /** A machine failed at {@code step} (null if not in a step) for a one-line {@code reason}. */
    public static ProgressEvent failed(int attendee, String machine, String step, String reason) {
        return new ProgressEvent(attendee, machine, Stage.FAILED, 0, 0, step, reason);
    }
}
