package org.workshopfleet.ssh;

import org.workshopfleet.error.FleetException;
import org.workshopfleet.error.Interrupted;
import org.workshopfleet.error.MachineFailure;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.ServerSocket;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.function.Supplier;
import net.schmizz.sshj.DefaultConfig;
import net.schmizz.sshj.SSHClient;
import net.schmizz.sshj.connection.channel.direct.Parameters;
import net.schmizz.sshj.connection.channel.direct.Session;
import net.schmizz.sshj.transport.TransportException;
import net.schmizz.sshj.userauth.UserAuthException;
import net.schmizz.sshj.userauth.keyprovider.KeyProvider;

/**
 * An SSH connection (sshj) to one machine, authenticated with the workshop's login key, after the machine proved it
 * holds the host key pinned for it. Runs commands with their output appended to a log file or streamed to the caller
 * (with the caller writing their input, as one machine's provisioning conversation does), and forwards local ports to
 * the machine's loopback.
 *
 * <p>Secrets never reach a log through this class: input is never echoed, and {@link #runQuiet} logs a
 * description instead of the command line. Not thread-safe for concurrent commands; one machine, one thread.
 */
public final class Remote implements AutoCloseable {

    /** How long key refusals are retried (cloud-init may install the key after sshd starts). */
    static final Duration AUTH_GRACE = Duration.ofSeconds(90);

    private final SSHClient client;
    private final SshTarget target;
    private final SshLogin login;

    private Remote(SSHClient client, SshTarget target, SshLogin login) {
        this.client = client;
        this.target = target;
        this.login = login;
    }

    /** The result of a command whose output was captured in memory. */
    public record Result(int exitCode, String stdout, String stderr) {
        public boolean ok() {
            return exitCode == 0;
        }
    }

    /** How long a connection attempt may take to reach the server and finish the key exchange. */
    static final int HANDSHAKE_TIMEOUT_MS = 10_000;

    /**
     * One sshj configuration for every client. Making a {@code DefaultConfig} instantiates every cipher sshj knows to
     * see which this JVM supports (Twofish's key schedule among them) and a fresh {@code SecureRandom}: about 1 ms of
     * CPU per connection, paid by every machine in the CPU-bound first seconds of a fleet's provisioning. The
     * factories it holds make fresh per-connection instances, and its one random source is synchronized.
     */
    private static final DefaultConfig CONFIG = new DefaultConfig();

    /**
     * Connects, retrying with backoff (1 s doubling to 10 s, the last attempt when {@code timeout} ends) while the
     * machine boots: connection refused, timeouts, resets or silence during the handshake, and authentication refused
     * (the login key may not be installed yet).
     * A host key other than the pinned one aborts at once with {@link HostKeyMismatchException}.
     *
     * @throws FleetException when no login succeeded within {@code timeout}, naming the last reason
     */
    public static Remote await(SshTarget target, SshLogin login, Duration timeout) {
        return await(target, login, timeout, BootHostKey.BEFORE_SSHD, new StopSignal());
    }

    /**
     * As {@link #await(SshTarget, SshLogin, Duration)}, where {@code bootKey} says what another host key means while
     * the machine boots: with {@link BootHostKey#AFTER_LAUNCH_SCRIPT} it is retried like a refused connection (the
     * attempt ends in the key exchange, before anything of ours is sent: no user name, no key, no password) and only a
     * mismatch still seen when {@code timeout} ends throws {@link HostKeyMismatchException}. {@code stop} ends the
     * wait at once ({@link StopSignal}), as does an interrupt of the calling thread.
     *
     * @throws FleetException when no login succeeded within {@code timeout}, or the wait was stopped or interrupted
     */
    public static Remote await(SshTarget target, SshLogin login, Duration timeout, BootHostKey bootKey,
                               StopSignal stop) {
        return await(target, login, timeout, bootKey, stop, Remote::newClient);
    }

