package org.workshopfleet.provision;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.workshopfleet.render.SetupStep;
import org.workshopfleet.ssh.Remote;
import org.workshopfleet.ssh.SshLogin;

/**
 * All of a machine's setup steps in one SSH session and one sudo: a generated root shell script that, per step in
 * order, skips it when its marker holds the step's content hash, else runs it and writes the marker only after exit 0,
 * stopping at the first failure; then prints the ebpf_exporter hash the machine observed. On a lab host thirty machines
 * share two cores, and every SSH session (sshd child, PAM session, logind) and every sudo (PAM again) is paid per
 * machine, so one session instead of one per step is what keeps thirty machines as fast as one.
 *
 * <p>The script frames each step with lines {@code @@wf-<nonce> begin|skip|nomarker|end …}; the nonce is fresh per
 * run and never appears followed by a space in the script text itself, so no step output (not even a {@code ps}
 * listing of the runner) can fake a frame. Framing lines never reach the log; the notes written instead are those the
 * per-step runner wrote. The script holds names, paths and hashes only, never a secret.
 */
final class StepSession {

    private static final SecureRandom RANDOM = new SecureRandom();
    /** Output without a newline is handed on in pieces once this long, keeping the last bytes for a frame's start. */
    private static final int MAX_LINE = 64 * 1024;
    private static final int KEEP = 1024;

    private final MachineLayout layout;
    private final SshLogin login;
    private final String nonce;

    StepSession(MachineLayout layout, SshLogin login) {
        this(layout, login, HexFormat.of().formatHex(randomBytes()));
    }

    StepSession(MachineLayout layout, SshLogin login, String nonce) {
        this.layout = layout;
        this.login = login;
        this.nonce = nonce;
    }

    private static byte[] randomBytes() {
        byte[] b = new byte[12];
        RANDOM.nextBytes(b);
        return b;
    }

    /** What the steps reported: the observed exporter hash (null when none) once every step succeeded. */
    record Outcome(String observedHash) {
    }

    /** Receives the parsed progress of the session. */
    interface Events {
        void started(int index, SetupStep step);

        void finished(int index, SetupStep step, boolean skipped);
    }

    /**
     * The root shell script for {@code steps} (already checked safe by the caller); {@code withObserved} adds the
     * exporter hash read at the end.
     */
    String script(List<SetupStep> steps, boolean withObserved) {
        String root = layout.bundleRoot();
        StringBuilder s = new StringBuilder();
        s.append("N=@@wf-").append(nonce).append('\n');
        s.append("d='").append(layout.markersDir()).append("'\n");
        // $1 step name, $2 script path relative to the bundle root, $3 content hash.
        s.append("step() {\n")
                .append("  if [ \"$(head -n 1 \"$d/$1\" 2>/dev/null)\" = \"$3\" ]; then echo \"$N skip $1\"; return 0; fi\n")
                .append("  echo \"$N begin $1\"\n")
                .append("  env BUNDLE_DIR='").append(root).append("' bash '").append(root).append("'/\"$2\"; rc=$?\n")
                .append("  if [ $rc -eq 0 ]; then\n")
                .append("    if ! { mkdir -p \"$d\" && printf '%s\\n' \"$3\" > \"$d/$1\"; }; then echo \"$N nomarker $1\"; rc=")
                .append(Pipeline.MARKER_FAILED).append("; fi\n")
                .append("  fi\n")
                // A leading newline would put an empty line in the log; the parser finds a frame anywhere in a line.
                .append("  echo \"$N end $1 $rc\"\n")
                .append("  return $rc\n")
                .append("}\n");
        for (SetupStep step : steps) {
            s.append("step ").append(step.name()).append(' ').append(step.script()).append(' ')
                    .append(step.contentHash()).append(" || exit 0\n");
        }
        if (withObserved) {
            s.append("echo \"$N observed $(awk 'NF { print $1; exit }' '").append(layout.ebpfExporterHashFile())
                    .append("' 2>/dev/null)\"\n");
        }
        return s.toString();
    }

