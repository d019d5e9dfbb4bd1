package org.workshopfleet.provision;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;
import org.workshopfleet.grafana.GrafanaClient;
import org.workshopfleet.render.SetupStep;
import org.workshopfleet.ssh.BootHostKey;
import org.workshopfleet.ssh.PortForward;
import org.workshopfleet.ssh.Remote;
import org.workshopfleet.ssh.SshLogin;
import org.workshopfleet.ssh.StopSignal;
import org.workshopfleet.state.StateFolder;

/**
 * Provisions one machine, resuming where it stopped: wait for SSH (pinned host key) → in one SSH command under one
 * sudo ({@link MachineSession}): wait for cloud-init's result file ({@link CloudInitWait}; its errors fail the machine),
 * send the bundle on stdin (kept only when the whole archive arrived, see {@link MachineSession}) and, under the
 * machine's session lock (another session still running there, say one whose connection dropped, fails the machine
 * as busy after {@link MachineSession#LOCK_WAIT}), run each step whose marker does not hold its content hash (output
 * appended to {@code logs/<machine>.log}; marker written after exit 0) and read the exporter hash the machine observed
 * → Grafana dashboards through a port forward → done. A failure stops this machine only and is returned, never thrown.
 *
 * <p>One instance serves all machines of a run and is thread-safe; {@link #abort()} (Ctrl-C) closes every open
 * connection so blocked machines stop promptly.
 */
public final class Pipeline {

    /** Lines of a machine's log kept with a failure. */
    public static final int TAIL_LINES = 20;

    /**
     * How long cloud-init may run once SSH answers: the workshop's user data only writes files and starts a timer
     * (seconds), but a slow mirror or a large instance's first boot can stretch cloud-init's own stages to minutes.
     */
    public static final Duration CLOUD_INIT_TIMEOUT = Duration.ofMinutes(10);

