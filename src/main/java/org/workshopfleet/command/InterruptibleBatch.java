package org.workshopfleet.command;

import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import org.workshopfleet.provision.MachineResult;
import org.workshopfleet.provision.Runner;

/**
 * Runs {@code up}'s launch (which feeds the batch) and then waits for the batch, with a Ctrl-C hook that cancels the
 * runner and waits (briefly) for the machines in flight to record where they stopped. If launching fails, the machines
 * already in flight are stopped the same way before the error goes on.
 */
final class InterruptibleBatch {

    private final Runner runner;
    private final Runner.Batch batch;
    private final PrintStream out;

    InterruptibleBatch(Runner runner, Runner.Batch batch, PrintStream out) {
        this.runner = runner;
        this.batch = batch;
        this.out = out;
    }

    /** Runs {@code launch}, then returns the batch's results (see {@link Runner.Batch#finish}). */
    List<MachineResult> run(String exporterPin, Runnable launch) {
        Thread hook = new Thread(() -> {
            runner.cancel();
            batch.awaitStopped(Duration.ofSeconds(20));
            // The JVM ends with 130 after this hook (SIGINT); the main thread may not get to print anything.
            out.println(Runner.INTERRUPTED_NOTICE);
        }, "workshop-fleet-interrupt");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            try {
                launch.run();
            } catch (RuntimeException e) {
                // An interrupt (Ctrl-C in-process) is set aside so that the wait below and the machines' records work.
                boolean interrupted = Thread.interrupted();
                runner.cancel();
                batch.awaitStopped(Duration.ofSeconds(20));
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
                throw e;
            }
            return batch.finish(exporterPin);
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // The JVM is exiting (Ctrl-C): the hook is running and waits for the machines in flight.
            }
        }
    }
}
