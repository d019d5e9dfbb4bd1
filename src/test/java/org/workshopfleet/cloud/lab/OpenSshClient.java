package org.workshopfleet.cloud.lab;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.workshopfleet.ssh.SshKeyPair;

/**
 * The OpenSSH client with strict host key checking against a known_hosts file we write from the pinned key: an
 * independent check (not our sshj code) that a lab machine serves exactly the host key its user-data gave it.
 */
final class OpenSshClient {

    private final Path identity;
    private final Path knownHosts;
    private final String target;

    OpenSshClient(Path workDir, SshKeyPair login, String user, String ip, SshKeyPair pinnedHostKey) {
        try {
            Files.createDirectories(workDir);
            identity = workDir.resolve("id_" + ip);
            Files.deleteIfExists(identity);
            Files.createFile(identity, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(identity, login.privateKeyOpenSsh());
            knownHosts = workDir.resolve("known_hosts_" + ip);
            Files.writeString(knownHosts, ip + " " + pinnedHostKey.publicKeyNoComment() + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        target = user + "@" + ip;
    }

    /** Runs a command on the machine; returns exit code and output. */
    HostCommand.Result run(String command, long timeoutSeconds) {
        List<String> cmd = new ArrayList<>(List.of("ssh", "-i", identity.toString(), "-o", "IdentitiesOnly=yes",
                "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=" + knownHosts,
                "-o", "GlobalKnownHostsFile=/dev/null", "-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR", target,
                command));
        Path out;
        try {
            out = Files.createTempFile("wf-ssh", ".log");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            HostCommand.Result r = HostCommand.run(cmd, out, timeoutSeconds);
            return new HostCommand.Result(r.exitCode(), Files.readString(out).strip());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            out.toFile().delete();
        }
    }

    /** Retries until the login works (the user may not exist yet right after sshd starts). */
    HostCommand.Result runWhenReady(String command, Duration timeout, long commandTimeoutSeconds) {
        Instant deadline = Instant.now().plus(timeout);
        HostCommand.Result r;
        do {
            r = run(command, commandTimeoutSeconds);
            if (r.exitCode() != 255) {
                return r; // 255 = ssh itself failed (connect/auth); anything else is the command's status
            }
            try {
                Thread.sleep(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return r;
            }
        } while (Instant.now().isBefore(deadline));
        return r;
    }
}
