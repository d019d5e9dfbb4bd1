package org.workshopfleet.provision;

import java.util.ArrayList;
import java.util.List;
import org.workshopfleet.render.SetupStep;

/** {@link MachineSession.Events} written down as lines: {@code uploading}, {@code waiting}, {@code steps}, {@code started 1 01-a}, … */
final class RecordedEvents implements MachineSession.Events {

    final List<String> lines = new ArrayList<>();

    @Override
    public void uploading() {
        lines.add("uploading");
    }

    @Override
    public void waitingForEarlierSession() {
        lines.add("waiting");
    }

    @Override
    public void stepsStarting() {
        lines.add("steps");
    }

    @Override
    public void started(int index, SetupStep step) {
        lines.add("started " + index + " " + step.name());
    }

    @Override
    public void finished(int index, SetupStep step, boolean skipped) {
        lines.add("finished " + index + " " + step.name() + (skipped ? " skipped" : ""));
    }
}
