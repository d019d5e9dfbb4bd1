package org.workshopfleet.ssh;

import org.workshopfleet.error.FleetException;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import net.schmizz.sshj.DefaultConfig;
import net.schmizz.sshj.SSHClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link Remote} against a real OpenSSH server on loopback. */
class RemoteTest {

    static final SshKeyPair LOGIN = SshKeyPair.generate("test-login");
    static LoopbackSshd sshd;
    @TempDir
    static Path dir;

    @BeforeAll
    static void startSshd() throws IOException {
        LoopbackSshd.assumeAvailable();
        sshd = LoopbackSshd.start(dir.resolve("sshd"), LOGIN);
    }

    @AfterAll
    static void stopSshd() {
        if (sshd != null) {
            sshd.close();
        }
    }

    private static Remote connect() {
        return Remote.await(sshd.target(), new SshLogin(LoopbackSshd.user(), LOGIN), Duration.ofSeconds(20));
    }

    @Test
    void runsCommandsAndAppendsBothStreamsToTheLog() throws IOException {
        Path log = dir.resolve("logs/m1.log");
        try (Remote r = connect()) {
            assertEquals(0, r.run("echo out-one; echo err-one >&2", log));
            assertEquals(7, r.run("echo out-two; exit 7", log));
            Remote.Result res = r.exec("printf 'a\\nb'; echo e >&2; exit 3");
            assertEquals(3, res.exitCode());
            assertEquals("a\nb", res.stdout());
            assertEquals("e\n", res.stderr());
        }
        String text = Files.readString(log);
        assertTrue(text.contains("$ echo out-one; echo err-one >&2\n"), text);
        assertTrue(text.contains("out-one\n") && text.contains("err-one\n") && text.contains("out-two\n"), text);
        assertTrue(text.indexOf("out-one") < text.indexOf("out-two"), "appended in order: " + text);
    }

    @Test
    void runQuietLogsTheDescriptionNotTheCommand() throws IOException {
        Path log = dir.resolve("logs/quiet.log");
        try (Remote r = connect()) {
            assertEquals(0, r.runQuiet("true s3cret-value", "set a password", log));
        }
        String text = Files.readString(log);
        assertTrue(text.contains("set a password"), text);
        assertFalse(text.contains("s3cret-value"), text);
    }

