package org.workshopfleet.provision;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.workshopfleet.render.Bundle;
import org.workshopfleet.render.BundleFile;
import org.workshopfleet.render.Renderer;
import org.workshopfleet.render.SetupStep;
import org.workshopfleet.ssh.Remote;
import org.workshopfleet.ssh.SshLogin;

/**
 * Everything a machine needs after login, in one SSH command under one {@code sudo}: wait for cloud-init's result
 * file, receive the bundle on stdin and unpack it, then run the setup steps. On a lab host thirty machines share two
 * cores, and every SSH session (sshd child, PAM session, logind) and every sudo (PAM again) is paid per machine, so one
 * session per machine instead of one per phase and per step is what keeps thirty machines as fast as one.
 *
 * <p>The conversation, driven by the root shell script rendered from templates/session/machine-session.sh.ftl and read
 * by {@link SessionTranscript}:
 * <ol>
 *   <li>The script polls for cloud-init's result file ({@link CloudInitWait}) and prints it between frames; this side
 *       reads {@code v1.errors}.</li>
 *   <li>This side answers on stdin with one line: {@code bundle <bytes> <token>} followed by the bundle's tar, or
 *       {@code tail} (cloud-init failed: the script prints the tail of cloud-init's output log and stops). Nothing is
 *       sent before cloud-init is over, so the bundle never lands on a machine whose boot failed.</li>
 *   <li>The script takes the machine's session lock ({@link MachineLayout#sessionLock()}, {@code flock}) for the rest
 *       of the session: a session whose connection dropped may still be running its steps on the machine, and a
 *       re-run's session must neither unpack over it nor run steps beside it. It waits {@link #LOCK_WAIT} at most,
 *       then fails the machine as busy with nothing changed.</li>
 *   <li>The script unpacks the tar straight from stdin: a machine's first bundle into the root itself (removed again
 *       on failure), a later one into a fresh folder {@code <root>.new} that replaces the old root only when
 *       {@code tar} succeeded and the archive's last member, {@value #TRANSFER_MARK}, holds the token: a
 *       connection cut inside a member makes {@code tar} fail, and one cut between members (which {@code tar} would
 *       take for a whole archive) loses that last member. The token is fresh per run, so no earlier transfer's mark
 *       counts. No copy of the tar lands on disk and no checksum program runs: on a lab host every program a machine
 *       starts is CPU that thirty machines pay at once.</li>
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

    /** The bundle root's file, last in the transferred archive, that holds the transfer's token. */
    static final String TRANSFER_MARK = ".transfer-complete";

    /**
     * How long a session waits for an earlier session on the same machine ({@link MachineLayout#sessionLock()}) before
     * it fails the machine as busy, having changed nothing. Short on purpose. An earlier session whose connection is
     * gone (Ctrl-C, a reset, a killed sshd) ends at its next write: within seconds while its step prints, at the
     * latest when the step ends and the script writes its frame; two minutes cover that for most steps. One that still
     * holds the lock after that is in a step that runs long without output, on a connection that vanished without
     * sshd noticing (sshd keeps such a session until TCP gives up on the connection: about 15 minutes with Linux's
     * default {@code tcp_retries2}, see "IP Sysctl" in the kernel's documentation), or hung. Waiting that long would
     * stall {@code up} as a whole with nothing on screen; failing the machine instead lets {@code up} end on time
     * (moving the seat onto a spare when there is one) and tells the facilitator to re-run {@code up} a few minutes
     * later, which skips every step the earlier session finished.
     */
    static final Duration LOCK_WAIT = Duration.ofMinutes(2);

    private static final SecureRandom RANDOM = new SecureRandom();

    private final MachineLayout layout;
    private final SshLogin login;
    private final Duration cloudInitTimeout;
    private final String nonce;
    private final Duration lockWait;

    MachineSession(MachineLayout layout, SshLogin login, Duration cloudInitTimeout) {
        this(layout, login, cloudInitTimeout, HexFormat.of().formatHex(randomBytes()), LOCK_WAIT);
    }

    MachineSession(MachineLayout layout, SshLogin login, Duration cloudInitTimeout, String nonce) {
        this(layout, login, cloudInitTimeout, nonce, LOCK_WAIT);
    }

    /** @param lockWait how long to wait for another session on the machine (whole seconds, at least one) */
    MachineSession(MachineLayout layout, SshLogin login, Duration cloudInitTimeout, String nonce, Duration lockWait) {
        this.layout = layout;
        this.login = login;
        this.cloudInitTimeout = cloudInitTimeout;
        this.nonce = nonce;
        this.lockWait = lockWait;
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

        /** Another session holds the machine's lock; this one waits for it ({@link #LOCK_WAIT} at most). */
        void waitingForEarlierSession();

        /** The bundle is unpacked; the steps start. */
        void stepsStarting();

        void started(int index, SetupStep step);

        void finished(int index, SetupStep step, boolean skipped);
    }

    /**
     * The root shell script for {@code steps}; {@code withObserved} adds the exporter hash read at the end. Every
     * string reaches the script as a single-quoted shell word.
     */
    String script(List<SetupStep> steps, boolean withObserved) {
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("nonce", nonce);
        model.put("layout", layout.asModel());
        model.put("polls", CloudInitWait.polls(cloudInitTimeout));
        model.put("lockWait", Math.max(1, lockWait.toSeconds()));
        model.put("tailLines", Pipeline.TAIL_LINES);
        model.put("markerFailed", Pipeline.MARKER_FAILED);
        model.put("transferMark", TRANSFER_MARK);
        model.put("steps", steps.stream()
                .map(s -> Map.of("name", s.name(), "script", s.script(), "hash", s.contentHash())).toList());
        if (withObserved) {
            model.put("observedFile", layout.ebpfExporterHashFile());
        }
        return Renderer.sessionScript(model);
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
    Outcome run(Remote remote, Bundle bundle, List<SetupStep> steps, boolean withObserved, Path log, Events events) {
        String script = script(steps, withObserved);
        String token = HexFormat.of().formatHex(randomBytes());
        byte[] tar = transfer(bundle, token);
        CompletableFuture<Boolean> send = new CompletableFuture<>();
        SessionTranscript transcript;
        int exit;
        try (OutputStream file = Files.newOutputStream(log, StandardOpenOption.CREATE, StandardOpenOption.APPEND,
                StandardOpenOption.WRITE)) {
            transcript = new SessionTranscript(nonce, steps, layout, login.sudo(), cloudInitTimeout, file, events,
                    send::complete, tar.length, bundle.files().size());
            String header = "bundle " + tar.length + " " + token + "\n";
            try {
                exit = remote.stream(login.sudo() + "sh -c " + Renderer.shellQuoted(script) + " wf-provision",
                        transcript, in -> {
                            boolean bundleGoes = await(send);
                            in.write((bundleGoes ? header : "tail\n").getBytes(StandardCharsets.US_ASCII));
                            if (bundleGoes) {
                                in.write(tar);
                            }
                        });
            } finally {
                // Releases the writer if the session ended before cloud-init's verdict arrived.
                send.cancel(false);
            }
            transcript.close();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + log, e);
        }
        return transcript.outcome(exit, withObserved);
    }

    /**
     * What goes on stdin after the {@code bundle} line: the bundle's tar with {@value #TRANSFER_MARK} holding
     * {@code token} as its last member.
     */
    static byte[] transfer(Bundle bundle, String token) {
        List<BundleFile> files = new ArrayList<>(bundle.files());
        files.add(new BundleFile(TRANSFER_MARK, (token + "\n").getBytes(StandardCharsets.US_ASCII), 0600));
        return new Bundle(bundle.machineName(), files, bundle.steps()).toTar();
    }

    private static boolean await(CompletableFuture<Boolean> send) throws InterruptedException, IOException {
        try {
            return send.get();
        } catch (ExecutionException | java.util.concurrent.CancellationException e) {
            throw new IOException("no answer to send: the session ended", e);
        }
    }

}
