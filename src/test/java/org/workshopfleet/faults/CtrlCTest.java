package org.workshopfleet.faults;

import org.workshopfleet.spec.Cidr;
import org.workshopfleet.error.ExitCode;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.workshopfleet.Fleet;
import org.workshopfleet.command.Wiring;
import org.workshopfleet.cloud.ec2.AmiCatalog;
import org.workshopfleet.cloud.ec2.Ec2Cloud;
import org.workshopfleet.concurrent.Waiter;
import org.workshopfleet.cloud.ec2.fake.Ec2Fake;
import org.workshopfleet.cloud.ec2.fake.InstanceBackend;
import org.workshopfleet.provision.MachineLayout;
import org.workshopfleet.provision.ProvisionListener;
import org.workshopfleet.provision.Runner;
import org.workshopfleet.spec.Provider;
import org.workshopfleet.spec.WorkshopSpec;
import org.workshopfleet.state.Ledger;
import org.workshopfleet.state.LedgerData;
import org.workshopfleet.state.MachinePhase;
import org.workshopfleet.state.MachineRecord;
import org.workshopfleet.state.StateFolder;
import software.amazon.awssdk.services.ec2.Ec2Client;

/**
 * Ctrl-C while machines wait for SSH: the wait ends at once, every machine is recorded as interrupted (not left
 * BOOTING), and up ends with 130 and one line saying to re-run it. The machines never answer: one accepts TCP and never
 * speaks (an sshd that is not up yet behind a listening socket), the other refuses the connection.
 */
class CtrlCTest {

    private static final int MACHINES = 2;

    /**
     * How long a machine of either test waits for SSH before failing on its own: far beyond the moments between the
     * test seeing the machines wait and its interrupt, so only the interrupt can end their wait.
     */
    private static final Duration SSH_TIMEOUT = Duration.ofSeconds(120);

    /**
     * The safety net of the wait before the interrupt, which only catches a hang: that wait is not what these tests
     * measure, and on a busy host it is long (a cold JVM loading the SDK and launching against the fake: 5-7 s on an
     * idle 2-core host, 21-31 s with one core shared by about nine busy processes, about CI's load of 18 on two).
     */
    private static final Duration WARM_UP_LIMIT = Duration.ofMinutes(5);

    @TempDir
    Path dir;

    private Ec2Fake fake;
    private SilentPort silent;
    private final List<Ec2Client> clients = new ArrayList<>();

    @BeforeEach
    void start() throws IOException {
        fake = Ec2Fake.start();
        silent = new SilentPort();
        // Attendee 1 gets the silent port; the next address has nothing listening on that port.
        AtomicInteger booted = new AtomicInteger();
        fake.backend(new InstanceBackend() {
            @Override
            public String boot(String instanceId, String rawUserData) {
                return booted.getAndIncrement() % 2 == 0 ? "127.0.0.1" : "127.0.0.3";
            }

            @Override
            public void terminate(String instanceId) {
            }
        });
        Files.createDirectories(dir.resolve("project/security-groups"));
        Files.copy(Path.of("security-groups/workshop.json"), dir.resolve("project/security-groups/workshop.json"));
    }

    @AfterEach
    void stop() {
        clients.forEach(Ec2Client::close);
        if (silent != null) {
            silent.close();
        }
        if (fake != null) {
            fake.close();
        }
    }

    private WorkshopSpec spec() {
        return WorkshopSpec.defaults(MACHINES, Provider.EC2).withStateRoot(dir.resolve("workshops"))
                .withCidr(Cidr.parse("203.0.113.7/32"));
    }

