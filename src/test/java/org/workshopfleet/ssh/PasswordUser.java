package org.workshopfleet.ssh;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * A user who logs in to a {@link LoopbackSshd} with a password (SSH's "password" method), as an attendee logs in to
 * a workshop machine with the handout's password. The user exists for that one server only: in its own copy of
 * {@code /etc/passwd} ({@link #passwdLine}), never in the host's. The password is not in {@link #toString()}, and
 * what is written to disk is its crypt(3) hash, never the password itself.
 */
public record PasswordUser(String name, String password) {

    /** Makes the crypt(3) hash; in Debian's {@code openssl} package, which {@code ca-certificates} depends on. */
    public static final Path OPENSSL = Path.of("/usr/bin/openssl");

    private static final SecureRandom RANDOM = new SecureRandom();

    public PasswordUser {
        if (!name.matches("[a-z][a-z0-9-]{0,30}")) {
            throw new IllegalArgumentException("not a user name for /etc/passwd: " + name);
        }
        if (password.isEmpty() || password.contains("\n")) {
            throw new IllegalArgumentException("a password of one non-empty line is needed for " + name);
        }
    }

    /** {@code name} with a fresh random password, so that finding it in a log can only mean a leak. */
    public static PasswordUser withRandomPassword(String name) {
        return new PasswordUser(name, randomPassword());
    }

    /** 24 random characters (URL-safe Base64 of 18 random bytes). */
    public static String randomPassword() {
        byte[] bytes = new byte[18];
        RANDOM.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    /**
     * This user's line for a copy of {@code hostPasswd} (the host's {@code /etc/passwd}, one entry a line): the
     * password's SHA-512 crypt hash in the password field, a user id no entry has, and {@code /usr/sbin/nologin} as
     * shell, so the user can prove the password and never gets a shell. sshd (with {@code UsePAM no}) takes the hash
     * from there when the shadow file has no entry for the user (it logs "Could not get shadow information").
     *
     * @throws IllegalStateException when the host already has a user of this name
     */
    String passwdLine(List<String> hostPasswd) {
        Set<String> names = hostPasswd.stream().map(l -> l.split(":", -1)[0]).collect(Collectors.toSet());
        if (names.contains(name)) {
            throw new IllegalStateException("the host already has a user " + name + ": choose another name");
        }
        Set<String> uids = hostPasswd.stream().map(l -> l.split(":", -1)).filter(f -> f.length > 2)
                .map(f -> f[2]).collect(Collectors.toSet());
        int uid = 64_000;
        while (uids.contains(Integer.toString(uid))) {
            uid++;
        }
        return name + ":" + cryptHash() + ":" + uid + ":65534:workshop-fleet test user:/nonexistent:/usr/sbin/nologin";
    }

    /** The password's SHA-512 crypt hash; the password goes to openssl on its stdin, never on a command line. */
    private String cryptHash() {
        try {
            Process p = new ProcessBuilder(OPENSSL.toString(), "passwd", "-6", "-stdin")
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            try (OutputStream in = p.getOutputStream()) {
                in.write((password + "\n").getBytes(StandardCharsets.UTF_8));
            }
            String hash = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).strip();
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0 || !hash.startsWith("$6$")
                    || hash.contains(":")) {
                p.destroyForcibly();
                throw new IllegalStateException(OPENSSL + " passwd -6 made no SHA-512 crypt hash for " + name);
            }
            return hash;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + OPENSSL, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while hashing the password of " + name, e);
        }
    }

    /** Names the user only: a record's own {@code toString} would print the password into any assertion message. */
    @Override
    public String toString() {
        return "PasswordUser[" + name + ", password not shown]";
    }
}
