package org.workshopfleet.provision;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.workshopfleet.render.SetupStep;

/**
 * Reads the merged output of one {@link MachineSession} as it arrives: splits it into lines, copies the output to the
 * machine's log, and turns the frames ({@code @@wf-<nonce> <kind> …}, written by
 * templates/session/machine-session.sh.ftl) into phase notes, {@link MachineSession.Events} and, at the end, an
 * {@link MachineSession.Outcome} or the failure to charge.
 *
 * <p>Only a line holding {@code @@wf-<nonce> } with this run's nonce is a frame; a frame with another nonce is
 * output like any other. cloud-init's result file, printed between two frames, is kept out of the log and judged
 * instead ({@link CloudInitWait}). Not thread-safe: one session's output stream writes it.
 */
final class SessionTranscript extends OutputStream {

    /** Output without a newline is handed on in pieces once this long, keeping the last bytes for a frame's start. */
    static final int MAX_LINE = 64 * 1024;
    private static final int KEEP = 1024;

    private final String nonce;
    private final Pattern frame;
    private final List<SetupStep> steps;
    private final MachineLayout layout;
    private final String sudo;
    private final Duration cloudInitTimeout;
    private final OutputStream log;
    private final MachineSession.Events events;
    private final Consumer<Boolean> answer;
    private final int tarBytes;
    private final int files;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();
    /** cloud-init's result file while it is being printed (null outside those frames). */
    private StringBuilder result;
    private CloudInitWait.Verdict verdict;
    private boolean unpacked;
    private int next;
    private SetupStep running;
    private boolean markerFailed;
    private Pipeline.StepFailed failure;
    private String observed;
    private boolean observedSeen;

    /**
     * @param nonce            this run's frame nonce (hex)
     * @param steps            the steps the script runs, in order
     * @param sudo             the login's sudo prefix, shown in the step notes
     * @param log              the machine's log; receives output and notes, never a frame
     * @param answer           called once with cloud-init's verdict: {@code true} sends the bundle, {@code false} asks
     *                         for the tail of cloud-init's output log
     * @param tarBytes         the bundle's length, for the torn-transfer message
     * @param files            the bundle's file count, for the upload note
     */
    SessionTranscript(String nonce, List<SetupStep> steps, MachineLayout layout, String sudo, Duration cloudInitTimeout,
                      OutputStream log, MachineSession.Events events, Consumer<Boolean> answer, int tarBytes,
                      int files) {
        this.nonce = nonce;
        this.frame = Pattern.compile("@@wf-" + Pattern.quote(nonce) + " (cloudinit-timeout|cloudinit-begin"
                + "|cloudinit-end|tail-begin|tail-end|waiting|busy|torn|unpackfailed|unpacked|begin|skip|nomarker|end"
                + "|observed)"
                + "(?: (\\S+))?(?: (-?\\d+))?\\s*");
        this.steps = List.copyOf(steps);
        this.layout = layout;
        this.sudo = sudo;
        this.cloudInitTimeout = cloudInitTimeout;
        this.log = log;
        this.events = events;
        this.answer = answer;
        this.tarBytes = tarBytes;
        this.files = files;
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        for (int i = off; i < off + len; i++) {
            if (b[i] == '\n') {
                line(line.toByteArray());
                line.reset();
            } else {
                line.write(b[i]);
                if (line.size() > MAX_LINE && result == null) {
                    byte[] all = line.toByteArray();
                    log.write(all, 0, all.length - KEEP);
                    line.reset();
                    line.write(all, all.length - KEEP, KEEP);
                }
            }
        }
        log.flush();
    }

    /** Hands on a last line without a newline; does not close the log. */
    @Override
    public void close() throws IOException {
        if (line.size() > 0) {
            line(line.toByteArray());
            line.reset();
        }
        log.flush();
    }

    /**
     * What the session achieved once its output is closed, given the remote exit code.
     *
     * @throws Pipeline.StepFailed   for a failure charged to a phase ({@code cloud-init}, {@code upload}) or to the
     *                               first failing step (its exit code, or a marker that could not be written)
     * @throws IllegalStateException when the session ended without finishing (e.g. the connection was closed)
     */
    MachineSession.Outcome outcome(int exit, boolean withObserved) {
        if (failure != null) {
            throw failure;
        }
        if (!unpacked) {
            throw new Pipeline.StepFailed(verdict == null ? "cloud-init" : "upload", "the session ended "
                    + (verdict == null ? "while waiting for cloud-init" : "while the bundle was being sent")
                    + " (exit " + exit + ")");
        }
        if (running != null) {
            // Begun but never ended: the runner itself died (killed, out of memory, connection gone).
            throw new Pipeline.StepFailed(running.name(), "step " + running.name() + " exited with " + exit);
        }
        if (next < steps.size() || (withObserved && !observedSeen)) {
            throw new IllegalStateException("the step session ended early (exit " + exit + ") after "
                    + next + " of " + steps.size() + " steps");
        }
        return new MachineSession.Outcome(observed);
    }

