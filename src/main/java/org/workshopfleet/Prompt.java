package org.workshopfleet;

/** Asks the facilitator a yes/no question on the terminal. */
@FunctionalInterface
public interface Prompt {

    /** True when the answer was yes. */
    boolean confirm(String question);

    /** The terminal, or null when there is none (piped, CI): then confirmations need {@code -Dyes}. */
    static Prompt console() {
        java.io.Console c = System.console();
        if (c == null) {
            return null;
        }
        return question -> {
            String answer = c.readLine("%s [y/N] ", question);
            return answer != null && (answer.trim().equalsIgnoreCase("y") || answer.trim().equalsIgnoreCase("yes"));
        };
    }
}