    @Test
    void interruptingUpWhileMachinesWaitForSshStopsAtOnceAndRecordsThemInterrupted() throws Exception {
        WorkshopSpec spec = spec();
        Wiring wiring = new Wiring((s, recorder) -> {
            Ec2Client c = fake.client();
            clients.add(c);
            return new Ec2Cloud(c, Ec2Cloud.config(s), recorder, AmiCatalog.load(Path.of("ami.properties")), Waiter.fast());
        }, s -> { }, () -> {
            throw new AssertionError("no address detection in tests");
        }, null, ProvisionListener.NONE, Clock.systemUTC(), "root", silent.port(), MachineLayout.STANDARD,
                SSH_TIMEOUT, Duration.ofSeconds(30), root -> new TinyWorkshop());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Fleet fleet = new Fleet(spec, dir.resolve("project"), wiring, new PrintStream(out, true, StandardCharsets.UTF_8));
        CompletableFuture<Integer> code = new CompletableFuture<>();
        Thread up = new Thread(() -> {
            try {
                code.complete(fleet.up(true));
            } catch (Throwable e) {
                code.completeExceptionally(e);
            }
        }, "up-under-test");
        up.start();
        Supplier<String> said = () -> out.toString(StandardCharsets.UTF_8);
        awaitWaitingForSsh(spec, up::isAlive, said);
        // The interrupt must reach up where a Ctrl-C while machines wait for SSH does: in the batch's wait. Machines
        // waiting do not say up got there: it may still be in the launch's wait for EC2, where an interrupt is a Ctrl-C
        // during the launch (up throws Interrupted instead of returning 130 with the notice).
        awaitUntil("up waits for its machines", () -> waitsForTheBatch(up), up::isAlive, said);

        long t0 = System.nanoTime();
        up.interrupt();
        int exit;
        try {
            exit = code.get(10, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError("up did not return within 10 s of the interrupt:\n" + said.get(), e);
        }
        long millis = (System.nanoTime() - t0) / 1_000_000;

        String text = said.get();
        assertTrue(millis < 2000, "up returned " + millis + " ms after the interrupt:\n" + text);
        assertEquals(ExitCode.INTERRUPTED, exit, text);
        assertEquals(Runner.INTERRUPTED_NOTICE, text.lines().reduce((a, b) -> b).orElse(""), "ends with one line");
        assertAllInterrupted(spec);
    }

    @Test
    void ctrlCOnUpInAChildJvmExits130AtOnceAndRecordsTheMachinesInterrupted() throws Exception {
        // A JVM started with SIGINT ignored (a shell runs `cmd &` that way when job control is off) passes that on to
        // its children, and a JVM that starts with SIGINT ignored never handles it: Ctrl-C could not reach the child.
        assertFalse(sigintIgnored(), "SIGINT is ignored in this test JVM (inherited from a background job of a shell"
                + " without job control): run mvn in the foreground, or under `timeout`, which resets it");
        WorkshopSpec spec = spec();
        Path childOut = dir.resolve("child.out");
        String java = ProcessHandle.current().info().command().orElse("java");
        Process child = new ProcessBuilder(java, "-Dorg.slf4j.simpleLogger.defaultLogLevel=off",
                "-D" + KillableUp.SSH_TIMEOUT_PROPERTY + "=" + SSH_TIMEOUT, "-cp",
                System.getProperty("java.class.path"), KillableUp.class.getName(), fake.endpoint().toString(),
                spec.stateRoot().toString(), dir.resolve("project").toString(), String.valueOf(silent.port()),
                String.valueOf(MACHINES)).redirectErrorStream(true).redirectOutput(childOut.toFile()).start();
        try {
            // up registers its SIGINT hook before it launches the first machine: machines waiting for SSH mean the
            // hook is in place, and the signal goes at once.
            awaitWaitingForSsh(spec, child::isAlive, () -> read(childOut) + "\n" + threads(child));
            long t0 = System.nanoTime();
            // What the terminal sends on Ctrl-C.
            assertEquals(0, new ProcessBuilder("kill", "-INT", String.valueOf(child.pid())).start().waitFor());
            boolean ended = child.waitFor(10, TimeUnit.SECONDS);
            // What the child was doing, for the failure message: its threads, taken before it is killed below.
            String threads = ended ? "" : threads(child);
            assertTrue(ended, () -> "the child ended:\n" + read(childOut) + "\n" + threads);
            long millis = (System.nanoTime() - t0) / 1_000_000;
            String text = Files.readString(childOut, StandardCharsets.UTF_8);
            assertTrue(millis < 2000, "the child ended " + millis + " ms after SIGINT:\n" + text);
            assertEquals(ExitCode.INTERRUPTED, child.exitValue(), text);
            assertEquals(1, text.lines().filter(Runner.INTERRUPTED_NOTICE::equals).count(), text);
        } finally {
            child.destroyForcibly();
        }
        assertAllInterrupted(spec);
    }

    /**
     * Until every machine is in the ledger as BOOTING and the silent machine's attempt was accepted (its client now
     * waits for the server's first line). The interrupt follows at once: that attempt ends by itself 10 s after it
     * began (Remote.HANDSHAKE_TIMEOUT_MS), so a stop that did not cut it would take several seconds, far over the
     * 2 s the tests allow.
     */
    private void awaitWaitingForSsh(WorkshopSpec spec, BooleanSupplier running, Supplier<String> said)
            throws InterruptedException {
        awaitUntil("the machines wait for SSH", () -> {
            LedgerData data = ledger(spec);
            if (data == null) {
                return false;
            }
            // A machine that ended before the interrupt (a launch that timed out, say) cannot show what it does.
            data.machines().values().stream().filter(r -> r.phase() == MachinePhase.FAILED
                    || r.phase() == MachinePhase.READY).findFirst().ifPresent(r -> {
                throw new AssertionError("a machine ended before the interrupt: " + r + "\n" + said.get());
            });
            return silent.accepted() > 0 && data.machines().size() == MACHINES
                    && data.machines().values().stream().allMatch(r -> r.phase() == MachinePhase.BOOTING);
        }, running, () -> ledger(spec) + "\n" + said.get());
    }

    /**
     * Polls {@code condition} until it holds; fails at once, with what up said, when up ended first, and after
     * {@link #WARM_UP_LIMIT} when it hangs.
     */
    private static void awaitUntil(String what, BooleanSupplier condition, BooleanSupplier running,
                                   Supplier<String> said) throws InterruptedException {
        long end = System.nanoTime() + WARM_UP_LIMIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (!running.getAsBoolean()) {
                throw new AssertionError("up ended before " + what + ":\n" + said.get());
            }
            if (System.nanoTime() > end) {
                throw new AssertionError("not within " + WARM_UP_LIMIT.toMinutes() + " min: " + what + "\n" + said.get());
            }
            Thread.sleep(50);
        }
    }

