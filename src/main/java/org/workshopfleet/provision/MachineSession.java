package org.workshopfleet.provision;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.workshopfleet.render.SetupStep;
import org.workshopfleet.ssh.Remote;
import org.workshopfleet.ssh.SshLogin;

/**
 * Everything a machine needs after login, in one SSH command under one {@code sudo}: wait for cloud-init's result
 * file, receive the bundle on stdin and unpack it, then run the setup steps. On a lab host thirty machines share two
 * cores, and every SSH session (sshd child, PAM session, logind) and every sudo (PAM again) is paid per machine, so one
 * session per machine instead of one per phase and per step is what keeps thirty machines as fast as one.
 *
 * <p>The conversation, driven by a generated root shell script:
 * <ol>
 *   <li>The script polls for cloud-init's result file ({@link CloudInitWait}) and prints it between frames; this side
 *       reads {@code v1.errors}.</li>
 *   <li>This side answers on stdin with one line: {@code bundle <bytes> <sha256>} followed by the bundle's tar, or
 *       {@code tail} (cloud-init failed: the script prints the tail of cloud-init's output log and stops). Nothing is
 *       sent before cloud-init is over, so the bundle never lands on a machine whose boot failed.</li>
 *   <li>The script stores the tar beside the bundle root (root's, 0600), checks its length and SHA-256 (a connection
 *       cut mid-transfer gives a short file, and a tar cut at a member boundary would otherwise unpack without
 *       complaint), unpacks it into {@code <root>.new} and swaps that in only when {@code tar} succeeded.</li>
 *   <li>Per step in order: skip it when its marker holds the step's content hash, else run it (stdin is at end of
 *       file) and write the marker only after exit 0, stopping at the first failure; finally print the ebpf_exporter
 *       hash the machine observed.</li>
 * </ol>
 *
 * <p>Frames are lines {@code @@wf-<nonce> <kind> …}; the nonce is fresh per run and never appears followed by a space
 * in the script text itself, so no output (not even a {@code ps} listing of the runner) can fake a frame. Frames never
 * reach the log; the notes written instead are the ones the per-phase runner wrote. The script holds names, paths and
 * hashes only, never a secret; the bundle (which holds secrets) travels on stdin and is never echoed.
 */
final class MachineSession {

    private static final SecureRandom RANDOM = new SecureRandom();
    /** Output without a newline is handed on in pieces once this long, keeping the last bytes for a frame's start. */
    private static final int MAX_LINE = 64 * 1024;
    private static final int KEEP = 1024;
    /** Lines of cloud-init's output log shown when cloud-init failed. */
    private static final int CLOUD_INIT_TAIL = Pipeline.TAIL_LINES;
    private static final String CLOUD_INIT_LOG = "/var/log/cloud-init-output.log";

    private final MachineLayout layout;
    private final SshLogin login;
    private final Duration cloudInitTimeout;
    private final String nonce;

    MachineSession(MachineLayout layout, SshLogin login, Duration cloudInitTimeout) {
        this(layout, login, cloudInitTimeout, HexFormat.of().formatHex(randomBytes()));
    }

