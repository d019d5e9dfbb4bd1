package org.workshopfleet.report;

import java.util.List;
import org.workshopfleet.provision.ProvisionListener;
import org.workshopfleet.provision.ProvisionPhase;

/** Feeds the provisioning runner's events to a {@link ProgressBoard}: the facilitator's live view during {@code up}. */
public final class ProvisionBoard implements ProvisionListener {

    private final ProgressBoard board;

    public ProvisionBoard(ProgressBoard board) {
        this.board = board;
    }

    @Override
    public void phase(int attendee, String machine, ProvisionPhase phase) {
        switch (phase) {
            case CONNECTING -> board.update(ProgressEvent.stage(attendee, machine, Stage.BOOTING, "waiting for SSH"));
            case CLOUD_INIT -> board.update(ProgressEvent.stage(attendee, machine, Stage.BOOTING, "waiting for cloud-init"));
            case UPLOADING -> board.update(ProgressEvent.stage(attendee, machine, Stage.PROVISIONING, "uploading the bundle"));
            case WAITING_FOR_EARLIER_SESSION -> board.update(ProgressEvent.stage(attendee, machine, Stage.PROVISIONING,
                    "waiting for an earlier session on it to end"));
            case GRAFANA -> board.update(ProgressEvent.stage(attendee, machine, Stage.VERIFYING, "importing dashboards"));
            case DONE -> board.update(ProgressEvent.ready(attendee, machine));
            case STEPS, FAILED -> {
                // Steps report themselves one by one; a failure arrives through failed() with its reason.
            }
        }
    }

    @Override
    public void stepStarted(int attendee, String machine, int index, int total, String step) {
        board.update(ProgressEvent.step(attendee, machine, index, total, step));
    }

    @Override
    public void failed(int attendee, String machine, String step, String reason, List<String> logTail) {
        board.update(ProgressEvent.failed(attendee, machine, step, reason));
    }
}