    /** Exit code of a step's command when the step succeeded but its marker could not be written. */
    static final int MARKER_FAILED = 254;
    private static final Pattern SAFE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");
    private static final Pattern SAFE_HASH = Pattern.compile("[A-Za-z0-9:+/=._-]+");
    private static final Pattern SAFE_PATH = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._/-]*");

    private final SshLogin login;
    private final MachineLayout layout;
    private final Path logsDir;
    private final List<Path> dashboards;
    private final Duration sshTimeout;
    private final Duration cloudInitTimeout;
    private final Duration grafanaTimeout;
    private final BootHostKey bootKey;
    private final Set<Remote> open = ConcurrentHashMap.newKeySet();
    private final StopSignal stop = new StopSignal();
    private volatile boolean aborted;

    /**
     * @param login          user and key to log in with
     * @param layout         paths on the machine ({@link MachineLayout#STANDARD} for real machines)
     * @param logsDir        local folder of per-machine logs ({@code workshops/<name>/logs})
     * @param dashboards     dashboard files to import; empty skips the Grafana phase
     * @param sshTimeout     how long a machine may take to accept SSH
     * @param grafanaTimeout how long Grafana may take to be healthy and have its datasource
     */
    public Pipeline(SshLogin login, MachineLayout layout, Path logsDir, List<Path> dashboards, Duration sshTimeout,
                    Duration grafanaTimeout) {
        this(login, layout, logsDir, dashboards, sshTimeout, CLOUD_INIT_TIMEOUT, grafanaTimeout);
    }

    /**
     * As the six-argument form, with how long cloud-init may take after SSH answers (default
     * {@link #CLOUD_INIT_TIMEOUT}).
     */
    public Pipeline(SshLogin login, MachineLayout layout, Path logsDir, List<Path> dashboards, Duration sshTimeout,
                    Duration cloudInitTimeout, Duration grafanaTimeout) {
        this(login, layout, logsDir, dashboards, sshTimeout, cloudInitTimeout, grafanaTimeout, BootHostKey.BEFORE_SSHD);
    }

    private Pipeline(SshLogin login, MachineLayout layout, Path logsDir, List<Path> dashboards, Duration sshTimeout,
                     Duration cloudInitTimeout, Duration grafanaTimeout, BootHostKey bootKey) {
        this.bootKey = bootKey;
        this.login = login;
        this.layout = layout;
        this.logsDir = logsDir;
        this.dashboards = List.copyOf(dashboards);
        this.sshTimeout = sshTimeout;
        this.cloudInitTimeout = cloudInitTimeout;
        this.grafanaTimeout = grafanaTimeout;
    }

    /**
     * This pipeline for machines whose pinned host key arrives as {@code bootKey} says ({@link BootHostKey#BEFORE_SSHD}
     * unless told): with {@link BootHostKey#AFTER_LAUNCH_SCRIPT} another host key during the wait for SSH means "not
     * ready yet". Call before the first machine.
     */
    public Pipeline withBootHostKey(BootHostKey key) {
        return new Pipeline(login, layout, logsDir, dashboards, sshTimeout, cloudInitTimeout, grafanaTimeout, key);
    }

    /** The log file of one machine. */
    public Path logFile(String machine) {
        return logsDir.resolve(machine + ".log");
    }

    /**
     * Runs the whole pipeline for one machine, reporting progress to {@code listener}; never throws for a machine's
     * own failure.
     */
    public MachineResult provision(MachineJob job, ProvisionListener listener) {
        return provision(job, UnaryOperator.identity(), listener);
    }

    /**
     * As {@link #provision(MachineJob, ProvisionListener)}, the job first finished by {@code completing} on this
     * thread (a machine's bundle with its TLS files, known once its address is): a failure there fails this machine at
     * {@code bundle}. Thirty machines prepared in turn by the thread that feeds them would start connecting seconds
     * apart on a busy host; prepared here, each starts at once and prepares in parallel with the others.
     */
    public MachineResult provision(MachineJob given, UnaryOperator<MachineJob> completing, ProvisionListener listener) {
        MachineJob job = given;
        Path log = logFile(job.name());
        String stage = "bundle";
        Remote remote = null;
        try {
            note(log, "provisioning " + job.name() + " at " + job.target() + " (" + Instant.now() + ")");
            phase(listener, job, ProvisionPhase.CONNECTING);
            job = completing.apply(given);
            stage = "ssh";
            remote = Remote.await(job.target(), login, sshTimeout, bootKey, stop);
            open.add(remote);
            checkAborted();

            stage = "cloud-init";
            phase(listener, job, ProvisionPhase.CLOUD_INIT);
            String observed = converse(listener, remote, job, log);
            checkAborted();

            if (!dashboards.isEmpty()) {
                stage = "grafana";
                phase(listener, job, ProvisionPhase.GRAFANA);
                try (PortForward fwd = remote.forward(layout.grafanaPort())) {
                    GrafanaClient grafana = new GrafanaClient(URI.create("http://127.0.0.1:" + fwd.localPort()),
                            job.grafanaPassword());
                    List<String> uids = grafana.installDashboards(dashboards, grafanaTimeout);
                    note(log, "grafana: imported and verified " + String.join(", ", uids));
                }
            }

            note(log, "ready");
            phase(listener, job, ProvisionPhase.DONE);
            return MachineResult.ready(job, observed);
        } catch (StepFailed e) {
            return fail(listener, job, e.step, e.getMessage(), log);
        } catch (RuntimeException e) {
            String reason = aborted ? "interrupted; re-run up to resume" : oneLine(e);
            return fail(listener, job, stage, reason, log);
        } finally {
            if (remote != null) {
                open.remove(remote);
                remote.close();
            }
        }
    }

    /**
     * Stops every machine in flight: ends their waits for SSH at once and closes their connections; they end as failed
     * "interrupted".
     */
    public void abort() {
        aborted = true;
        stop.stop();
        for (Remote r : open) {
            r.close();
        }
    }

    /**
     * cloud-init, the bundle and every step in one SSH command under one sudo ({@link MachineSession}); returns the
     * exporter hash the machine observed. Steps up to the first unsafe one run; the unsafe one then fails the machine,
     * as it would have when reached.
     */
    private String converse(ProvisionListener listener, Remote remote, MachineJob job, Path log) {
        List<SetupStep> steps = job.bundle().steps();
        int safe = 0;
        while (safe < steps.size() && isSafe(steps.get(safe))) {
            safe++;
        }
        boolean all = safe == steps.size();
        int total = steps.size();
        MachineSession.Outcome outcome;
        // Where the conversation is, so a broken session is charged to that phase or step.
        String[] current = {"cloud-init"};
        note(log, "waiting for cloud-init (" + layout.cloudInitResult() + "), then the bundle and the steps in one session");
        try {
            outcome = new MachineSession(layout, login, cloudInitTimeout).run(remote, job.bundle(),
                    steps.subList(0, safe), all, log, new MachineSession.Events() {
                        @Override
                        public void uploading() {
                            current[0] = "upload";
                            phase(listener, job, ProvisionPhase.UPLOADING);
                        }

                        @Override
                        public void waitingForEarlierSession() {
                            phase(listener, job, ProvisionPhase.WAITING_FOR_EARLIER_SESSION);
                        }

                        @Override
                        public void stepsStarting() {
                            current[0] = "steps";
                            phase(listener, job, ProvisionPhase.STEPS);
                        }

                        @Override
                        public void started(int index, SetupStep step) {
                            current[0] = step.name();
                            listener.stepStarted(job.attendee(), job.name(), index, total, step.name());
                        }

                        @Override
                        public void finished(int index, SetupStep step, boolean skipped) {
                            listener.stepFinished(job.attendee(), job.name(), index, total, step.name(), skipped);
                        }
                    });
        } catch (StepFailed e) {
            if (aborted) {
                throw new StepFailed(e.step, "interrupted; re-run up to resume");
            }
            throw e;
        } catch (RuntimeException e) {
            throw new StepFailed(current[0], aborted ? "interrupted; re-run up to resume" : oneLine(e));
        }
        if (!all) {
            SetupStep unsafe = steps.get(safe);
            throw new StepFailed(unsafe.name(), "step '" + unsafe.name() + "' has an unsafe name, script path or hash");
        }
        return outcome.observedHash() == null || outcome.observedHash().isEmpty() ? null : outcome.observedHash();
    }

    private MachineResult fail(ProvisionListener listener, MachineJob job, String step, String reason, Path log) {
        note(log, "FAILED at " + step + ": " + reason);
        List<String> tail = tail(log, TAIL_LINES);
        listener.failed(job.attendee(), job.name(), step, reason, tail);
        phase(listener, job, ProvisionPhase.FAILED);
        return MachineResult.failed(job, step, reason, tail);
    }

    private static void phase(ProvisionListener listener, MachineJob job, ProvisionPhase phase) {
        listener.phase(job.attendee(), job.name(), phase);
    }

    private void checkAborted() {
        if (aborted) {
            throw new IllegalStateException("interrupted");
        }
    }

    private static boolean isSafe(SetupStep step) {
        return SAFE_NAME.matcher(step.name()).matches() && SAFE_HASH.matcher(step.contentHash()).matches()
                && SAFE_PATH.matcher(step.script()).matches() && !step.script().contains("..");
    }

    /** The last {@code n} lines of a log file (empty when there is none). */
    public static List<String> tail(Path log, int n) {
        try {
            if (!Files.exists(log)) {
                return List.of();
            }
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return new ArrayList<>(lines.subList(Math.max(0, lines.size() - n), lines.size()));
        } catch (IOException | UncheckedIOException e) {
            return List.of("(log unreadable: " + e.getClass().getSimpleName() + ")");
        }
    }

    private static void note(Path log, String line) {
        appendToLog(log, "== " + line + "\n");
    }

    private static void appendToLog(Path log, String text) {
        try {
            Path dir = log.toAbsolutePath().getParent();
            if (!Files.isDirectory(dir)) {
                StateFolder.makePrivateDir(dir);
            }
            if (!Files.exists(log)) {
                // Logs live in the private state folder: 0600 like everything else there (step output is the
                // facilitator's business only).
                try {
                    Files.createFile(log, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                } catch (java.nio.file.FileAlreadyExistsException raced) {
                    // Another writer created it first.
                }
            }
            Files.writeString(log, text, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + log, e);
        }
    }

    private static String oneLine(Throwable e) {
        return oneLine(e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
    }

    static String oneLine(String text) {
        String s = text.replaceAll("\\s+", " ").trim();
        return s.length() > 300 ? s.substring(0, 300) + "…" : s;
    }

    /** A machine-level failure with the step (or phase) it belongs to. */
    static final class StepFailed extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final String step;

        StepFailed(String step, String message) {
            super(message, null, false, false);
            this.step = step;
        }
    }
}
