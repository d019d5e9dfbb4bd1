package org.workshopfleet.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.workshopfleet.provision.MachineResult;

/** The final table of {@code up}: what a machine printed reaches the terminal without control characters. */
class ResultsTableTest {

    /** Escape sequences a hostile or broken machine could print: retitle, clear screen, overwrite, C1 CSI, DCS. */
    static final List<String> HOSTILE_LOG = List.of(
            "\u001b]0;you have been pwned\u0007E: Unable to locate package php8.9",
            "\u001b[2J\u001b[H\u001b[31mred\u001b[0m and \u001b[?1049h alternate screen",
            "progress 10%\rprogress 100%\u0008\u0008 done\u0000",
            "\u009b2J C1 CSI, \u001bP+q544e\u001b\\ DCS, \u001b]52;c;Y2xpcGJvYXJk\u001b\\ clipboard, tab\there, bell\u0007",
            "\u001b");

    static void assertNoControlCharacters(String printed) {
        for (int i = 0; i < printed.length(); i++) {
            char c = printed.charAt(i);
            assertTrue(c == '\n' || !(c < 0x20 || (c >= 0x7f && c <= 0x9f)),
                    "control character U+" + String.format("%04X", (int) c) + " at " + i + " in: " + printed);
        }
    }

    @Test
    void machineTextReachesTheTerminalWithoutControlCharacters() {
        MachineResult failed = new MachineResult(2, "ebpf-php-02", "203.0.113.2", false, "01-packages",
                "exit 100: \u001b]0;owned\u0007apt-get failed\r", HOSTILE_LOG, null);
        MachineResult ready = new MachineResult(1, "ebpf-php-01", "203.0.113.1", true, null, null, List.of(), null);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ResultsTable.print(new PrintStream(bytes, true, StandardCharsets.UTF_8), List.of(ready, failed));
        String printed = bytes.toString(StandardCharsets.UTF_8);

        assertNoControlCharacters(printed);
        List<String> lines = printed.lines().toList();
        assertEquals("ebpf-php-02      203.0.113.2      FAILED  01-packages: exit 100: apt-get failed", lines.get(3));
        assertEquals(List.of(
                "    | E: Unable to locate package php8.9",
                "    | red and  alternate screen",
                "    | progress 10%progress 100% done",
                "    |  C1 CSI,  DCS,  clipboard, tab here, bell",
                "    | "), lines.subList(4, 9));
        assertEquals(HOSTILE_LOG, failed.logTail(), "the result (and the log file it came from) keeps the raw text");
    }

    @Test
    void cleanLeavesOrdinaryTextAlone() {
        String text = "04-prometheus: curl: (22) 404 — “quoted” ünïcödé | tail";
        assertEquals(text, TerminalText.clean(text));
        assertEquals(null, TerminalText.clean(null));
    }
}