    MachineSession(MachineLayout layout, SshLogin login, Duration cloudInitTimeout, String nonce) {
        this.layout = layout;
        this.login = login;
        this.cloudInitTimeout = cloudInitTimeout;
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

    /** Receives the parsed progress of the session, on the thread that called {@link #run}. */
    interface Events {
        /** cloud-init is over without errors and the bundle is on its way. */
        void uploading();

        /** The bundle is unpacked; the steps start. */
        void stepsStarting();

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
        s.append(CloudInitWait.poll(layout.cloudInitResult(), cloudInitTimeout, "echo \"$N cloudinit-timeout\"; exit 0"));
        s.append("echo \"$N cloudinit-begin\"; cat '").append(layout.cloudInitResult()).append("'\n");
        s.append("echo \"$N cloudinit-end\"\n");
        // One line of answer; sh's read takes it byte by byte, so the tar behind it stays on stdin.
        s.append("IFS= read -r answer || answer=\n");
        s.append("case \"$answer\" in\n")
                .append("  'bundle '*) ;;\n")
                .append("  tail) echo \"$N tail-begin\"; tail -n ").append(CLOUD_INIT_TAIL).append(" ").append(CLOUD_INIT_LOG)
                .append(" 2>&1; echo \"$N tail-end\"; exit 0 ;;\n")
                .append("  *) exit 0 ;;\n")
                .append("esac\n");
        s.append("r='").append(root).append("'; s=\"$r.new\"; t=\"$r.new.tar\"\n");
        s.append("set -- $answer\n");
        // Leftovers of an interrupted earlier run only; test is a built-in, rm a program.
        s.append("if [ -e \"$s\" ] || [ -e \"$t\" ]; then rm -rf \"$s\" \"$t\"; fi\n");
        s.append("mkdir -p \"$s\" || { echo \"$N unpackfailed mkdir\"; exit 0; }\n");
        s.append("(umask 077; cat > \"$t\")\n");
        s.append("sum=$(sha256sum < \"$t\")\n");
        s.append("if [ \"${sum%% *}\" != \"$3\" ]; then got=$(wc -c < \"$t\"); rm -f \"$t\"; rm -rf \"$s\"; echo \"$N torn $got\";"
                + " exit 0; fi\n");
        s.append("tar -x --no-same-owner -f \"$t\" -C \"$s\"; rc=$?\n");
        s.append("if [ $rc -ne 0 ]; then rm -rf \"$s\" \"$t\"; echo \"$N unpackfailed $rc\"; exit 0; fi\n");
        // The tar goes with the old root, in one rm.
        s.append("rm -rf \"$r\" \"$t\" && mv \"$s\" \"$r\" || { rm -f \"$t\"; echo \"$N unpackfailed swap\"; exit 0; }\n");
        s.append("echo \"$N unpacked\"\n");
        s.append("d='").append(layout.markersDir()).append("'\n");
        // Once, not per step: the marker write below fails (and says so) if the folder could not be made.
        s.append("mkdir -p \"$d\" 2>/dev/null\n");
        // $1 step name, $2 script path relative to the bundle root, $3 content hash. Shell built-ins where a
        // program would do the same: every fork and exec is CPU a shared host pays thirty times over.
        s.append("step() {\n")
                .append("  m=; { IFS= read -r m < \"$d/$1\"; } 2>/dev/null\n")
                .append("  if [ \"$m\" = \"$3\" ]; then echo \"$N skip $1\"; return 0; fi\n")
                .append("  echo \"$N begin $1\"\n")
                .append("  BUNDLE_DIR='").append(root).append("' bash '").append(root).append("'/\"$2\"; rc=$?\n")
                .append("  if [ $rc -eq 0 ]; then\n")
                .append("    if ! { printf '%s\\n' \"$3\" > \"$d/$1\"; } 2>/dev/null; then echo \"$N nomarker $1\"; rc=")
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
            // The first word of the first non-blank line, read with built-ins.
            String hashFile = layout.ebpfExporterHashFile();
            s.append("h=; if [ -r '").append(hashFile).append("' ]; then while read -r h _ || [ -n \"$h\" ]; do")
                    .append(" [ -n \"$h\" ] && break; done < '").append(hashFile).append("'; fi\n");
            s.append("echo \"$N observed $h\"\n");
        }
        return s.toString();
    }

