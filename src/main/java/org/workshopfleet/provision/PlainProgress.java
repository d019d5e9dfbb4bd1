package org.workshopfleet.provision;

import java.io.PrintStream;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;

/**
 * A plain progress log, one line per event ({@code [02:13] ebpf-php-03 step 4/9 04-prometheus done}), for terminals
 * and CI logs alike. The report package's live display can replace it through {@code Wiring.display}.
 */
public final class PlainProgress implements ProvisionListener {

    private final PrintStream out;
    private final Clock clock;
    private final Instant start;

    public PlainProgress(PrintStream out, Clock clock) {
        this.out = out;
        this.clock = clock;
        this.start = clock.instant();
    }

    @Override
    public void phase(int attendee, String machine, ProvisionPhase phase) {
        if (phase != ProvisionPhase.STEPS && phase != ProvisionPhase.FAILED) {
            line(machine, phase.name().toLowerCase(Locale.ROOT).replace('_', '-'));
        }
    }

    @Override
    public void stepFinished(int attendee, String machine, int index, int total, String step, boolean skipped) {
        line(machine, "step " + index + "/" + total + " " + step + (skipped ? " unchanged, skipped" : " done"));
    }

    @Override
    public void failed(int attendee, String machine, String step, String reason, List<String> logTail) {
        line(machine, "FAILED at " + step + ": " + reason);
    }

    private void line(String machine, String what) {
        Duration d = Duration.between(start, clock.instant());
        String text = String.format(Locale.ROOT, "[%02d:%02d] %-14s %s", d.toMinutes(), d.toSecondsPart(), machine, what);
        synchronized (out) {
            out.println(text);
        }
    }
}
