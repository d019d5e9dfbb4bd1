package org.workshopfleet.cli;

import java.io.Console;
import org.workshopfleet.command.Prompt;

/** The terminal's yes/no prompt: {@code y} or {@code yes} (any case) is yes, anything else no. */
final class ConsolePrompt implements Prompt {

    private final Console console;

    private ConsolePrompt(Console console) {
        this.console = console;
    }

    /** The terminal, or null when there is none (piped, CI): then confirmations need {@code -Dyes}. */
    static Prompt open() {
        Console c = System.console();
        return c == null ? null : new ConsolePrompt(c);
    }

    @Override
    public boolean confirm(String question) {
        String answer = console.readLine("%s [y/N] ", question);
        return answer != null && (answer.trim().equalsIgnoreCase("y") || answer.trim().equalsIgnoreCase("yes"));
    }
}