    /** Whether {@code up} is parked in {@link Runner.Batch#finish}, waiting for its machines. */
    private static boolean waitsForTheBatch(Thread up) {
        return up.getState() == Thread.State.WAITING && java.util.Arrays.stream(up.getStackTrace()).anyMatch(
                f -> f.getClassName().equals(Runner.Batch.class.getName()) && f.getMethodName().equals("finish"));
    }

    private void assertAllInterrupted(WorkshopSpec spec) {
        LedgerData data = ledger(spec);
        assertNotNull(data);
        assertEquals(MACHINES, data.machines().size());
        for (MachineRecord r : data.machines().values()) {
            assertEquals(MachinePhase.FAILED, r.phase(), r.toString());
            assertTrue(r.error().startsWith("interrupted"), r.toString());
            assertFalse(r.error().contains("\n"), r.toString());
        }
    }

    /** Whether this process ignores SIGINT (bit 2 of /proc/self/status's SigIgn mask). */
    private static boolean sigintIgnored() throws java.io.IOException {
        Path status = Path.of("/proc/self/status");
        if (!Files.exists(status)) {
            return false;
        }
        return Files.readAllLines(status).stream().filter(l -> l.startsWith("SigIgn:"))
                .map(l -> Long.parseUnsignedLong(l.substring(7).trim(), 16)).anyMatch(mask -> (mask & 2L) != 0);
    }

    /** The child's threads (jcmd), or why they could not be had. */
    private String threads(Process child) {
        Path file = dir.resolve("child.threads");
        try {
            new ProcessBuilder("jcmd", String.valueOf(child.pid()), "Thread.print")
                    .redirectErrorStream(true).redirectOutput(file.toFile()).start().waitFor(20, TimeUnit.SECONDS);
        } catch (IOException e) {
            return "(no jcmd: " + e.getMessage() + ")";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return read(file);
    }

    private static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "(no " + file.getFileName() + ")";
        } catch (java.io.IOException e) {
            return "(unreadable " + file.getFileName() + ": " + e.getMessage() + ")";
        }
    }

    private static LedgerData ledger(WorkshopSpec spec) {
        if (!Files.exists(new StateFolder(spec.stateDir()).ledgerFile())) {
            return null;
        }
        try {
            return Ledger.open(new StateFolder(spec.stateDir()), spec.name(), "ec2", spec.region(), Clock.systemUTC())
                    .snapshot();
        } catch (RuntimeException beingWritten) {
            return null;
        }
    }

    /** Accepts connections on 127.0.0.1 and never sends a byte: a machine whose sshd is not answering yet. */
    private static final class SilentPort implements AutoCloseable {
        private final ServerSocket server;
        private final List<Socket> held = new ArrayList<>();
        private final AtomicInteger accepted = new AtomicInteger();

        SilentPort() throws IOException {
            server = new ServerSocket();
            server.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0));
            Thread t = new Thread(() -> {
                while (!server.isClosed()) {
                    try {
                        Socket s = server.accept();
                        synchronized (held) {
                            held.add(s);
                        }
                        accepted.incrementAndGet();
                    } catch (IOException closed) {
                        return;
                    }
                }
            }, "silent-port");
            t.setDaemon(true);
            t.start();
        }

        int port() {
            return server.getLocalPort();
        }

        int accepted() {
            return accepted.get();
        }

        @Override
        public void close() {
            try {
                server.close();
                synchronized (held) {
                    for (Socket s : held) {
                        s.close();
                    }
                }
            } catch (IOException ignored) {
                // test teardown
            }
        }
    }
}
