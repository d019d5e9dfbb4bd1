package org.workshopfleet.provision;

import org.workshopfleet.error.ExitCode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import org.workshopfleet.state.Ledger;

/**
 * Provisions all machines at once, at most {@code parallelism} at a time (a fixed pool: Java 17 has no virtual
 * threads), either a known list ({@link #run}) or machines fed as they come up ({@link #start(int)}). A machine's failure never stops the others. Every machine's progress is written to the ledger as it
 * happens. {@link #cancel()} (from a Ctrl-C shutdown hook) stops machines in flight; they are recorded as failed
 * "interrupted", so the ledger stays consistent and a re-run resumes.
 *
 * <p>After all machines, when no exporter hash was pinned, the hash each machine observed for
 * {@code ebpf_exporter.x86_64} is compared: the first seen (or the one already in the ledger setting
 * {@value #EBPF_SETTING}) is recorded, and machines that saw another are failed. A pin that a machine was provisioned
 * with is recorded there too. Later runs send the recorded hash to every machine as its pin ({@link #exporterPin}), so
 * no machine runs an exporter binary that was not checked against it.
 */
public final class Runner {

    /** Ledger setting holding the exporter hash the fleet agreed on. */
    public static final String EBPF_SETTING = "ebpf_exporter.sha256";

    private static final java.util.regex.Pattern SHA256 = java.util.regex.Pattern.compile("[0-9a-f]{64}");


    /** The one line a run stopped by Ctrl-C ends with. */
    public static final String INTERRUPTED_NOTICE = "interrupted: every machine that was not ready is recorded as"
            + " interrupted (see -Daction=status); re-run up to resume";

    /** How long a stopped run waits for its machines in flight to record where they stopped (they need milliseconds). */
    static final Duration STOP_WAIT = Duration.ofSeconds(5);

    private final Pipeline pipeline;
    private final Ledger ledger;
    private final int parallelism;
    private final ProvisionListener ledgerProgress;
    private final ProvisionListener listener;
    private volatile boolean cancelled;

    /**
     * @param pipeline    the per-machine pipeline
     * @param ledger      where progress is recorded
     * @param parallelism machines provisioned at once
     * @param display     progress events besides the ledger (a live display), or {@link ProvisionListener#NONE}
     */
    public Runner(Pipeline pipeline, Ledger ledger, int parallelism, ProvisionListener display) {
        if (parallelism < 1) {
            throw new IllegalArgumentException("parallelism must be at least 1");
        }
        this.pipeline = pipeline;
        this.ledger = ledger;
        this.parallelism = parallelism;
        this.ledgerProgress = new LedgerProgress(ledger);
        this.listener = ProvisionListener.all(List.of(ledgerProgress, display));
    }

    /**
     * The exporter hash every machine of the workshop must verify its download against (it goes into
     * {@code fleet.env} as {@code EBPF_EXPORTER_SHA256}): the facilitator's pin when one was given, else the hash the
     * ledger recorded from an earlier machine ({@value #EBPF_SETTING}), else empty (the first machines only record
     * theirs, and never run the binary).
     *
     * @param pinned the facilitator's pin, or empty/null
     */
    public static String exporterPin(String pinned, Ledger ledger) {
        if (pinned != null && !pinned.isBlank()) {
            return pinned;
        }
        String recorded = ledger.setting(EBPF_SETTING);
        // Only a well-formed hash reaches fleet.env; anything else counts as none (and is replaced by the next record).
        return recorded != null && SHA256.matcher(recorded).matches() ? recorded : "";
    }

    /**
     * Provisions every job and returns the results in attendee order.
     *
     * @param pinnedEbpfSha256 the exporter hash given by the facilitator, or empty/null when none was pinned
     */
    public List<MachineResult> run(List<MachineJob> jobs, String pinnedEbpfSha256) {
        Batch batch = start(jobs.size());
        jobs.forEach(batch::submit);
        return batch.finish(pinnedEbpfSha256);
    }

    /**
     * Opens a batch that accepts machines as they become reachable (e.g. each as soon as the cloud reports it running),
     * so provisioning the first machines overlaps the boot of the others. The threads of {@code expected} machines (at
     * most {@code parallelism}) are started now, and machines beyond {@code expected} queue behind them. A thread's
     * start waits until the new thread has run, so machines reported together (a re-run's, all at once) would otherwise
     * be handed over one thread start apart while the first of them already take every core: 1-2 s for the last of
     * thirty on a busy 2-core host.
     */
    public Batch start(int expected) {
        return new Batch(expected);
    }