    @Test
    void aConversationAnswersOnStdinWhatTheOutputAsked() throws Exception {
        byte[] payload = new byte[300_000];
        new java.util.Random(7).nextBytes(payload);
        CompletableFuture<Void> asked = new CompletableFuture<>();
        ByteArrayOutputStream seen = new ByteArrayOutputStream();
        OutputStream sink = new OutputStream() {
            @Override
            public void write(int b) {
                seen.write(b);
                if (seen.toString(StandardCharsets.UTF_8).contains("send it\n")) {
                    asked.complete(null);
                }
            }
        };
        try (Remote r = connect()) {
            // The machine asks first; the writer waits for the question, then answers with a line and binary data.
            int code = r.stream("echo 'send it'; IFS= read -r line; echo \"got $line\"; sha256sum | cut -d' ' -f1", sink,
                    in -> {
                        try {
                            asked.get();
                        } catch (java.util.concurrent.ExecutionException e) {
                            throw new IOException(e);
                        }
                        in.write("header\n".getBytes(StandardCharsets.UTF_8));
                        in.write(payload);
                    });
            assertEquals(0, code);
        }
        String expected = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(payload));
        assertEquals("send it\ngot header\n" + expected + "\n", seen.toString(StandardCharsets.UTF_8));
    }

    @Test
    void aWriterStillWaitingWhenTheCommandEndsIsReleased() {
        java.util.concurrent.CountDownLatch released = new java.util.concurrent.CountDownLatch(1);
        try (Remote r = connect()) {
            int code = r.stream("exit 3", OutputStream.nullOutputStream(), in -> {
                try {
                    Thread.sleep(60_000);
                } finally {
                    released.countDown();
                }
            });
            assertEquals(3, code);
        }
        try {
            assertTrue(released.await(10, java.util.concurrent.TimeUnit.SECONDS), "the waiting writer was interrupted");
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void forwardsALocalPortToTheMachinesLoopback() throws Exception {
        HttpServer http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        http.createContext("/api/health", ex -> {
            byte[] body = "{\"database\":\"ok\"}".getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        http.start();
        try (Remote r = connect(); PortForward fwd = r.forward(http.getAddress().getPort())) {
            assertTrue(fwd.localPort() != http.getAddress().getPort());
            HttpResponse<String> resp = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + fwd.localPort() + "/api/health")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, resp.statusCode());
            assertEquals("{\"database\":\"ok\"}", resp.body());
        } finally {
            http.stop(0);
        }
    }

    @Test
    void aForwardKeepsServingAfterTheMachineRefusedAConnection() throws Exception {
        int port;
        try (java.net.ServerSocket probe = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            port = probe.getLocalPort(); // free now: nothing listens there on the machine yet (Grafana still starting)
        }
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        try (Remote r = connect(); PortForward fwd = r.forward(port)) {
            HttpRequest health = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + fwd.localPort() + "/api/health"))
                    .timeout(Duration.ofSeconds(10)).build();
            assertThrows(IOException.class, () -> client.send(health, HttpResponse.BodyHandlers.ofString()));
            HttpServer http = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
            http.createContext("/api/health", ex -> {
                ex.sendResponseHeaders(200, -1);
                ex.close();
            });
            http.start();
            try {
                assertEquals(200, client.send(health, HttpResponse.BodyHandlers.discarding()).statusCode());
            } finally {
                http.stop(0);
            }
        }
    }

    @Test
    void aDifferentHostKeyAbortsBeforeLoggingIn() throws IOException {
        try (LoopbackSshd other = LoopbackSshd.start(dir.resolve("sshd-mismatch"), LOGIN)) {
            SshKeyPair pinned = SshKeyPair.generate("pinned-but-not-installed");
            SshTarget target = new SshTarget("127.0.0.1", other.port(), pinned.publicKeyNoComment());
            long t0 = System.nanoTime();
            HostKeyMismatchException e = assertThrows(HostKeyMismatchException.class,
                    () -> Remote.await(target, new SshLogin(LoopbackSshd.user(), LOGIN), Duration.ofSeconds(30)));
            assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(10).toNanos(), "aborts at once, no retry loop");
            assertTrue(e.getMessage().contains(pinned.fingerprint()), e.getMessage());
            assertTrue(e.getMessage().contains(other.hostKey().fingerprint()), e.getMessage());
            String sshdLog = Files.readString(other.dir().resolve("sshd.log"));
            assertFalse(sshdLog.contains("Accepted publickey"), "no login happened: " + sshdLog);
        }
    }

    @Test
    void waitsForSshToComeUp() throws Exception {
        LoopbackSshd server = LoopbackSshd.start(dir.resolve("sshd-late"), LOGIN);
        server.close(); // the "machine" is booting: its port refuses connections for a while
        CompletableFuture<LoopbackSshd> restart = CompletableFuture.supplyAsync(() -> {
            try {
                Thread.sleep(2500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return server.restart();
        });
        try (Remote r = Remote.await(server.target(), new SshLogin(LoopbackSshd.user(), LOGIN), Duration.ofSeconds(30))) {
            assertTrue(r.isConnected());
            assertEquals("up\n", r.exec("echo up").stdout());
        } finally {
            restart.get().close();
        }
    }

    @Test
    void givesUpAfterTheTimeoutNamingTheLastReason() throws IOException {
        int closedPort = LoopbackSshd.freePort();
        SshTarget nobody = new SshTarget("127.0.0.1", closedPort, LOGIN.publicKeyNoComment());
        Exception e = assertThrows(org.workshopfleet.error.MachineFailure.class,
                () -> Remote.await(nobody, new SshLogin("root", LOGIN), Duration.ofSeconds(3)));
        assertTrue(e.getMessage().contains("ConnectException"), e.getMessage());
    }

    @Test
    void aRefusedKeyIsReportedAsSuch() {
        SshKeyPair stranger = SshKeyPair.generate("not-authorised");
        FleetException e = assertThrows(FleetException.class,
                () -> Remote.await(sshd.target(), new SshLogin(LoopbackSshd.user(), stranger), Duration.ofSeconds(3)));
        assertTrue(e.getMessage().contains("was refused"), e.getMessage());
    }

    /** sshd's lines for a login attempt of any kind (LogLevel VERBOSE): none may appear for a refused host key. */
    static final java.util.regex.Pattern AUTH_LINE = java.util.regex.Pattern.compile(
            "Accepted |Failed |Postponed |authenticating user|Invalid user|userauth|Authentication");

    static void assertNoLoginAttempt(Path sshdLog) throws IOException {
        String log = Files.readString(sshdLog);
        assertTrue(log.contains("Connection from"), "the client did reach this sshd: " + log);
        assertFalse(AUTH_LINE.matcher(log).find(), "nothing beyond the key exchange was sent: " + log);
    }

    @Test
    void duringTheLaunchScriptAnotherHostKeyMeansNotReadyYetAndNothingIsSentToIt() throws Exception {
        SshKeyPair pinned = SshKeyPair.generate("pinned");
        int port = LoopbackSshd.freePort();
        // The image's own host key and login key, as sshd has them before the launch script ran.
        LoopbackSshd image = LoopbackSshd.start(dir.resolve("sshd-image"), SshKeyPair.generate("image-login"),
                java.util.Map.of(), SshKeyPair.generate("image-host"), "127.0.0.1", port);
        CompletableFuture<LoopbackSshd> script = CompletableFuture.supplyAsync(() -> {
            try {
                Thread.sleep(2500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            image.close();
            return LoopbackSshd.start(dir.resolve("sshd-pinned"), LOGIN, java.util.Map.of(), pinned, "127.0.0.1", port);
        });
        SshTarget target = new SshTarget("127.0.0.1", port, pinned.publicKeyNoComment());
        try (Remote r = Remote.await(target, new SshLogin(LoopbackSshd.user(), LOGIN), Duration.ofSeconds(30),
                BootHostKey.AFTER_LAUNCH_SCRIPT, new StopSignal())) {
            assertEquals("up\n", r.exec("echo up").stdout());
        } finally {
            script.get().close();
        }
        assertNoLoginAttempt(dir.resolve("sshd-image/sshd.log"));
    }

    @Test
    void anotherHostKeyThatOutlastsTheBootWindowIsRefused() throws IOException {
        try (LoopbackSshd other = LoopbackSshd.start(dir.resolve("sshd-never"), LOGIN)) {
            SshKeyPair pinned = SshKeyPair.generate("pinned-never-installed");
            SshTarget target = new SshTarget("127.0.0.1", other.port(), pinned.publicKeyNoComment());
            SshLogin login = new SshLogin(LoopbackSshd.user(), LOGIN);
            // One attempt first, outside the window: it makes sshj's first client of the JVM (about 1 s on a busy host)
            // and tells how long one attempt takes here and now. The window then holds several such attempts, so the
            // count below proves the retry, not how fast the host happens to be.
            long a0 = System.nanoTime();
            assertThrows(HostKeyMismatchException.class, () -> Remote.connect(target, login));
            long attemptMillis = (System.nanoTime() - a0) / 1_000_000;
            Duration window = Duration.ofMillis(Math.max(4_000, 4 * attemptMillis));
            List<Integer> attempts = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
            java.util.function.Supplier<SSHClient> recording = () -> new SSHClient(new DefaultConfig()) {
                @Override
                protected void onConnect() throws IOException {
                    attempts.add(getSocket().getLocalPort()); // connected: the server has this attempt
                    super.onConnect();
                }
            };
            long t0 = System.nanoTime();
            HostKeyMismatchException e = assertThrows(HostKeyMismatchException.class,
                    () -> Remote.await(target, login, window, BootHostKey.AFTER_LAUNCH_SCRIPT, new StopSignal(), recording));
            long millis = (System.nanoTime() - t0) / 1_000_000;
            // The deadline is read from another clock (Instant) than this one: a few ms apart at most.
            assertTrue(millis >= window.toMillis() - 50, "refused only when the " + window.toMillis()
                    + " ms window ended, not at once: " + millis + " ms");
            assertTrue(e.getMessage().contains(pinned.fingerprint()) && e.getMessage().contains(other.hostKey().fingerprint()),
                    e.getMessage());
            assertTrue(attempts.size() >= 2, "retried within the window: " + attempts.size() + " attempt(s) of "
                    + attemptMillis + " ms in " + window.toMillis() + " ms");
            // sshd logs each connection before it sends its host key, so every attempt refused is in the log by now.
            // (The log also has LoopbackSshd's start-up probe and the attempt before the window: told apart by port.)
            String sshdLog = Files.readString(other.dir().resolve("sshd.log"));
            for (int port : attempts) {
                assertTrue(sshdLog.contains("Connection from 127.0.0.1 port " + port + " "), "sshd saw the attempt from port "
                        + port + ": " + sshdLog);
            }
            assertNoLoginAttempt(other.dir().resolve("sshd.log"));
        }
    }

    /** Accepts TCP connections on 127.0.0.1 and never sends a byte: an sshd that is not answering yet. */
    private static java.net.ServerSocket silentPort() throws IOException {
        return silentPort(new java.util.concurrent.CountDownLatch(0));
    }

    /** As {@link #silentPort()}, counting {@code accepted} down at every connection it accepts. */
    private static java.net.ServerSocket silentPort(java.util.concurrent.CountDownLatch accepted) throws IOException {
        return silentPort(accepted, "");
    }

    /**
     * As {@link #silentPort(java.util.concurrent.CountDownLatch)}, sending {@code firstLine} on every connection before
     * it falls silent: with an SSH identification line, an sshd that never answers the client's key exchange.
     */
    private static java.net.ServerSocket silentPort(java.util.concurrent.CountDownLatch accepted, String firstLine)
            throws IOException {
        java.net.ServerSocket server = new java.net.ServerSocket(0, 50, java.net.InetAddress.getByName("127.0.0.1"));
        List<java.net.Socket> held = new java.util.ArrayList<>();
        Thread t = new Thread(() -> {
            try {
                while (true) {
                    java.net.Socket socket = server.accept();
                    held.add(socket);
                    socket.getOutputStream().write(firstLine.getBytes(StandardCharsets.US_ASCII));
                    socket.getOutputStream().flush();
                    accepted.countDown();
                }
            } catch (IOException closed) {
                // test over
            }
        }, "silent-port");
        t.setDaemon(true);
        t.start();
        return server;
    }

    @Test
    void aPasswordCheckAgainstAPortThatNeverSpeaksEndsAsARefusalAfterItsTimeout() throws Exception {
        java.util.concurrent.CountDownLatch accepted = new java.util.concurrent.CountDownLatch(1);
        try (java.net.ServerSocket silent = silentPort(accepted)) {
            SshTarget target = new SshTarget("127.0.0.1", silent.getLocalPort(), LOGIN.publicKeyNoComment());
            CompletableFuture<Boolean> answer = CompletableFuture.supplyAsync(
                    () -> Remote.passwordAccepted(target, LoopbackSshd.user(), "not-a-real-password", 300));
            // Timed from the port's accept, not from the call: the client's set-up before it (sshj's first client in
            // a JVM takes about 1 s, more on a busy host) is not what the 300 ms bounds.
            assertTrue(accepted.await(60, java.util.concurrent.TimeUnit.SECONDS), "the check reached the port");
            long t0 = System.nanoTime();
            // 30 s: past the 10 s handshake timeout, so a check that ignored its own timeout fails below by time.
            assertFalse(answer.get(30, java.util.concurrent.TimeUnit.SECONDS), "a silent port is a refusal");
            long millis = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(millis < 3_000, "ended " + millis + " ms after the port accepted (timeout 300 ms)");
        }
    }

    @Test
    void anInterruptEndsAPasswordCheckAtOnceEvenMidHandshake() throws Exception {
        java.util.concurrent.CountDownLatch accepted = new java.util.concurrent.CountDownLatch(1);
        try (java.net.ServerSocket silent = silentPort(accepted)) {
            SshTarget target = new SshTarget("127.0.0.1", silent.getLocalPort(), LOGIN.publicKeyNoComment());
            Held checker = new Held("checking-a-password",
                    () -> Remote.passwordAccepted(target, LoopbackSshd.user(), "handout-pw-4711"));
            // Mid-handshake: the port accepted the check's connection, whose client now waits for the server's first
            // line until its own 10 s timeout. Observed, not assumed after a fixed time (see the waits for SSH below).
            assertTrue(accepted.await(60, java.util.concurrent.TimeUnit.SECONDS), "the check reached the port");
            Held.Ended ended = checker.end(checker.thread::interrupt);
            Throwable e = ended.error();
            assertTrue(ended.millis() < 1000, "ended " + ended.millis() + " ms after the interrupt: " + e);
            assertTrue(e instanceof org.workshopfleet.error.Interrupted, String.valueOf(e));
            assertEquals(130, ((FleetException) e).exitCode());
            assertFalse(e.getMessage().contains("handout-pw-4711"), e.getMessage());
        }
    }

    @Test
    void aStopEndsTheWaitForSshAtOnceEvenMidHandshake() throws Exception {
        java.util.concurrent.CountDownLatch accepted = new java.util.concurrent.CountDownLatch(1);
        try (java.net.ServerSocket silent = silentPort(accepted)) {
            SshTarget target = new SshTarget("127.0.0.1", silent.getLocalPort(), LOGIN.publicKeyNoComment());
            StopSignal stop = new StopSignal();
            Held waiter = new Held("waiting-for-ssh", () -> Remote.await(target,
                    new SshLogin(LoopbackSshd.user(), LOGIN), Duration.ofSeconds(60), BootHostKey.BEFORE_SSHD, stop));
            // Mid-handshake is when the port has accepted the attempt (whose client then waits for the server's first
            // line), not a fixed time after the start: the attempt's set-up (sshj's first client in a JVM takes ~1 s)
            // can outlast any such time on a busy host. The 60 s only bound a hang.
            assertTrue(accepted.await(60, java.util.concurrent.TimeUnit.SECONDS), "the attempt reached the port");
            Held.Ended ended = waiter.end(stop::stop);
            assertTrue(ended.millis() < 500, "ended " + ended.millis() + " ms after the stop");
            assertTrue(ended.error() instanceof FleetException && ended.error().getMessage().contains("interrupted"),
                    String.valueOf(ended.error()));
        }
    }

    @Test
    void anInterruptEndsTheWaitForSshAtOnceWhetherConnectingOrPausing() throws Exception {
        int refusing = LoopbackSshd.freePort();
        java.util.concurrent.CountDownLatch accepted = new java.util.concurrent.CountDownLatch(1);
        try (java.net.ServerSocket silent = silentPort(accepted)) {
            for (int port : new int[] {silent.getLocalPort(), refusing}) {
                SshTarget target = new SshTarget("127.0.0.1", port, LOGIN.publicKeyNoComment());
                Held waiter = new Held("waiting-for-ssh",
                        () -> Remote.await(target, new SshLogin(LoopbackSshd.user(), LOGIN), Duration.ofSeconds(60)));
                // Observed, not assumed after a fixed time (the attempt's set-up, ~1 s for sshj's first client in a
                // JVM on a busy host, can outlast it): connecting once the silent port accepted the attempt, pausing
                // once the thread waits between attempts. The 60 s only bound a hang.
                if (port == silent.getLocalPort()) {
                    assertTrue(accepted.await(60, java.util.concurrent.TimeUnit.SECONDS), "the attempt reached the port");
                } else {
                    awaitPausing(waiter.thread);
                }
                Held.Ended ended = waiter.end(waiter.thread::interrupt);
                Throwable t = ended.error();
                assertTrue(t instanceof FleetException && t.getMessage().contains("interrupted"), String.valueOf(t));
                assertTrue(ended.millis() < 500, "port " + port + ": ended " + ended.millis() + " ms after the interrupt");
            }
        }
    }

    /**
     * An interrupt that sshj's wait for the key exchange takes ({@code net.schmizz.concurrent.Promise.tryRetrieve}, which
     * throws a {@code TransportException} with the {@link InterruptedException} as its cause) ends the wait at once:
     * the port sends an SSH identification line and then never answers the client's key exchange, so the attempt
     * waits there (for its own 10 s read timeout) with its socket open, and the wait's 60 s timeout is far away. This
     * holds because sshj (0.39.0) sets the thread's interrupt flag again there; an sshj that cleared it would make
     * {@link Remote#await} take the interrupt for a failed attempt and retry until its timeout, which fails this test.
     */
    @Test
    void anInterruptEndsTheWaitForSshAtOnceEvenInTheKeyExchange() throws Exception {
        java.util.concurrent.CountDownLatch accepted = new java.util.concurrent.CountDownLatch(1);
        try (java.net.ServerSocket mute = silentPort(accepted, "SSH-2.0-OpenSSH_9.6\r\n")) {
            SshTarget target = new SshTarget("127.0.0.1", mute.getLocalPort(), LOGIN.publicKeyNoComment());
            StopSignal stop = new StopSignal();
            Held waiter = new Held("waiting-for-ssh", () -> Remote.await(target,
                    new SshLogin(LoopbackSshd.user(), LOGIN), Duration.ofSeconds(60), BootHostKey.BEFORE_SSHD, stop));
            try {
                // In the key exchange: the port sent its line, and the client parks in sshj's wait for the exchange.
                // Observed, not assumed after a fixed time; the 60 s only bound a hang.
                assertTrue(accepted.await(60, java.util.concurrent.TimeUnit.SECONDS), "the attempt reached the port");
                awaitWaitingIn(waiter.thread, "net.schmizz.concurrent.Promise", "tryRetrieve",
                        "the attempt never waited for the key exchange");
                // An interrupt taken for a failed attempt would retry until the wait's 60 s: past Held's 30 s bound.
                Held.Ended ended = waiter.end(waiter.thread::interrupt);
                Throwable e = ended.error();
                assertTrue(e instanceof org.workshopfleet.error.Interrupted, String.valueOf(e));
                assertEquals(130, ((FleetException) e).exitCode());
                assertTrue(ended.millis() < 1000, "ended " + ended.millis() + " ms after the interrupt");
                assertTrue(ended.interruptFlagSet(), "the waiting thread's interrupt flag is set again");
            } finally {
                stop.stop(); // a failed check leaves no wait retrying behind
            }
        }
    }

    @Test
    void aStopBeforeTheAttemptHasASocketEndsTheWaitAtOnce() throws Exception {
        assertEndsAtOnceBeforeTheAttemptHasASocket(false);
    }

    @Test
    void anInterruptBeforeTheAttemptHasASocketEndsTheWaitAtOnce() throws Exception {
        assertEndsAtOnceBeforeTheAttemptHasASocket(true);
    }

    /**
     * Ctrl-C (a stop, or an interrupt of the waiting thread) before an attempt's client has a socket: sshj's first
     * client in a JVM takes about 1 s to make on a busy host, so a Ctrl-C soon after machines start waiting for SSH
     * lands there. The attempt is held between making its client and connecting until the stop or interrupt arrived;
     * it then goes on to a port that accepts and never speaks, where only its own 10 s handshake timeout would end it.
     */
    private static void assertEndsAtOnceBeforeTheAttemptHasASocket(boolean interrupt) throws Exception {
        try (java.net.ServerSocket silent = silentPort()) {
            SshTarget target = new SshTarget("127.0.0.1", silent.getLocalPort(), LOGIN.publicKeyNoComment());
            StopSignal stop = new StopSignal();
            java.util.concurrent.CountDownLatch making = new java.util.concurrent.CountDownLatch(1);
            java.util.function.Supplier<SSHClient> heldClient = () -> {
                // Made first, so a cold client's set-up is not part of the time measured below.
                SSHClient client = new SSHClient(new DefaultConfig());
                making.countDown();
                while (!stop.isStopped() && !Thread.currentThread().isInterrupted()) {
                    java.util.concurrent.locks.LockSupport.parkNanos(1_000_000); // keeps the interrupt flag set
                }
                return client;
            };
            Held waiter = new Held("waiting-for-ssh", () -> Remote.await(target, new SshLogin(LoopbackSshd.user(),
                    LOGIN), Duration.ofSeconds(60), BootHostKey.BEFORE_SSHD, stop, heldClient));
            assertTrue(making.await(60, java.util.concurrent.TimeUnit.SECONDS), "the attempt made its client");
            Held.Ended ended = waiter.end(interrupt ? waiter.thread::interrupt : stop::stop);
            Throwable e = ended.error();
            String what = interrupt ? "interrupt" : "stop";
            assertTrue(ended.millis() < 500, "ended " + ended.millis() + " ms after the " + what + ": " + e);
            assertTrue(e instanceof org.workshopfleet.error.Interrupted, String.valueOf(e));
        }
    }

    /**
     * A call (a wait for SSH, a password check) on its own thread, which the test ends by an interrupt or a stop while
     * it is held somewhere. A call that returns (a {@link Remote} is closed at once) ends as an {@link AssertionError}.
     */
    private static final class Held {
        /** What the call ended with, how many ms after the end was asked for, and its thread's interrupt flag then. */
        record Ended(Throwable error, long millis, boolean interruptFlagSet) {
        }

        final Thread thread;
        private final CompletableFuture<Ended> outcome = new CompletableFuture<>();
        private volatile long endAsked;

        Held(String name, java.util.concurrent.Callable<?> call) {
            thread = new Thread(() -> {
                Throwable error;
                try {
                    Object result = call.call();
                    if (result instanceof AutoCloseable c) {
                        c.close();
                    }
                    error = new AssertionError("ended as " + result + ", not by the end asked for");
                } catch (Throwable t) {
                    error = t;
                }
                long millis = (System.nanoTime() - endAsked) / 1_000_000;
                outcome.complete(new Ended(error, millis, Thread.currentThread().isInterrupted()));
            }, name);
            thread.start();
        }

        /**
         * Runs {@code end} and returns how the call ended. 30 s bound: past the attempts' own 10 s timeouts, so an end
         * that did not cut the call fails by its time, not by a hang.
         */
        Ended end(Runnable end) throws Exception {
            endAsked = System.nanoTime();
            end.run();
            return outcome.get(30, java.util.concurrent.TimeUnit.SECONDS);
        }
    }

    /** Until {@code waiter} waits in {@link StopSignal#pause}, between two attempts (at most 60 s). */
    private static void awaitPausing(Thread waiter) throws InterruptedException {
        awaitWaitingIn(waiter, StopSignal.class.getName(), "pause", "the wait never paused between attempts");
    }

    /** Until {@code waiter} waits (parked, not running) inside {@code className.method} (at most 60 s). */
    private static void awaitWaitingIn(Thread waiter, String className, String method, String never)
            throws InterruptedException {
        long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!((waiter.getState() == Thread.State.TIMED_WAITING || waiter.getState() == Thread.State.WAITING)
                && java.util.Arrays.stream(waiter.getStackTrace())
                        .anyMatch(f -> f.getClassName().equals(className) && f.getMethodName().equals(method)))) {
            assertTrue(waiter.isAlive() && System.nanoTime() < end, never);
            Thread.sleep(5);
        }
    }
}
