package org.workshopfleet.report;

import org.workshopfleet.cloud.ec2.Ec2Profile;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ProgressBoardTest {

    /** A clock the test moves by hand. */
    static final class ManualClock extends Clock {
        Instant now = Instant.parse("2026-11-25T08:00:00Z");

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    private final ManualClock clock = new ManualClock();

    private String take() {
        String s = bytes.toString(StandardCharsets.UTF_8);
        bytes.reset();
        return s;
    }

    @Test
    void aFailureReasonFromTheMachineCannotDriveTheTerminal() {
        ProgressBoard plain = new ProgressBoard(out, ProgressBoard.Mode.PLAIN, clock, "up", 200, 40);
        plain.expect(1, "w-01");
        new ProvisionBoard(plain).failed(1, "w-01", "05-grafana\u001b[2J", "exit 1: \u001b]0;owned\u0007gpg:\r bad\u009b2J key",
                ResultsTableTest.HOSTILE_LOG);
        plain.close();
        String printed = take();
        ResultsTableTest.assertNoControlCharacters(printed);
        assertTrue(printed.contains("w-01 FAILED at 05-grafana: exit 1: gpg: bad key"), printed);

        ProgressBoard live = new ProgressBoard(out, ProgressBoard.Mode.LIVE, clock, "up", 200, 40);
        live.expect(1, "w-01");
        live.update(ProgressEvent.failed(1, "w-01", "05-grafana", "exit 1: \u001b]0;owned\u0007gpg:\r bad key\u001b[2J"));
        live.close();
        String drawn = take();
        assertFalse(drawn.contains("\u001b]") || drawn.contains("\u0007") || drawn.contains("\u001b[2J"),
                "only the board's own colour and cursor sequences: " + drawn);
        assertTrue(drawn.contains("exit 1: gpg: bad key"), drawn);
    }

    /** A session waiting on the machine's lock (up to two minutes) is told apart from one still uploading. */
    @Test
    void aMachineWaitingForAnEarlierSessionSaysSoInsteadOfUploading() {
        ProgressBoard board = new ProgressBoard(out, ProgressBoard.Mode.PLAIN, clock, "up", 120, 40);
        board.expect(1, "w-01");
        ProvisionBoard listener = new ProvisionBoard(board);
        listener.phase(1, "w-01", org.workshopfleet.provision.ProvisionPhase.UPLOADING);
        assertTrue(take().contains("w-01 provisioning (uploading the bundle)"));
        listener.phase(1, "w-01", org.workshopfleet.provision.ProvisionPhase.WAITING_FOR_EARLIER_SESSION);
        String printed = take();
        assertTrue(printed.contains("w-01 provisioning (waiting for an earlier session on it to end)"), printed);
        board.close();
    }

    @Test
    void plainModePrintsTimestampedLinesOnlyOnChange() {
        ProgressBoard board = new ProgressBoard(out, ProgressBoard.Mode.PLAIN, clock, "up", 120, 40);
        board.expect(1, "w-01");
        board.expect(2, "w-02");
        assertEquals("", take());
        clock.advance(Duration.ofSeconds(5));
        board.update(ProgressEvent.step(1, "w-01", 4, 9, "04-prometheus"));
        assertEquals("2026-11-25T08:00:05Z w-01 provisioning step 4/9 04-prometheus\n"
                + "2026-11-25T08:00:05Z ready 0 · working 2 · failed 0 · elapsed 5s · cost so far unknown\n", take(),
                "one line for the change and the first summary; nothing for machines merely declared");
        board.update(ProgressEvent.step(1, "w-01", 4, 9, "04-prometheus"));
        assertEquals("", take(), "nothing when nothing changed");
        clock.advance(Duration.ofSeconds(60));
        board.update(ProgressEvent.failed(2, "w-02", "05-grafana", "no answer on :3000"));
        assertEquals("2026-11-25T08:01:05Z w-02 FAILED at 05-grafana: no answer on :3000\n"
                + "2026-11-25T08:01:05Z ready 0 · working 1 · failed 1 · elapsed 1m05s · cost so far unknown\n", take());
        board.update(ProgressEvent.ready(1, "w-01"));
        assertTrue(take().contains("ready 1 · working 0 · failed 1"));
        board.close();
        String end = take();
        assertTrue(end.startsWith("2026-11-25T08:01:05Z ready 1 · working 0 · failed 1"), end);
        assertFalse(end.contains("\033"), "no escape codes in plain output");
    }

    @Test
    void liveModeRedrawsInPlaceAtMostFourTimesASecond() {
        ProgressBoard board = new ProgressBoard(out, ProgressBoard.Mode.LIVE, clock, "up: w, 2 × t3.medium", 120, 40)
                .costSource(() -> FleetSpend.of(PriceTable.load(), new Ec2Profile(), "ap-northeast-1", "t3.medium",
                        List.of(new FleetSpend.Item("t3.medium", clock.instant().minusSeconds(3600))), clock.instant()));
        board.expect(1, "w-01");
        board.expect(2, "w-02");
        board.tick();
        String first = take();
        assertFalse(first.contains("\033[3A") || first.contains("\033[4A"), "first draw does not move up");
        List<String> lines = visible(first);
        assertEquals(List.of("up: w, 2 × t3.medium", "  w-01  0s       waiting", "  w-02  0s       waiting",
                "ready 0 · working 2 · failed 0 · elapsed 0s · cost so far $0.054"), lines);

        clock.advance(Duration.ofMillis(100));
        board.update(ProgressEvent.step(1, "w-01", 1, 9, "01-base"));
        board.tick();
        assertEquals("", take(), "not redrawn within 250 ms of the last draw");

        clock.advance(Duration.ofMillis(150));
        board.tick();
        String second = take();
        assertTrue(second.startsWith("\r\033[4A"), "moves up over the 4 lines drawn before");
        assertTrue(second.endsWith("\033[J"), "clears anything below");
        assertEquals("  w-01  0s       provisioning step 1/9 01-base", visible(second).get(1));

        clock.advance(Duration.ofMillis(500));
        board.tick();
        assertEquals("", take(), "unchanged: no redraw before a second has passed");
        clock.advance(Duration.ofMillis(500));
        board.tick();
        assertTrue(visible(take()).get(1).startsWith("  w-01  1s "), "elapsed time ticks once a second");

        board.update(ProgressEvent.ready(1, "w-01"));
        board.update(ProgressEvent.ready(2, "w-02"));
        clock.advance(Duration.ofSeconds(1));
        board.tick();
        String done = take();
        assertTrue(done.contains("\033[32m  w-01  1s       ready"), "ready lines are green: " + done);
        clock.advance(Duration.ofSeconds(5));
        board.tick();
        assertEquals("", take(), "nothing working and nothing changed: no redraw");
        board.close();
        assertTrue(visible(take()).get(3).startsWith("ready 2 · working 0 · failed 0 · elapsed 7s"));
    }

    @Test
    void startedBoardRedrawsOnItsOwnThread() throws Exception {
        ProgressBoard board = new ProgressBoard(out, ProgressBoard.Mode.LIVE, Clock.systemUTC(), "up", 120, 40).start();
        board.update(ProgressEvent.stage(1, "w-01", Stage.BOOTING, "waiting for SSH"));
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (!bytes.toString(StandardCharsets.UTF_8).contains("booting      (waiting for SSH)")
                && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        board.close();
        String all = take();
        assertTrue(all.contains("  w-01  "), all);
        assertTrue(all.contains("booting      (waiting for SSH)"), all);
        int draws = all.split("\\033\\[J", -1).length - 1;
        assertTrue(draws >= 1 && draws <= 30, "a handful of redraws, not a storm: " + draws);
    }

    @Test
    void manyMachinesShowThoseNeedingAttentionFirst() {
        ProgressBoard board = new ProgressBoard(out, ProgressBoard.Mode.LIVE, clock, "up", 120, 12);
        for (int i = 1; i <= 30; i++) {
            String name = String.format("w-%02d", i);
            board.update(i == 17 ? ProgressEvent.failed(i, name, "03-php", "apt failed")
                    : i % 10 == 0 ? ProgressEvent.step(i, name, 2, 9, "02-apt") : ProgressEvent.ready(i, name));
        }
        board.tick();
        List<String> lines = visible(take());
        assertTrue(lines.size() <= 12 - 3 + 2, "fits the terminal: " + lines);
        assertEquals(List.of("up", "  w-10  0s       provisioning step 2/9 02-apt", "  w-17  0s       FAILED       at 03-php: apt failed",
                "  w-20  0s       provisioning step 2/9 02-apt", "  w-30  0s       provisioning step 2/9 02-apt",
                "  … and 26 more ready", "ready 26 · working 3 · failed 1 · elapsed 0s · cost so far unknown"), lines);
    }

    @Test
    void whenEvenTheUnfinishedDoNotFitFailuresComeFirstAndTheRestIsCounted() {
        ProgressBoard board = new ProgressBoard(out, ProgressBoard.Mode.LIVE, clock, "up", 120, 8);
        for (int i = 1; i <= 12; i++) {
            String name = String.format("w-%02d", i);
            board.update(i == 11 ? ProgressEvent.failed(i, name, "03-php", "apt failed")
                    : i <= 2 ? ProgressEvent.ready(i, name) : ProgressEvent.step(i, name, 2, 9, "02-apt"));
        }
        board.tick();
        List<String> lines = visible(take());
        // A terminal of 8 lines leaves 5 for the board: title, two machines, the count of the rest, the summary.
        assertEquals(List.of("up", "  w-03  0s       provisioning step 2/9 02-apt",
                "  w-11  0s       FAILED       at 03-php: apt failed", "  … and 10 more (2 ready, 8 still working)",
                "ready 2 · working 9 · failed 1 · elapsed 0s · cost so far unknown"), lines);
    }

    @Test
    void twoHundredMachinesFitAnEightyByTwentyFourTerminalWithTheFailuresNamedAndEveryStageCounted() {
        ProgressBoard board = new ProgressBoard(out, ProgressBoard.Mode.LIVE, clock, "up: ebpf-php, 200 × t3.medium in"
                + " ap-northeast-1 (a title longer than the terminal is wide)", 80, 24);
        for (int i = 1; i <= 200; i++) {
            String name = String.format("ebpf-php-%03d", i);
            if (i <= 20) {
                board.expect(i, name);
            } else if (i <= 70) {
                board.update(ProgressEvent.stage(i, name, Stage.BOOTING, "waiting for SSH"));
            } else if (i <= 155) {
                board.update(ProgressEvent.step(i, name, 4, 9, "04-prometheus"));
            } else if (i <= 175) {
                board.update(ProgressEvent.ready(i, name));
            } else {
                board.update(ProgressEvent.failed(i, name, "03-php", "apt-get install php8.1-fpm failed: exit 100 "
                        + "(the mirror answered 503 Service Unavailable)"));
            }
        }
        board.tick();
        List<String> lines = visible(take());
        assertTrue(lines.size() <= 24, "at most 24 lines: " + lines.size());
        for (String line : lines) {
            assertTrue(line.length() <= 80, "no line over 80 columns: " + line.length() + " " + line);
        }
        // The failures first, each named, as many as fit; the rest of them counted.
        List<String> failedShown = lines.stream().filter(l -> l.contains("FAILED")).toList();
        assertEquals(18, failedShown.size(), String.join("\n", lines));
        for (int i = 176; i <= 193; i++) {
            String name = String.format("ebpf-php-%03d", i);
            assertTrue(failedShown.stream().anyMatch(l -> l.startsWith("  " + name + " ")), name + " named: " + lines);
        }
        assertEquals("  … and 182 more (20 ready, 20 waiting, 50 booting, 85 provisioning, 7 failed)",
                lines.get(lines.size() - 2));
        assertEquals("ready 20 · working 155 · failed 25 · elapsed 0s · cost so far unknown", lines.get(lines.size() - 1));
    }

    @Test
    void longLinesAreCutToTheTerminalWidth() {
        ProgressBoard board = new ProgressBoard(out, ProgressBoard.Mode.LIVE, clock, "up", 50, 40);
        board.update(ProgressEvent.failed(1, "w-01", "05-grafana", "a very long reason ".repeat(10)));
        board.tick();
        for (String line : visible(take())) {
            assertTrue(line.length() < 50, line);
        }
    }

    @Test
    void modeDetection() {
        assertEquals(ProgressBoard.Mode.LIVE, ProgressBoard.Mode.detect(true, Map.of("TERM", "xterm-256color")));
        assertEquals(ProgressBoard.Mode.PLAIN, ProgressBoard.Mode.detect(false, Map.of("TERM", "xterm-256color")));
        assertEquals(ProgressBoard.Mode.PLAIN, ProgressBoard.Mode.detect(true, Map.of("TERM", "xterm", "CI", "true")));
        assertEquals(ProgressBoard.Mode.PLAIN, ProgressBoard.Mode.detect(true, Map.of("TERM", "dumb")));
    }

    /** The text a terminal would show for one redraw: escape sequences removed, one entry per line. */
    private static List<String> visible(String drawn) {
        String plain = drawn.replaceAll("\r", "").replaceAll("\033\\[[0-9;]*[A-Za-z]", "");
        return List.of(plain.split("\n"));
    }
}