    /**
     * Machines fed one by one to the runner: {@link #submit} starts a machine at once (while fewer than
     * {@code parallelism} are in flight), {@link #finish} waits for all of them. Thread-safe.
     */
    public final class Batch {
        private final ThreadPoolExecutor executor;
        private final List<MachineJob> jobs = new ArrayList<>();
        private final List<Future<MachineResult>> futures = new ArrayList<>();
        private final List<MachineResult> refused = new ArrayList<>();
        private volatile boolean interrupted;

        private Batch(int expected) {
            AtomicInteger threadNo = new AtomicInteger();
            // A thread per machine up to parallelism (started now for an expected count, else on demand), then a queue.
            int threads = expected > 0 ? Math.min(expected, parallelism) : parallelism;
            executor = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS,
                    new LinkedBlockingQueue<>(), r -> {
                        Thread t = new Thread(r, "provision-" + threadNo.incrementAndGet());
                        t.setDaemon(true);
                        return t;
                    });
            if (expected > 0) {
                executor.prestartAllCoreThreads();
            }
        }

        /** Starts provisioning this machine (or queues it behind {@code parallelism} others). */
        public void submit(MachineJob job) {
            submit(job, UnaryOperator.identity());
        }

        /**
         * As {@link #submit(MachineJob)}, {@code completing} finishing the job on the machine's own thread before it
         * connects (see {@link Pipeline#provision(MachineJob, UnaryOperator, ProvisionListener)}): whoever feeds the
         * batch hands machines over at once instead of preparing each in turn.
         */
        public synchronized void submit(MachineJob job, UnaryOperator<MachineJob> completing) {
            jobs.add(job);
            futures.add(executor.submit(() -> cancelled ? interrupted(job)
                    : pipeline.provision(job, completing, listener)));
        }

        /**
         * Records a machine that never became reachable (it failed at {@code step}, e.g. {@code launch}): in the ledger
         * and on the display like any failure, and among {@link #finish}'s results.
         */
        public synchronized void failedBefore(int attendee, String name, String publicIp, String step, String reason) {
            listener.failed(attendee, name, step, reason, List.of());
            listener.phase(attendee, name, ProvisionPhase.FAILED);
            refused.add(new MachineResult(attendee, name, publicIp, false, step, reason, List.of(), null));
        }

        /**
         * Waits for every submitted machine and returns all results (with {@link #failedBefore} ones) in attendee order;
         * then compares exporter hashes as {@link Runner#run} does. No machine may be submitted afterwards.
         *
         * @param pinnedEbpfSha256 the exporter hash given by the facilitator, or empty/null when none was pinned
         */
        public List<MachineResult> finish(String pinnedEbpfSha256) {
            List<MachineJob> submitted;
            List<Future<MachineResult>> pending;
            synchronized (this) {
                executor.shutdown();
                submitted = List.copyOf(jobs);
                pending = List.copyOf(futures);
            }
            List<MachineResult> results = new ArrayList<>();
            long stopBy = 0;
            for (int i = 0; i < submitted.size(); i++) {
                Future<MachineResult> f = pending.get(i);
                MachineJob job = submitted.get(i);
                while (true) {
                    try {
                        results.add(interrupted ? awaitAfterStop(f, job, stopBy) : await(f, job));
                        break;
                    } catch (InterruptedException e) {
                        // Ctrl-C reached this thread: stop every machine, then wait (briefly) for each to record where
                        // it stopped. The interrupt is not kept: it would keep this thread from writing the ledger.
                        interrupted = true;
                        stopBy = System.nanoTime() + STOP_WAIT.toNanos();
                        cancel();
                    }
                }
            }
            synchronized (this) {
                results.addAll(refused);
            }
            results.sort(Comparator.comparingInt(MachineResult::attendee));
            if (pinnedEbpfSha256 == null || pinnedEbpfSha256.isBlank()) {
                if (!results.isEmpty()) {
                    results = compareExporterHashes(results);
                }
            } else if (results.stream().anyMatch(MachineResult::ok)) {
                // A machine verified its download against the pin: later runs without the option keep it.
                ledger.putSetting(EBPF_SETTING, pinnedEbpfSha256);
            }
            return results;
        }