    /**
     * Runs {@code steps} (all safe) in one session, appending their output and the step notes to {@code log}, and
     * reporting each step to {@code events} as the frames arrive.
     *
     * @throws Pipeline.StepFailed   for the first failing step (its exit code, or a marker that could not be written)
     * @throws IllegalStateException when the session ended without finishing (e.g. the connection was closed)
     */
    Outcome run(Remote remote, List<SetupStep> steps, boolean withObserved, Path log, Events events) {
        String script = script(steps, withObserved);
        Parser parser;
        int exit;
        try (OutputStream file = Files.newOutputStream(log, StandardOpenOption.CREATE, StandardOpenOption.APPEND,
                StandardOpenOption.WRITE)) {
            parser = new Parser(steps, file, events);
            exit = remote.stream(login.sudo() + "sh -c '" + script.replace("'", "'\\''") + "' wf-steps", parser);
            parser.close();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + log, e);
        }
        if (parser.failure != null) {
            throw parser.failure;
        }
        if (parser.running != null) {
            // Begun but never ended: the runner itself died (killed, out of memory, connection gone).
            throw new Pipeline.StepFailed(parser.running.name(), "step " + parser.running.name() + " exited with " + exit);
        }
        if (parser.next < steps.size() || (withObserved && !parser.observedSeen)) {
            throw new IllegalStateException("the step session ended early (exit " + exit + ") after "
                    + parser.next + " of " + steps.size() + " steps");
        }
        return new Outcome(parser.observed);
    }

    /** Splits the merged output into lines, writes step output to the log and turns frames into events. */
    private final class Parser extends OutputStream {
        private final Pattern frame = Pattern.compile(
                "@@wf-" + nonce + " (begin|skip|nomarker|end|observed)(?: (\\S+))?(?: (-?\\d+))?\\s*");
        private final List<SetupStep> steps;
        private final OutputStream file;
        private final Events events;
        private final ByteArrayOutputStream line = new ByteArrayOutputStream();
        int next;
        SetupStep running;
        boolean markerFailed;
        Pipeline.StepFailed failure;
        String observed;
        boolean observedSeen;

        Parser(List<SetupStep> steps, OutputStream file, Events events) {
            this.steps = steps;
            this.file = file;
            this.events = events;
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
                    if (line.size() > MAX_LINE) {
                        byte[] all = line.toByteArray();
                        file.write(all, 0, all.length - KEEP);
                        line.reset();
                        line.write(all, all.length - KEEP, KEEP);
                    }
                }
            }
            file.flush();
        }

        @Override
        public void close() throws IOException {
            if (line.size() > 0) {
                line(line.toByteArray());
                line.reset();
            }
            file.flush();
        }

        private void line(byte[] bytes) throws IOException {
            // ISO-8859-1 maps bytes one to one, so a frame's offset is its byte offset and the log gets the raw bytes.
            String text = new String(bytes, StandardCharsets.ISO_8859_1);
            int at = text.indexOf("@@wf-" + nonce + " ");
            if (at < 0) {
                file.write(bytes);
                file.write('\n');
                return;
            }
            if (at > 0) {
                // The step's last line had no newline; the frame followed it.
                file.write(bytes, 0, at);
                file.write('\n');
            }
            Matcher m = frame.matcher(text.substring(at));
            if (!m.matches()) {
                throw new IllegalStateException("malformed step frame: " + text.substring(at));
            }
            frame(m.group(1), m.group(2), m.group(3));
        }

        private void frame(String kind, String name, String rc) throws IOException {
            if (kind.equals("observed")) {
                observedSeen = true;
                observed = name;
                return;
            }
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
                    note("$ " + login.sudo() + "env BUNDLE_DIR=" + layout.bundleRoot() + " bash " + layout.bundleRoot()
                            + "/" + step.script());
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
            file.write(("== " + text + "\n").getBytes(StandardCharsets.UTF_8));
            file.flush();
        }
    }
}