    /**
     * Holds the whole conversation with one machine: cloud-init, the bundle {@code tar}, then {@code steps} (all safe),
     * appending their output and the phase and step notes to {@code log}, and reporting to {@code events} as the frames
     * arrive.
     *
     * @throws Pipeline.StepFailed   for a failure charged to a phase ({@code cloud-init}, {@code upload}) or to the
     *                               first failing step (its exit code, or a marker that could not be written)
     * @throws IllegalStateException when the session ended without finishing (e.g. the connection was closed)
     */
    Outcome run(Remote remote, byte[] tar, int files, List<SetupStep> steps, boolean withObserved, Path log,
                Events events) {
        String script = script(steps, withObserved);
        CompletableFuture<Boolean> send = new CompletableFuture<>();
        Parser parser;
        int exit;
        try (OutputStream file = Files.newOutputStream(log, StandardOpenOption.CREATE, StandardOpenOption.APPEND,
                StandardOpenOption.WRITE)) {
            parser = new Parser(steps, file, events, send, tar.length, files);
            String header = "bundle " + tar.length + " " + sha256(tar) + "\n";
            try {
                exit = remote.stream(login.sudo() + "sh -c '" + script.replace("'", "'\\''") + "' wf-provision", parser,
                        in -> {
                            boolean bundle = await(send);
                            in.write((bundle ? header : "tail\n").getBytes(StandardCharsets.US_ASCII));
                            if (bundle) {
                                in.write(tar);
                            }
                        });
            } finally {
                // Releases the writer if the session ended before cloud-init's verdict arrived.
                send.cancel(false);
            }
            parser.close();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + log, e);
        }
        if (parser.failure != null) {
            throw parser.failure;
        }
        if (!parser.unpacked) {
            throw new Pipeline.StepFailed(parser.verdict == null ? "cloud-init" : "upload", "the session ended "
                    + (parser.verdict == null ? "while waiting for cloud-init" : "while the bundle was being sent")
                    + " (exit " + exit + ")");
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

    private static boolean await(CompletableFuture<Boolean> send) throws InterruptedException, IOException {
        try {
            return send.get();
        } catch (ExecutionException | java.util.concurrent.CancellationException e) {
            throw new IOException("no answer to send: the session ended", e);
        }
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Splits the merged output into lines, writes output to the log and turns frames into events. */
    private final class Parser extends OutputStream {
        private final Pattern frame = Pattern.compile("@@wf-" + nonce + " (cloudinit-timeout|cloudinit-begin"
                + "|cloudinit-end|tail-begin|tail-end|torn|unpackfailed|unpacked|begin|skip|nomarker|end|observed)"
                + "(?: (\\S+))?(?: (-?\\d+))?\\s*");
        private final List<SetupStep> steps;
        private final OutputStream file;
        private final Events events;
        private final CompletableFuture<Boolean> send;
        private final int tarBytes;
        private final int files;
        private final ByteArrayOutputStream line = new ByteArrayOutputStream();
        /** cloud-init's result file while it is being printed (null outside those frames). */
        private StringBuilder result;
        CloudInitWait.Verdict verdict;
        boolean unpacked;
        int next;
        SetupStep running;
        boolean markerFailed;
        Pipeline.StepFailed failure;
        String observed;
        boolean observedSeen;

        Parser(List<SetupStep> steps, OutputStream file, Events events, CompletableFuture<Boolean> send, int tarBytes,
               int files) {
            this.steps = steps;
            this.file = file;
            this.events = events;
            this.send = send;
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
                if (result != null) {
                    result.append(new String(bytes, StandardCharsets.UTF_8)).append('\n');
                } else {
                    file.write(bytes);
                    file.write('\n');
                }
                return;
            }
            if (at > 0) {
                // The last line had no newline; the frame followed it.
                if (result != null) {
                    result.append(new String(bytes, 0, at, StandardCharsets.UTF_8));
                } else {
                    file.write(bytes, 0, at);
                    file.write('\n');
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
                case "tail-begin" -> note("--- tail of " + CLOUD_INIT_LOG + " ---");
                case "tail-end" -> { }
                case "torn" -> failure = new Pipeline.StepFailed("upload", "the bundle arrived incomplete (" + name
                        + " of " + tarBytes + " bytes, or not byte for byte); nothing was unpacked");
                case "unpackfailed" -> failure = new Pipeline.StepFailed("upload", "unpacking the bundle into "
                        + layout.bundleRoot() + " failed (" + name + "): see the machine's log");
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
                file.write(json.getBytes(StandardCharsets.UTF_8));
                failure = new Pipeline.StepFailed("cloud-init", e.getMessage());
                send.complete(false);
                return;
            }
            if (verdict.clean()) {
                note("cloud-init finished without errors");
                events.uploading();
                note("uploading the bundle (" + files + " files) to " + layout.bundleRoot());
                send.complete(true);
                return;
            }
            file.write(("cloud-init reported errors:\n" + String.join("\n", verdict.errors()) + "\n")
                    .getBytes(StandardCharsets.UTF_8));
            failure = new Pipeline.StepFailed("cloud-init", "cloud-init reported " + verdict.errors().size()
                    + " error(s), first: " + Pipeline.oneLine(verdict.errors().get(0))
                    + " (its output log tail is in the machine's log)");
            send.complete(false);
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
