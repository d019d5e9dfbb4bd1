package org.workshopfleet.report;

import java.util.regex.Pattern;

/**
 * Text from a machine (its log lines, a failure reason) made safe to print on the facilitator's terminal. A machine can
 * print anything, and escape sequences passed through would act on the terminal: {@code ESC ] 0 ; … BEL} retitles the
 * window, {@code ESC [ 2 J} clears the screen, a bare {@code \r} overwrites the line before it. ECMA-48 ("Control
 * Functions for Coded Character Sets") defines these sequences; whole sequences are dropped (so no {@code [2J} residue
 * is left), then every other C0 and C1 control and DEL is dropped, a tab becomes a space. Files on disk keep the text
 * as the machine wrote it.
 */
public final class TerminalText {

    /** CSI (ESC [ or 0x9B), then parameter and intermediate bytes, then a final byte. */
    private static final String CSI = "(?:\\x1b\\[|\\x9b)[\\x30-\\x3f]*[\\x20-\\x2f]*[\\x40-\\x7e]";
    /** OSC, DCS, SOS, PM, APC strings up to their terminator (BEL or ST), or to the end when unterminated. */
    private static final String STRING = "(?:\\x1b[\\]PX^_]|[\\x90\\x98\\x9d-\\x9f])[^\\x07\\x1b\\x9c]*(?:\\x07|\\x1b\\\\|\\x9c)?";
    /** Any other escape: ESC, intermediates, one final byte. */
    private static final String ESC = "\\x1b[\\x20-\\x2f]*[\\x30-\\x7e]?";
    private static final Pattern SEQUENCE = Pattern.compile(STRING + "|" + CSI + "|" + ESC);
    private static final Pattern CONTROL = Pattern.compile("[\\x00-\\x08\\x0a-\\x1f\\x7f-\\x9f]");

    private TerminalText() {
    }

    /** {@code s} without escape sequences and control characters (tabs become spaces); null stays null. */
    public static String clean(String s) {
        if (s == null) {
            return null;
        }
        String noSequences = SEQUENCE.matcher(s).replaceAll("");
        return CONTROL.matcher(noSequences).replaceAll("").replace('\t', ' ');
    }
}
