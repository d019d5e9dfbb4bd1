package org.workshopfleet.ssh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Remote#passwordAccepted}, as {@code verify} uses it to prove an attendee's handout password works, against a
 * real OpenSSH server on loopback that takes passwords for one user: the right password is accepted, another is
 * refused, and neither reaches a log, an exception or the test's output.
 */
class RemotePasswordTest {

    static final SshKeyPair LOGIN = SshKeyPair.generate("test-login");
    /** Random per run: finding it anywhere can only mean a leak. */
    static final PasswordUser ATTENDEE = PasswordUser.withRandomPassword("wf-test-attendee");
    static LoopbackSshd sshd;
    @TempDir
    static Path dir;

    @BeforeAll
    static void startSshd() {
        LoopbackSshd.assumePasswordLoginAvailable();
        sshd = LoopbackSshd.start(dir.resolve("sshd"), LOGIN, ATTENDEE);
    }

    @AfterAll
    static void stopSshd() {
        if (sshd != null) {
            sshd.close();
        }
    }

    @Test
    void theHandoutPasswordIsAcceptedAndAnotherRefused() throws Exception {
        Path log = sshd.dir().resolve("sshd.log");
        int before = readLog(log).length(); // the other test's attempts on this server are not counted
        assertTrue(Remote.passwordAccepted(sshd.target(), ATTENDEE.name(), ATTENDEE.password()),
                "the attendee's own password is accepted");
        assertFalse(Remote.passwordAccepted(sshd.target(), ATTENDEE.name(), PasswordUser.randomPassword()),
                "another password is refused");
        assertFalse(Remote.passwordAccepted(sshd.target(), "wf-test-nobody", ATTENDEE.password()),
                "the password of another user is refused");
        // The server's own account of the attempts: the answers above came from its password check.
        List<String> lines = List.of("Accepted password for " + ATTENDEE.name() + " from 127.0.0.1 ",
                "Failed password for " + ATTENDEE.name() + " from 127.0.0.1 ",
                "Failed password for invalid user wf-test-nobody from 127.0.0.1 ");
        String attempts = awaitLines(log, before, lines);
        for (String line : lines) {
            assertEquals(1, count(attempts, line), () -> "once: " + line + "\n" + attempts);
        }
    }

    @Test
    void neitherPasswordReachesALogAnExceptionOrTheOutput() throws IOException {
        String wrong = PasswordUser.randomPassword();
        SshTarget otherHostKey = new SshTarget("127.0.0.1", sshd.port(),
                SshKeyPair.generate("pinned-but-not-installed").publicKeyNoComment());
        List<String> failures = new ArrayList<>();
        String output = Captured.outputOf(() -> {
            assertTrue(Remote.passwordAccepted(sshd.target(), ATTENDEE.name(), ATTENDEE.password()));
            assertFalse(Remote.passwordAccepted(sshd.target(), ATTENDEE.name(), wrong));
            failures.add(stackTrace(assertThrows(HostKeyMismatchException.class,
                    () -> Remote.passwordAccepted(otherHostKey, ATTENDEE.name(), ATTENDEE.password()))));
        });
        List<String> seen = new ArrayList<>();
        seen.add("stdout and stderr during the checks:\n" + output);
        failures.forEach(f -> seen.add("the exception of a check:\n" + f));
        // Everything of the server's: its log (LogLevel VERBOSE) and every file written for it (the passwd copy
        // holds the password's hash only).
        try (Stream<Path> files = Files.walk(sshd.dir())) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                seen.add(f + ":\n" + Files.readString(f, StandardCharsets.ISO_8859_1));
            }
        }
        for (String text : seen) {
            for (String password : List.of(ATTENDEE.password(), wrong)) {
                // The message shows the text with the password masked: a failure here must not leak it either.
                assertFalse(text.contains(password), () -> "a password in " + mask(text, wrong));
            }
        }
        System.err.print(output); // what the checks printed, now known to hold no password
    }

    /**
     * The part of the server's log after {@code from}, once it holds each of {@code lines} (at most 5 s): sshd's
     * privilege-separated processes may write a line just after the client has had its answer.
     */
    private static String awaitLines(Path log, int from, List<String> lines) throws Exception {
        long end = System.nanoTime() + 5_000_000_000L;
        String part = readLog(log).substring(from);
        while (!lines.stream().allMatch(part::contains) && System.nanoTime() < end) {
            Thread.sleep(20);
            part = readLog(log).substring(from);
        }
        return part;
    }

    private static String readLog(Path log) throws IOException {
        return Files.readString(log, StandardCharsets.ISO_8859_1);
    }

    private static int count(String text, String line) {
        Matcher m = Pattern.compile(Pattern.quote(line)).matcher(text);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }

    private static String stackTrace(Throwable t) {
        StringWriter w = new StringWriter();
        t.printStackTrace(new PrintWriter(w));
        return w.toString();
    }

    private static String mask(String text, String wrong) {
        return text.replace(ATTENDEE.password(), "<the right password>").replace(wrong, "<the wrong password>");
    }

    /**
     * What the JVM's stdout and stderr received while a call ran: also the logging of sshj and of our own code, which
     * slf4j-simple writes to whatever {@code System.err} is then (src/main/resources/simplelogger.properties).
     */
    private static final class Captured {
        static String outputOf(Runnable call) {
            PrintStream out = System.out;
            PrintStream err = System.err;
            ByteArrayOutputStream buffer = new ByteArrayOutputStream();
            PrintStream capture = new PrintStream(buffer, true, StandardCharsets.UTF_8);
            System.setOut(capture);
            System.setErr(capture);
            try {
                call.run();
            } finally {
                System.setOut(out);
                System.setErr(err);
            }
            return buffer.toString(StandardCharsets.UTF_8);
        }
    }
}
