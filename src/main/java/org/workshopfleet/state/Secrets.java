package org.workshopfleet.state;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Locale;
import java.time.Duration;
import java.time.Instant;
import org.workshopfleet.error.BadInput;
import org.workshopfleet.ssh.SshKeyPair;
import org.workshopfleet.tls.TlsMaterial;

/**
 * The workshop's secrets, each in its own 0600 file under {@code workshops/<name>/secrets/} (0700): the login key,
 * each machine's pinned host key, Grafana admin and SSH passwords, its TLS key and self-signed certificate. Created on first use and reused on every re-run,
 * so a resumed {@code up} sees the same keys and passwords. Nothing here is ever logged.
 */
public final class Secrets {

    // No look-alikes (0/O, 1/l/I): passwords are typed from a printed card.
    private static final String ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path dir;
    private final String workshop;

    public Secrets(StateFolder folder, String workshop) {
        this.dir = folder.secretsDir();
        this.workshop = workshop;
    }

    /** The key the tool logs in with ({@code ubuntu}); also the file attendees may be given. */
    public synchronized SshKeyPair loginKey() {
        return key(dir.resolve("login_ed25519"), "workshop-fleet@" + workshop);
    }

    /** Path of the login private key, for {@code ssh -i}. */
    public Path loginKeyFile() {
        loginKey();
        return dir.resolve("login_ed25519");
    }

    /**
     * The host key pinned for attendee {@code n}'s machine, made on first use: for a machine about to be launched (or
     * the image builder). A machine the ledger records takes {@link #hostKey(MachineRecord)}.
     */
    public synchronized SshKeyPair hostKey(int attendee) {
        return key(hostKeyFile(attendee), "host@" + workshop);
    }

    /**
     * The host key pinned on {@code machine}. Once it was launched, its key went out in its user data and is what it
     * proves itself with: when the file is gone then, a new key would be a new pin the machine can never match, so
     * this is refused, saying how to recover (restore the file, or replace the machine), and nothing is written.
     *
     * @throws BadInput when the ledger records {@code machine} as launched and its host key file is missing
     */
    public synchronized SshKeyPair hostKey(MachineRecord machine) {
        Path file = hostKeyFile(machine.attendee());
        if (machine.isLive() && machine.cloudId() != null && !Files.exists(file)) {
            throw new BadInput("the host key pinned on " + machine.name() + " (" + file + ") is missing, so its SSH"
                    + " login cannot be trusted and a new key would never match it: restore the file from a backup, or "
                    + (machine.isSpare() ? "remove the spare (-Daction=teardown, then up again)"
                            : "replace the machine: -Daction=replace -Dseat=" + machine.seatNumber()));
        }
        return key(file, "host@" + workshop);
    }

    private Path hostKeyFile(int attendee) {
        return dir.resolve(String.format(Locale.ROOT, "host-%02d_ed25519", attendee));
    }

    /** Grafana admin password of attendee {@code n}'s machine. */
    public synchronized String grafanaPassword(int attendee) {
        return password(dir.resolve(String.format(Locale.ROOT, "grafana-%02d.password", attendee)));
    }

    /** The {@code ubuntu} user's SSH password on attendee {@code n}'s machine. */
    public synchronized String sshPassword(int attendee) {
        return password(dir.resolve(String.format(Locale.ROOT, "ssh-%02d.password", attendee)));
    }

    /**
     * Attendee {@code n}'s own TLS key and self-signed certificate for {@code nameOrIp}: the stored one while it names
     * that address and stays valid until {@code validUntil}, else a new one valid for at least {@code ttl} (a machine
     * remade at another address gets a certificate for it).
     */
    public synchronized TlsMaterial tlsMaterial(int attendee, String nameOrIp, Instant validUntil, Duration ttl) {
        Path cert = dir.resolve(String.format(Locale.ROOT, "tls-%02d.crt", attendee));
        Path key = dir.resolve(String.format(Locale.ROOT, "tls-%02d.key", attendee));
        try {
            if (Files.exists(cert) && Files.exists(key)) {
                try {
                    TlsMaterial known = TlsMaterial.parse(Files.readString(cert, StandardCharsets.US_ASCII),
                            Files.readString(key, StandardCharsets.US_ASCII));
                    if (known.covers(nameOrIp) && known.validAt(validUntil)) {
                        return known;
                    }
                } catch (IllegalArgumentException unreadable) {
                    // Replaced below: it is this tool's own file, made again.
                }
            }
            TlsMaterial made = TlsMaterial.selfSigned(nameOrIp, ttl);
            StateFolder.makePrivateDir(dir);
            StateFolder.writeAtomically(key, made.keyPem().getBytes(StandardCharsets.US_ASCII), true);
            StateFolder.writeAtomically(cert, made.certificatePem().getBytes(StandardCharsets.US_ASCII), true);
            return made;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + cert, e);
        }
    }

    /** Forgets attendee {@code n}'s host key, passwords and TLS material (the machine was destroyed). */
    public synchronized void forget(int attendee) {
        try {
            for (String f : new String[] {"host-%02d_ed25519", "grafana-%02d.password", "ssh-%02d.password",
                    "tls-%02d.crt", "tls-%02d.key"}) {
                Files.deleteIfExists(dir.resolve(String.format(Locale.ROOT, f, attendee)));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A fresh random password of {@code length} unambiguous characters. */
    public static String randomPassword(int length) {
        StringBuilder sb = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            sb.append(ALPHABET.charAt(RANDOM.nextInt(ALPHABET.length())));
        }
        return sb.toString();
    }

    private SshKeyPair key(Path file, String comment) {
        try {
            if (Files.exists(file)) {
                return SshKeyPair.parsePrivateKey(Files.readString(file, StandardCharsets.US_ASCII));
            }
            SshKeyPair key = SshKeyPair.generate(comment);
            StateFolder.makePrivateDir(dir);
            StateFolder.writeAtomically(file, key.privateKeyOpenSsh().getBytes(StandardCharsets.US_ASCII), true);
            return key;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    private String password(Path file) {
        try {
            if (Files.exists(file)) {
                return Files.readString(file, StandardCharsets.UTF_8).trim();
            }
            String pw = randomPassword(16);
            StateFolder.makePrivateDir(dir);
            StateFolder.writeAtomically(file, (pw + "\n").getBytes(StandardCharsets.UTF_8), true);
            return pw;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }
}
