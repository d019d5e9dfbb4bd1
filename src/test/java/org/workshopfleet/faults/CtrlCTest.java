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
import java.util.concurrent.atomic.AtomicInteger;
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
                Duration.ofSeconds(120), Duration.ofSeconds(30), root -> new TinyWorkshop());
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
        awaitWaitingForSsh(spec);
        Thread.sleep(1000);

        long t0 = System.nanoTime();
        up.interrupt();
        int exit = code.get(10, TimeUnit.SECONDS);
        long millis = (System.nanoTime() - t0) / 1_000_000;

        String text = out.toString(StandardCharsets.UTF_8);
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
        Process child = new ProcessBuilder(java, "-Dorg.slf4j.simpleLogger.defaultLogLevel=off", "-cp",
                System.getProperty("java.class.path"), KillableUp.class.getName(), fake.endpoint().toString(),
                spec.stateRoot().toString(), dir.resolve("project").toString(), String.valueOf(silent.port()),
                String.valueOf(MACHINES)).redirectErrorStream(true).redirectOutput(childOut.toFile()).start();
        try {
            awaitWaitingForSsh(spec);
            Thread.sleep(1000);
            long t0 = System.nanoTime();
            // What the terminal sends on Ctrl-C.
            assertEquals(0, new ProcessBuilder("kill", "-INT", String.valueOf(child.pid())).start().waitFor());
            boolean ended = child.waitFor(10, TimeUnit.SECONDS);
            if (!ended) {
                // What the child was doing: its output and its threads (jcmd), for the failure message.
                new ProcessBuilder("jcmd", String.valueOf(child.pid()), "Thread.print")
                        .redirectErrorStream(true).redirectOutput(dir.resolve("child.threads").toFile()).start()
                        .waitFor(20, TimeUnit.SECONDS);
            }
            assertTrue(ended, () -> "the child ended:\n" + read(childOut) + "\n" + read(dir.resolve("child.threads")));
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

    /** Until every machine is in the ledger as BOOTING and the silent machine has been contacted. */
    private void awaitWaitingForSsh(WorkshopSpec spec) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < end) {
            LedgerData data = ledger(spec);
            if (data != null && silent.accepted() > 0 && data.machines().size() == MACHINES
                    && data.machines().values().stream().allMatch(r -> r.phase() == MachinePhase.BOOTING)) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("the machines never waited for SSH: " + ledger(spec));
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