        /**
         * True when the thread in {@link #finish} was interrupted: the run was stopped, every machine not ready is
         * recorded as interrupted, and the command should end with {@link #INTERRUPTED_NOTICE} and
         * {@link ExitCode#INTERRUPTED}.
         */
        public boolean wasInterrupted() {
            return interrupted;
        }

        /**
         * Waits up to {@code timeout} for the machines in flight to stop (after {@link Runner#cancel()} they end as
         * "interrupted" with their record written). Returns at once when none was submitted.
         */
        public void awaitStopped(Duration timeout) {
            List<Future<MachineResult>> pending;
            synchronized (this) {
                pending = List.copyOf(futures);
            }
            long end = System.nanoTime() + timeout.toNanos();
            for (Future<MachineResult> f : pending) {
                try {
                    f.get(Math.max(0, end - System.nanoTime()), TimeUnit.NANOSECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                } catch (ExecutionException | java.util.concurrent.CancellationException e) {
                    // stopped, one way or another
                } catch (java.util.concurrent.TimeoutException e) {
                    return;
                }
            }
        }
    }

    /**
     * Stops the run: machines not started are skipped, machines in flight have their connections closed and end as
     * failed "interrupted". Worker threads are deliberately not interrupted: an interrupted thread cannot write the
     * ledger (its FileChannel closes on interrupt), and the record of where each machine stopped is what makes the
     * re-run resume.
     */
    public void cancel() {
        cancelled = true;
        pipeline.abort();
    }

    private MachineResult await(Future<MachineResult> f, MachineJob job) throws InterruptedException {
        try {
            return f.get();
        } catch (ExecutionException e) {
            return internalError(job, e);
        } catch (java.util.concurrent.CancellationException e) {
            return interrupted(job);
        }
    }

    /** A machine of a stopped run: its own result if it stops by {@code stopBy} (nanoTime), else recorded here. */
    private MachineResult awaitAfterStop(Future<MachineResult> f, MachineJob job, long stopBy) throws InterruptedException {
        try {
            return f.get(Math.max(0, stopBy - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            return interrupted(job);
        } catch (ExecutionException e) {
            return internalError(job, e);
        } catch (java.util.concurrent.CancellationException e) {
            return interrupted(job);
        }
    }

    private MachineResult internalError(MachineJob job, ExecutionException e) {
        // Pipeline.provision returns failures; an exception here is a bug, still confined to this machine.
        String why = "internal error: " + e.getCause();
        listener.failed(job.attendee(), job.name(), "internal", why, List.of());
        return MachineResult.failed(job, "internal", why, List.of());
    }

    private MachineResult interrupted(MachineJob job) {
        String why = "interrupted before it finished; re-run up to resume";
        listener.failed(job.attendee(), job.name(), "interrupted", why, List.of());
        return MachineResult.failed(job, "interrupted", why, List.of());
    }

    private List<MachineResult> compareExporterHashes(List<MachineResult> results) {
        String agreed = exporterPin(null, ledger);
        agreed = agreed.isEmpty() ? null : agreed;
        String firstMachine = "an earlier run";
        if (agreed == null) {
            for (MachineResult r : results) {
                if (r.ok() && r.ebpfExporterSha256() != null) {
                    agreed = r.ebpfExporterSha256();
                    firstMachine = r.name();
                    ledger.putSetting(EBPF_SETTING, agreed);
                    break;
                }
            }
        }
        if (agreed == null) {
            return results;
        }
        List<MachineResult> checked = new ArrayList<>();
        for (MachineResult r : results) {
            if (r.ok() && r.ebpfExporterSha256() != null && !r.ebpfExporterSha256().equals(agreed)) {
                String why = "ebpf_exporter.x86_64 has SHA-256 " + r.ebpfExporterSha256() + " but " + firstMachine
                        + " saw " + agreed + ": the download differs between machines; pin one with the exporter hash setting";
                listener.failed(r.attendee(), r.name(), "ebpf_exporter", why, List.of());
                checked.add(r.failedAfterwards("ebpf_exporter", why));
            } else {
                checked.add(r);
            }
        }
        return checked;
    }
}
