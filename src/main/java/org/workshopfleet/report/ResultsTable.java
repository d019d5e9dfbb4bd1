package org.workshopfleet.report;

import java.io.PrintStream;
import java.util.List;
import java.util.Locale;
import org.workshopfleet.provision.MachineResult;

/**
 * The table {@code up} ends with: one line per machine, and for a failed one its failing step, reason and the last
 * lines of its log. Everything that came from the machine goes through {@link TerminalText}, so a machine cannot send
 * escape sequences to the facilitator's terminal; its log file keeps them.
 */
public final class ResultsTable {

    private ResultsTable() {
    }

    /** Prints the table of {@code results} to {@code out}. */
    public static void print(PrintStream out, List<MachineResult> results) {
        out.printf(Locale.ROOT, "%n%-16s %-16s %-7s %s%n", "MACHINE", "IP", "STATE", "FAILED AT");
        for (MachineResult r : results) {
            out.printf(Locale.ROOT, "%-16s %-16s %-7s %s%n", TerminalText.clean(r.name()),
                    r.host() == null ? "-" : TerminalText.clean(r.host()), r.ok() ? "ready" : "FAILED",
                    r.ok() ? "" : TerminalText.clean(r.failedStep() + ": " + r.error()));
            if (!r.ok()) {
                for (String line : r.logTail()) {
                    out.println("    | " + TerminalText.clean(line));
                }
            }
        }
    }
}
