package org.workshopfleet.report;

import java.io.PrintStream;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Live progress of every machine during {@code up} and {@code teardown}: fed with {@link ProgressEvent}s from any thread,
 * it shows one line per machine (stage, step n/m and its name, elapsed time) and a summary line (ready / working /
 * failed, elapsed, cost so far).
 *
 * <p>In a terminal ({@link Mode#LIVE}) the board is redrawn in place with ANSI cursor movement, at most four times a
 * second and at least once a second while anything is working. Elsewhere ({@link Mode#PLAIN}: CI, output redirected to
 * a file) it prints a timestamped line only when a machine changes, and a summary line when the counts change, so logs
 * stay readable. Nothing it prints comes from outside the events, so no secret can reach it unless an event carries one.
 */
public final class ProgressBoard implements AutoCloseable {

    /** How output is written. */
    public enum Mode {
        /** Redrawn in place in an ANSI terminal. */
        LIVE,
        /** Timestamped lines on change, for logs and CI. */
        PLAIN;

        /** LIVE when this process has a terminal and is not running in CI ({@code CI=true}) or a dumb terminal. */
        public static Mode detect() {
            return detect(System.console() != null, System.getenv());
        }

        static Mode detect(boolean hasConsole, Map<String, String> env) {
            boolean ci = "true".equalsIgnoreCase(env.getOrDefault("CI", ""));
            boolean dumb = "dumb".equals(env.getOrDefault("TERM", "")) || env.getOrDefault("TERM", "").isEmpty();
            return hasConsole && !ci && !dumb ? LIVE : PLAIN;
        }
    }

    static final Duration MIN_REDRAW = Duration.ofMillis(250);
    static final Duration MAX_STILL = Duration.ofSeconds(1);
    private static final String GREEN = "\033[32m";
    private static final String RED = "\033[31m";
    private static final String BOLD = "\033[1m";
    private static final String RESET = "\033[0m";

    private final PrintStream out;
    private final Mode mode;
    private final Clock clock;
    private final String title;
    private final int width;
    private final int maxLines;
    private final Instant started;
    private final Map<Integer, Row> rows = new TreeMap<>();
    private volatile Supplier<FleetSpend> cost = () -> null;
    private boolean dirty = true;
    private Instant lastDraw;
    private int drawnLines;
    private String lastCounts = "";
    private ScheduledExecutorService ticker;
    private boolean closed;

    private static final class Row {
        final String machine;
        final Instant since;
        ProgressEvent last;
        Instant finishedAt;

        Row(String machine, Instant since) {
            this.machine = machine;
            this.since = since;
        }
    }

    /**
     * @param out   where the board is written (stdout in the command; a ByteArrayOutputStream in tests)
     * @param mode  {@link Mode#detect()} in the command
     * @param clock time source
     * @param title first line of the live board, e.g. {@code up: ebpf-php, 30 × t3.medium in ap-northeast-1}
     */
    public ProgressBoard(PrintStream out, Mode mode, Clock clock, String title) {
        // A shell does not export its terminal's size to the programs it starts; without COLUMNS and LINES the board
        // assumes the smallest common terminal, 80 × 24, so that it never wraps or scrolls (a wrapped line breaks
        // the redraw in place).
        this(out, mode, clock, title, envInt("COLUMNS", 80), envInt("LINES", 24));
    }

    ProgressBoard(PrintStream out, Mode mode, Clock clock, String title, int width, int height) {
        this.out = out;
        this.mode = mode;
        this.clock = clock;
        this.title = title;
        this.width = Math.max(40, width);
        this.maxLines = Math.max(5, height - 3);
        this.started = clock.instant();
    }

    /**
     * Where the summary line's "cost so far" comes from (e.g. {@code () -> FleetSpend.fromLedger(ledger.snapshot(), …)},
     * each machine at its own type's price); unknown if it gives {@code null}. It is called outside the board's lock,
     * so it may take other locks (the ledger's).
     */
    public ProgressBoard costSource(Supplier<FleetSpend> source) {
        this.cost = source;
        return this;
    }

    /** Declares machines before anything happens to them, so they show as waiting. */
    public void expect(int attendee, String machine) {
        boolean known;
        synchronized (this) {
            known = rows.containsKey(attendee);
        }
        if (!known) {
            update(ProgressEvent.stage(attendee, machine, Stage.WAITING, null));
        }
    }

    /** Records a change; thread-safe. In PLAIN mode a changed line is printed at once. */
    public void update(ProgressEvent e) {
        FleetSpend spent = mode == Mode.PLAIN ? cost.get() : null;
        record(e, spent);
    }

    private synchronized void record(ProgressEvent e, FleetSpend spent) {
        Instant now = clock.instant();
        Row row = rows.computeIfAbsent(e.attendee(), n -> new Row(e.machine(), now));
        String before = row.last == null ? null : describe(row.last);
        row.last = e;
        row.finishedAt = e.stage().working() ? null : now;
        dirty = true;
        // A plain log gets no line for machines merely declared: only real changes are worth a line.
        if (mode == Mode.PLAIN && e.stage() != Stage.WAITING && !describe(e).equals(before)) {
            out.println(stamp(now) + " " + e.machine() + " " + describe(e).replaceFirst(" {2,}", " "));
            String counts = counts();
            if (!counts.equals(lastCounts)) {
                lastCounts = counts;
                out.println(stamp(now) + " " + summary(now, spent));
            }
            out.flush();
        }
    }

    /** In LIVE mode, starts redrawing in the background (a daemon thread, four ticks a second). */
    public synchronized ProgressBoard start() {
        if (mode == Mode.LIVE && ticker == null && !closed) {
            ticker = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "progress-board");
                t.setDaemon(true);
                return t;
            });
            ticker.scheduleAtFixedRate(this::tick, 0, MIN_REDRAW.toMillis(), TimeUnit.MILLISECONDS);
        }
        return this;
    }

    /** Redraws the live board if it changed (at most every 250 ms) or a second has passed; no-op in PLAIN mode. */
    public void tick() {
        if (mode == Mode.LIVE) {
            redrawIfDue(cost.get());
        }
    }

    private synchronized void redrawIfDue(FleetSpend spent) {
        if (closed) {
            return;
        }
        Instant now = clock.instant();
        if (lastDraw != null) {
            Duration since = Duration.between(lastDraw, now);
            boolean moving = rows.values().stream().anyMatch(r -> r.last.stage().working());
            if (since.compareTo(MIN_REDRAW) < 0 || (!dirty && (!moving || since.compareTo(MAX_STILL) < 0))) {
                return;
            }
        }
        draw(now, spent);
    }

    /** Stops the background redraw and leaves the final state on screen (PLAIN: one final summary line). */
    @Override
    public void close() {
        finish(cost.get());
    }

    private synchronized void finish(FleetSpend spent) {
        if (closed) {
            return;
        }
        if (ticker != null) {
            ticker.shutdownNow();
        }
        Instant now = clock.instant();
        if (mode == Mode.LIVE) {
            draw(now, spent);
        } else {
            out.println(stamp(now) + " " + summary(now, spent));
        }
        out.flush();
        closed = true;
    }

    /** The summary line as shown under the board: {@code ready 12 · working 17 · failed 1 · elapsed 3m12s · cost so far $0.42}. */
    public String summary() {
        FleetSpend spent = cost.get();
        synchronized (this) {
            return summary(clock.instant(), spent);
        }
    }

    private String summary(Instant now, FleetSpend spent) {
        return counts() + " · elapsed " + DurationText.compact(Duration.between(started, now)) + " · cost so far "
                + (spent != null ? spent.text() : "unknown");
    }

    private String counts() {
        int ready = 0;
        int working = 0;
        int failed = 0;
        int destroyed = 0;
        for (Row r : rows.values()) {
            switch (r.last.stage()) {
                case READY -> ready++;
                case FAILED -> failed++;
                case DESTROYED -> destroyed++;
                default -> working++;
            }
        }
        return "ready " + ready + " · working " + working + " · failed " + failed
                + (destroyed > 0 ? " · destroyed " + destroyed : "");
    }

    private void draw(Instant now, FleetSpend spent) {
        List<String> lines = new ArrayList<>();
        lines.add(BOLD + fit(title) + RESET);
        List<Row> shown = new ArrayList<>(rows.values());
        String more = null;
        if (shown.size() > maxLines - 2) {
            // Too many to fit: machines that still need attention first (failed before working), the ready ones counted.
            List<Row> pending = shown.stream().filter(r -> r.last.stage() != Stage.READY)
                    .sorted(java.util.Comparator.comparing((Row r) -> r.last.stage() != Stage.FAILED)).toList();
            int fits = Math.min(pending.size(), maxLines - 3);
            int readyHidden = shown.size() - pending.size();
            int pendingHidden = pending.size() - fits;
            more = "  … and " + (readyHidden + pendingHidden) + " more"
                    + (pendingHidden == 0 ? " ready" : " (" + hiddenByStage(readyHidden, pending.subList(fits, pending.size())) + ")");
            shown = new ArrayList<>(pending.subList(0, fits));
            shown.sort(java.util.Comparator.comparing((Row r) -> r.machine));
        }
        int nameWidth = rows.values().stream().mapToInt(r -> r.machine.length()).max().orElse(8);
        for (Row r : shown) {
            Instant end = r.finishedAt == null ? now : r.finishedAt;
            String text = fit(String.format("  %-" + nameWidth + "s  %-7s  %s", r.machine,
                    DurationText.compact(Duration.between(r.since, end)), describe(r.last)));
            lines.add(switch (r.last.stage()) {
                case READY -> GREEN + text + RESET;
                case FAILED -> RED + text + RESET;
                default -> text;
            });
        }
        if (more != null) {
            lines.add(fit(more));
        }
        lines.add(BOLD + fit(summary(now, spent)) + RESET);

        StringBuilder sb = new StringBuilder();
        if (drawnLines > 0) {
            sb.append("\r\033[").append(drawnLines).append('A');
        }
        for (String line : lines) {
            sb.append("\033[2K").append(line).append('\n');
        }
        sb.append("\033[J");
        out.print(sb);
        out.flush();
        drawnLines = lines.size();
        lastDraw = now;
        dirty = false;
    }

    /**
     * The machines left off the board, by stage: {@code 2 ready, 8 still working} when those still working are all at
     * one stage, else each stage counted ({@code 27 ready, 50 booting, 100 provisioning, 6 failed}), so a fleet of
     * hundreds on a small terminal still shows where every machine is.
     */
    private static String hiddenByStage(int readyHidden, List<Row> hidden) {
        Map<Stage, Integer> byStage = new java.util.EnumMap<>(Stage.class);
        hidden.forEach(r -> byStage.merge(r.last.stage(), 1, Integer::sum));
        int failed = byStage.getOrDefault(Stage.FAILED, 0);
        byStage.remove(Stage.FAILED);
        List<String> parts = new ArrayList<>();
        parts.add(readyHidden + " ready");
        if (byStage.size() == 1) {
            parts.add(byStage.values().iterator().next() + " still working");
        } else {
            byStage.forEach((stage, count) -> parts.add(count + " " + stage.label()));
        }
        if (failed > 0) {
            parts.add(failed + " failed");
        }
        return String.join(", ", parts);
    }

    /** What a machine is doing, without timing: {@code provisioning  step 4/9 04-prometheus}. */
    static String describe(ProgressEvent e) {
        StringBuilder sb = new StringBuilder(String.format("%-12s", e.stage().label()));
        if (e.stage() == Stage.FAILED) {
            if (e.step() != null) {
                sb.append(" at ").append(e.step());
            }
            if (e.detail() != null) {
                sb.append(": ").append(e.detail());
            }
        } else {
            if (e.stepCount() > 0) {
                sb.append(" step ").append(e.stepIndex()).append('/').append(e.stepCount());
            }
            if (e.step() != null) {
                sb.append(' ').append(e.step());
            }
            if (e.detail() != null) {
                sb.append(" (").append(e.detail()).append(')');
            }
        }
        return sb.toString().stripTrailing();
    }

    private String fit(String s) {
        String oneLine = s.replace('\n', ' ').replace('\r', ' ');
        return oneLine.length() < width ? oneLine : oneLine.substring(0, width - 2) + "…";
    }

    private static String stamp(Instant t) {
        return t.truncatedTo(ChronoUnit.SECONDS).toString();
    }

    private static int envInt(String name, int fallback) {
        try {
            return Integer.parseInt(System.getenv().getOrDefault(name, ""));
        } catch (NumberFormatException e) {
            return fallback;
        }
    }
}
