package org.workshopfleet.command;

/** Asks the facilitator a yes/no question; the command line's console answers it, tests answer for it. */
@FunctionalInterface
public interface Prompt {

    /** True when the answer was yes. */
    boolean confirm(String question);
}