    /**
     * As {@link #await(SshTarget, SshLogin, Duration, BootHostKey, StopSignal)}, each attempt's client made by
     * {@code newClient} (a test holds an attempt there, before it has a socket).
     */
    static Remote await(SshTarget target, SshLogin login, Duration timeout, BootHostKey bootKey, StopSignal stop,
                        Supplier<SSHClient> newClient) {
        Instant deadline = Instant.now().plus(timeout);
        long delayMs = 1000;
        String lastReason;
        Instant refusedSince = null;
        while (true) {
            HostKeyMismatchException mismatch = null;
            checkStopped(stop);
            try {
                return connect(target, login, stop, newClient);
            } catch (HostKeyMismatchException e) {
                if (bootKey == BootHostKey.BEFORE_SSHD) {
                    throw e;
                }
                // The image's own key, until the launch script installs the pinned one and restarts sshd.
                mismatch = e;
                lastReason = "it still presents another host key than the pinned one";
                refusedSince = null;
            } catch (RetryableConnectFailure e) {
                lastReason = e.getMessage();
                if (e.authRefused) {
                    refusedSince = refusedSince == null ? Instant.now() : refusedSince;
                } else {
                    refusedSince = null;
                }
            }
            checkStopped(stop);
            // A machine that answers but keeps refusing the key will not change its mind after boot settles.
            boolean refusedTooLong = refusedSince != null && Instant.now().isAfter(refusedSince.plus(AUTH_GRACE));
            long leftMs = Duration.between(Instant.now(), deadline).toMillis();
            if (refusedTooLong || leftMs <= 0) {
                if (mismatch != null) {
                    throw mismatch; // the launch script had its time: the machine is not the one we pinned
                }
                throw new MachineFailure("no SSH login to " + login.user() + "@" + target + " within "
                        + (refusedTooLong ? AUTH_GRACE.toSeconds() + " s of refusals" : timeout.toSeconds() + " s")
                        + " (last: " + lastReason + "): check the machine's console output"
                        + " and that the CIDR admits this computer");
            }
            try {
                // The last pause ends at the deadline, so the last attempt sees the machine as the timeout ends.
                stop.pause(Math.min(delayMs, leftMs));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            checkStopped(stop);
            delayMs = Math.min(delayMs * 2, 10_000);
        }
    }

    private static void checkStopped(StopSignal stop) {
        if (stop.isStopped() || Thread.currentThread().isInterrupted()) {
            throw new Interrupted("waiting for SSH");
        }
    }

    /** One attempt; see {@link #await}. */
    static Remote connect(SshTarget target, SshLogin login) {
        return connect(target, login, new StopSignal(), Remote::newClient);
    }

    /**
     * One attempt, cancelled at once by {@code stop} or an interrupt of this thread, also one that arrives while the
     * client is still being made ({@link AttemptSockets}); it then fails as retryable, and {@link #await} reports the
     * stop or interrupt.
     */
    static Remote connect(SshTarget target, SshLogin login, StopSignal stop, Supplier<SSHClient> newClient) {
        PinnedHostKeyVerifier verifier = new PinnedHostKeyVerifier(target.pinnedHostKey());
        AttemptSockets sockets = new AttemptSockets();
        stop.track(sockets);
        InterruptWatch.begin(sockets);
        try {
            SSHClient client = newClient.get();
            client.setSocketFactory(sockets);
            client.addHostKeyVerifier(verifier);
            client.setConnectTimeout(HANDSHAKE_TIMEOUT_MS);
            // Bounds the wait for the server's first line: a port that accepts and never speaks is a machine booting.
            client.setTimeout(HANDSHAKE_TIMEOUT_MS);
            return attempt(client, verifier, target, login);
        } finally {
            InterruptWatch.end();
            stop.untrack(sockets);
        }
    }

    /** A new client; sshj's first one in a JVM takes about 1 s to make on a busy host. */
    private static SSHClient newClient() {
        return new SSHClient(CONFIG);
    }

    private static Remote attempt(SSHClient client, PinnedHostKeyVerifier verifier, SshTarget target, SshLogin login) {
        try {
            client.connect(target.host(), target.port());
            // Connected: commands may be silent for long, so reads wait without limit (keep-alives detect a dead peer).
            client.getSocket().setSoTimeout(0);
        } catch (TransportException e) {
            closeQuietly(client);
            if (verifier.presentedFingerprint() != null) {
                throw new HostKeyMismatchException(target.toString(), verifier.expectedFingerprint(),
                        verifier.presentedFingerprint());
            }
            throw new RetryableConnectFailure("handshake failed: " + e.getMessage());
        } catch (ConnectException | SocketTimeoutException | NoRouteToHostException e) {
            closeQuietly(client);
            throw new RetryableConnectFailure(e.getClass().getSimpleName() + ": " + e.getMessage());
        } catch (UnknownHostException e) {
            closeQuietly(client);
            throw new MachineFailure("unknown host '" + target.host() + "': check the machine's address in the ledger");
        } catch (IOException e) {
            closeQuietly(client);
            throw new RetryableConnectFailure(e.getClass().getSimpleName() + ": " + e.getMessage());
        }
        try {
            client.getConnection().getKeepAlive().setKeepAliveInterval(15);
            KeyProvider key = client.loadKeys(login.key().privateKeyOpenSsh(), login.key().publicKeyLine(), null);
            client.authPublickey(login.user(), key);
            return new Remote(client, target, login);
        } catch (UserAuthException e) {
            closeQuietly(client);
            throw new RetryableConnectFailure("login as " + login.user() + " with the workshop key was refused", true);
        } catch (IOException e) {
            closeQuietly(client);
            throw new RetryableConnectFailure(e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }

    /**
     * Whether {@code user} can log in with {@code password} (SSH "password" method), after the machine proved its
     * pinned host key. Used by {@code verify} to check the attendee's handout works; the password is never logged.
     * An interrupt of the calling thread (Ctrl-C) ends the check at once, as it ends {@link #await}.
     *
     * @throws HostKeyMismatchException when the machine presents another host key than the pinned one
     * @throws Interrupted              when the calling thread was interrupted; its interrupt flag stays set
     */
    public static boolean passwordAccepted(SshTarget target, String user, String password) {
        return passwordAccepted(target, user, password, HANDSHAKE_TIMEOUT_MS);
    }

    /**
     * As {@link #passwordAccepted(SshTarget, String, String)}, every read (the server's first line, the key exchange,
     * the answer to the password) bounded by {@code timeoutMs}: a machine that accepts the connection and then stays
     * silent is a refusal, never a hung {@code verify}.
     */
    static boolean passwordAccepted(SshTarget target, String user, String password, int timeoutMs) {
        if (Thread.currentThread().isInterrupted()) {
            throw new Interrupted("checking a password login on " + target);
        }
        PinnedHostKeyVerifier verifier = new PinnedHostKeyVerifier(target.pinnedHostKey());
        // Cancelled on an interrupt wherever the check is, as an attempt of await is (see connect): neither the socket
        // connect nor the read of the server's first line would notice the interrupt before timeoutMs.
        AttemptSockets sockets = new AttemptSockets();
        InterruptWatch.begin(sockets);
        SSHClient client = null;
        try {
            client = newClient();
            client.setSocketFactory(sockets);
            client.addHostKeyVerifier(verifier);
            client.setConnectTimeout(timeoutMs);
            client.setTimeout(timeoutMs);
            client.getTransport().setTimeoutMs(timeoutMs);
            client.connect(target.host(), target.port());
            client.authPassword(user, password);
            return client.isAuthenticated();
        } catch (UserAuthException e) {
            checkInterrupted(e, target);
            return false;
        } catch (TransportException e) {
            if (verifier.presentedFingerprint() != null) {
                throw new HostKeyMismatchException(target.toString(), verifier.expectedFingerprint(),
                        verifier.presentedFingerprint());
            }
            checkInterrupted(e, target);
            return false;
        } catch (IOException e) {
            checkInterrupted(e, target);
            return false;
        } finally {
            InterruptWatch.end();
            if (client != null) {
                closeQuietly(client);
            }
        }
    }

    /**
     * Throws {@link Interrupted} when the password check failed because this thread was interrupted: its socket was
     * closed by {@link InterruptWatch}, or sshj's wait for the key exchange or the server's answer
     * ({@code net.schmizz.concurrent.Promise.tryRetrieve}) took the interrupt and gave it back as the cause of its
     * exception. sshj (0.39.0) sets the interrupt flag again there itself; the cause is looked for too, so that an
     * interrupt still counts should a wait hand it on without the flag.
     */
    private static void checkInterrupted(IOException failure, SshTarget target) {
        Throwable t = failure;
        for (int depth = 0; t != null && depth < 16; depth++, t = t.getCause()) { // bounded: a chain may loop
            if (t instanceof InterruptedException) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        if (Thread.currentThread().isInterrupted()) {
            throw new Interrupted("checking a password login on " + target, failure);
        }
    }

    public SshTarget target() {
        return target;
    }

    public SshLogin login() {
        return login;
    }

    /**
     * Runs {@code command}, appending a {@code $ command} line, then its stdout and stderr as they arrive, to
     * {@code log}. Returns the exit code (-1 when the command died without one, e.g. by a signal).
     * Never use this for a command line that holds a secret; see {@link #runQuiet}.
     */
    public int run(String command, Path log) {
        return run(command, "$ " + command, log);
    }

    /** Like {@link #run}, but logs {@code description} instead of the command line (for commands holding secrets). */
    public int runQuiet(String command, String description, Path log) {
        return run(command, "$ (" + description + ")", log);
    }

    private int run(String command, String header, Path log) {
        try {
            Files.createDirectories(log.toAbsolutePath().getParent());
            try (OutputStream file = Files.newOutputStream(log, StandardOpenOption.CREATE, StandardOpenOption.APPEND,
                    StandardOpenOption.WRITE)) {
                OutputStream out = new SynchronizedOutputStream(file);
                out.write((header + "\n").getBytes(StandardCharsets.UTF_8));
                out.flush();
                // One stream on the machine keeps stdout and stderr in the order they were written, so the log's
                // tail (shown for a failure) ends with the error that stopped the step.
                return execute("exec 2>&1; " + command, out, out, null);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("command on " + target + " failed: " + e.getMessage(), e);
        }
    }

    /**
     * Runs {@code command} with its stderr merged into its stdout on the machine (so the two keep their order) and
     * hands the output to {@code sink} as it arrives, as raw bytes, in order; returns the exit code (-1 when the command
     * died without one, e.g. by a signal). The command's stdin is closed at once. Closing this connection
     * ({@link #close()}) ends the call with an {@link UncheckedIOException}. Nothing is logged here: the caller decides
     * what reaches a log.
     */
    public int stream(String command, OutputStream sink) {
        return stream(command, sink, in -> { });
    }

    /**
     * As {@link #stream(String, OutputStream)}, while {@code stdin} writes the command's standard input on a thread of
     * its own (so it may wait for something {@code sink} has seen, as a conversation does); the input is closed when
     * {@code stdin} returns. If the command ends first, the writing thread is interrupted and its failure ignored: the
     * command's output and exit code tell what happened.
     */
    public int stream(String command, OutputStream sink, StdinSource stdin) {
        try {
            OutputStream out = new SynchronizedOutputStream(sink);
            return execute("exec 2>&1; " + command, out, out, stdin);
        } catch (IOException e) {
            throw new UncheckedIOException("command on " + target + " failed: " + e.getMessage(), e);
        }
    }

    /** Writes a command's standard input; see {@link #stream(String, OutputStream, StdinSource)}. */
    @FunctionalInterface
    public interface StdinSource {
        /**
         * Writes to {@code in} (closed by the caller afterwards).
         *
         * @throws InterruptedException when the command ended before the input was complete
         */
        void writeTo(OutputStream in) throws IOException, InterruptedException;
    }

    /** Runs {@code command} and captures its output in memory (for short answers such as marker lists). */
    public Result exec(String command) {
        return exec(command, null);
    }

    /** Runs {@code command} with {@code stdin} as its standard input, capturing the output. */
    public Result exec(String command, byte[] stdin) {
        ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        ByteArrayOutputStream stderr = new ByteArrayOutputStream();
        try {
            int code = execute(command, stdout, stderr, stdin == null ? null : in -> in.write(stdin));
            return new Result(code, stdout.toString(StandardCharsets.UTF_8), stderr.toString(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("command on " + target + " failed: " + e.getMessage(), e);
        }
    }

    private int execute(String command, OutputStream stdout, OutputStream stderr, StdinSource stdin)
            throws IOException {
        try (Session session = client.startSession()) {
            Session.Command cmd = session.exec(command);
            Thread feeder = stdin == null ? null : feed(cmd.getOutputStream(), stdin, "ssh-stdin-" + target);
            Thread errPump = pump(cmd.getErrorStream(), stderr, "ssh-stderr-" + target);
            try {
                copy(cmd.getInputStream(), stdout);
                errPump.join();
                cmd.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while running a command on " + target);
            } finally {
                if (feeder != null) {
                    // The command is over (or the connection gone): input it never read has nowhere to go.
                    feeder.interrupt();
                }
            }
            Integer status = cmd.getExitStatus();
            return status == null ? -1 : status;
        }
    }

    private static Thread feed(OutputStream in, StdinSource source, String name) {
        Thread t = new Thread(() -> {
            try (in) {
                source.writeTo(in);
            } catch (IOException | InterruptedException | RuntimeException ignored) {
                // The command ended or the connection closed; its output and exit status tell the outcome.
            }
        }, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** Forwards a new local port on 127.0.0.1 to {@code 127.0.0.1:remotePort} as seen from the machine. */
    public PortForward forward(int remotePort) {
        try {
            ServerSocket socket = new ServerSocket();
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            Parameters params = new Parameters("127.0.0.1", socket.getLocalPort(), "127.0.0.1", remotePort);
            return new PortForward(socket, client.newLocalPortForwarder(params, socket), "ssh-forward-" + target);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot forward a local port to " + target + ":" + remotePort, e);
        }
    }

    public boolean isConnected() {
        return client.isConnected() && client.isAuthenticated();
    }

    @Override
    public void close() {
        closeQuietly(client);
    }

    @Override
    public String toString() {
        return "Remote[" + login.user() + "@" + target + "]";
    }

    private static Thread pump(InputStream in, OutputStream out, String name) {
        Thread t = new Thread(() -> {
            try {
                copy(in, out);
            } catch (IOException ignored) {
                // The channel closed; the exit status tells the outcome.
            }
        }, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static void copy(InputStream in, OutputStream out) throws IOException {
        byte[] buf = new byte[8192];
        for (int n; (n = in.read(buf)) > 0; ) {
            out.write(buf, 0, n);
            out.flush();
        }
    }

    private static void closeQuietly(SSHClient client) {
        try {
            client.disconnect();
        } catch (IOException | RuntimeException ignored) {
            // best effort
        }
    }

    /** A connection attempt that may succeed later (the machine is still booting). */
    static final class RetryableConnectFailure extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final boolean authRefused;

        RetryableConnectFailure(String message) {
            this(message, false);
        }

        RetryableConnectFailure(String message, boolean authRefused) {
            super(message, null, false, false);
            this.authRefused = authRefused;
        }
    }

    /** Lets the stdout and stderr pumps share one log file without tearing each other's writes. */
    private static final class SynchronizedOutputStream extends OutputStream {
        private final OutputStream out;

        SynchronizedOutputStream(OutputStream out) {
            this.out = out;
        }

        @Override
        public synchronized void write(int b) throws IOException {
            out.write(b);
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
        }

        @Override
        public synchronized void flush() throws IOException {
            out.flush();
        }
    }
}