    private void line(byte[] bytes) throws IOException {
        // ISO-8859-1 maps bytes one to one, so a frame's offset is its byte offset and the log gets the raw bytes.
        String text = new String(bytes, StandardCharsets.ISO_8859_1);
        int at = text.indexOf("@@wf-" + nonce + " ");
        if (at < 0) {
            if (result != null) {
                result.append(new String(bytes, StandardCharsets.UTF_8)).append('\n');
            } else {
                log.write(bytes);
                log.write('\n');
            }
            return;
        }
        if (at > 0) {
            // The last line had no newline; the frame followed it.
            if (result != null) {
                result.append(new String(bytes, 0, at, StandardCharsets.UTF_8));
            } else {
                log.write(bytes, 0, at);
                log.write('\n');
            }
        }
        Matcher m = frame.matcher(text.substring(at));
        if (!m.matches()) {
            throw new IllegalStateException("malformed frame: " + text.substring(at));
        }
        frame(m.group(1), m.group(2), m.group(3));
    }

    private void frame(String kind, String name, String rc) throws IOException {
        switch (kind) {
            case "cloudinit-timeout" -> failure = new Pipeline.StepFailed("cloud-init", "cloud-init did not finish"
                    + " within " + cloudInitTimeout.toSeconds() + " s (no " + layout.cloudInitResult() + "); the"
                    + " machine's console output shows how far it got");
            case "cloudinit-begin" -> result = new StringBuilder();
            case "cloudinit-end" -> cloudInitOver();
            case "tail-begin" -> note("--- tail of " + MachineLayout.CLOUD_INIT_LOG + " ---");
            case "tail-end" -> { }
            case "waiting" -> {
                note("another provisioning session is running on this machine (" + layout.sessionLock()
                        + " is locked): waiting up to " + name + " s for it to end");
                events.waitingForEarlierSession();
            }
            case "busy" -> failure = new Pipeline.StepFailed("upload", "another provisioning session is still running"
                    + " on this machine after " + name + " s of waiting (an earlier run whose connection dropped, its"
                    + " steps still going): nothing was changed; re-run up in a few minutes, finished steps are skipped");
            case "torn" -> failure = new Pipeline.StepFailed("upload", "the bundle (" + tarBytes + " bytes) arrived"
                    + " incomplete: the connection ended before its last part; nothing was unpacked");
            case "unpackfailed" -> failure = new Pipeline.StepFailed("upload", "lock".equals(name)
                    ? "cannot open " + layout.sessionLock() + ", the lock that keeps provisioning sessions on this"
                    + " machine apart: see the machine's log"
                    : "unpacking the bundle into " + layout.bundleRoot() + " failed (" + name + "): see the machine's log");
            case "unpacked" -> {
                unpacked = true;
                events.stepsStarting();
            }
            case "observed" -> {
                observedSeen = true;
                observed = name;
            }
            default -> stepFrame(kind, name, rc);
        }
    }

    private void cloudInitOver() throws IOException {
        String json = result == null ? "" : result.toString();
        result = null;
        try {
            verdict = CloudInitWait.parse(json, layout.cloudInitResult());
        } catch (IllegalStateException e) {
            log.write(json.getBytes(StandardCharsets.UTF_8));
            failure = new Pipeline.StepFailed("cloud-init", e.getMessage());
            answer.accept(false);
            return;
        }
        if (verdict.clean()) {
            note("cloud-init finished without errors");
            events.uploading();
            note("uploading the bundle (" + files + " files) to " + layout.bundleRoot());
            answer.accept(true);
            return;
        }
        log.write(("cloud-init reported errors:\n" + String.join("\n", verdict.errors()) + "\n")
                .getBytes(StandardCharsets.UTF_8));
        failure = new Pipeline.StepFailed("cloud-init", "cloud-init reported " + verdict.errors().size()
                + " error(s), first: " + Pipeline.oneLine(verdict.errors().get(0))
                + " (its output log tail is in the machine's log)");
        answer.accept(false);
    }

    private void stepFrame(String kind, String name, String rc) throws IOException {
        SetupStep step = running != null ? running : (next < steps.size() ? steps.get(next) : null);
        if (step == null || !step.name().equals(name)) {
            throw new IllegalStateException("step frame for " + name + " out of order");
        }
        int index = steps.indexOf(step) + 1;
        switch (kind) {
            case "skip" -> {
                events.started(index, step);
                note("step " + step.name() + ": unchanged since its last successful run, skipped");
                events.finished(index, step, true);
                next++;
            }
            case "begin" -> {
                events.started(index, step);
                note("step " + index + "/" + steps.size() + " " + step.name());
                note("$ " + sudo + layout.runScript(step.script()));
                running = step;
                markerFailed = false;
            }
            case "nomarker" -> markerFailed = true;
            case "end" -> {
                running = null;
                next++;
                int code = Integer.parseInt(rc);
                if (markerFailed) {
                    failure = new Pipeline.StepFailed(step.name(), "cannot write the marker of step " + step.name()
                            + " in " + layout.markersDir());
                } else if (code != 0) {
                    failure = new Pipeline.StepFailed(step.name(), "step " + step.name() + " exited with " + code);
                } else {
                    events.finished(index, step, false);
                }
            }
            default -> throw new IllegalStateException(kind);
        }
    }

    private void note(String text) throws IOException {
        log.write(("== " + text + "\n").getBytes(StandardCharsets.UTF_8));
        log.flush();
    }
}
