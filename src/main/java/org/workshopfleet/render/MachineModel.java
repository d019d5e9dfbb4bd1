package org.workshopfleet.render;

import org.workshopfleet.spec.OsProfile;
import org.workshopfleet.error.BadInput;
import java.time.Instant;
import java.util.Objects;
import java.util.regex.Pattern;
import org.workshopfleet.spec.WorkshopSpec;
import org.workshopfleet.ssh.SshKeyPair;
import org.workshopfleet.tls.TlsMaterial;

/**
 * Everything that makes one attendee's machine its own: what the templates are rendered from. Validated on
 * construction so that every value is safe to place in YAML, shell and systemd files without quoting surprises.
 * Messages never contain the passwords themselves.
 *
 * @param spec            the workshop
 * @param attendee        1-based attendee number
 * @param hostname        the machine's host name (one DNS label)
 * @param os              the OS the machine runs
 * @param hostKey         the pinned SSH host key delivered in the user data (secret)
 * @param loginPublicKey  the {@code authorized_keys} line the tool logs in with
 * @param grafanaPassword Grafana admin password (secret)
 * @param sshPassword     password of {@code ubuntu} for attendees' SSH logins (secret)
 * @param expiresAt       when the machine powers itself off
 * @param tls             the certificate and key it serves HTTPS with (key secret); {@code null} until its address is
 *                        known (the certificate names it): such a bundle has no TLS files and its HTTPS step refuses to run
 */
public record MachineModel(WorkshopSpec spec, int attendee, String hostname, OsProfile os, SshKeyPair hostKey,
        String loginPublicKey, String grafanaPassword, String sshPassword, Instant expiresAt, TlsMaterial tls) {

    private static final Pattern HOSTNAME = Pattern.compile("[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?");
    private static final Pattern PUBLIC_KEY =
            Pattern.compile("ssh-(?:ed25519|rsa|ecdsa-sha2-nistp(?:256|384|521)) [A-Za-z0-9+/]+=*(?: [A-Za-z0-9@._:+-]+)?");
    /** Safe unquoted in a systemd EnvironmentFile, a chpasswd line and a single-quoted shell word. */
    private static final Pattern PASSWORD = Pattern.compile("[A-Za-z0-9._~+=,@%^-]{8,128}");

    /** A machine whose address, and so its certificate, is not known yet. */
    public MachineModel(WorkshopSpec spec, int attendee, String hostname, OsProfile os, SshKeyPair hostKey,
            String loginPublicKey, String grafanaPassword, String sshPassword, Instant expiresAt) {
        this(spec, attendee, hostname, os, hostKey, loginPublicKey, grafanaPassword, sshPassword, expiresAt, null);
    }

    public MachineModel {
        Objects.requireNonNull(spec, "spec");
        Objects.requireNonNull(os, "os");
        Objects.requireNonNull(hostKey, "hostKey");
        Objects.requireNonNull(expiresAt, "expiresAt");
        if (attendee < 1) {
            throw new BadInput("attendee number " + attendee + " is invalid: attendees are numbered from 1");
        }
        if (hostname == null || !HOSTNAME.matcher(hostname).matches()) {
            throw new BadInput("host name '" + hostname + "' is invalid: use lower-case letters, digits and"
                    + " inner hyphens, at most 63 characters, e.g. " + spec.machineName(attendee));
        }
        if (loginPublicKey == null || !PUBLIC_KEY.matcher(loginPublicKey.trim()).matches()) {
            throw new BadInput("login public key for attendee " + attendee + " is not one OpenSSH public key"
                    + " line: pass e.g. SshKeyPair.publicKeyLine()");
        }
        loginPublicKey = loginPublicKey.trim();
        checkPassword("Grafana admin password", grafanaPassword, attendee);
        checkPassword("SSH password", sshPassword, attendee);
    }

    private static void checkPassword(String what, String value, int attendee) {
        if (value == null || !PASSWORD.matcher(value).matches()) {
            throw new BadInput(what + " of attendee " + attendee + " is unusable: use 8-128 characters from"
                    + " letters, digits and ._~+=,@%^- (value not shown)");
        }
    }

    /** The same machine serving HTTPS with {@code material}. */
    public MachineModel withTls(TlsMaterial material) {
        return new MachineModel(spec, attendee, hostname, os, hostKey, loginPublicKey, grafanaPassword, sshPassword,
                expiresAt, material);
    }

    /** The machine's name in the workshop, e.g. {@code ebpf-php-03}. */
    public String machineName() {
        return spec.machineName(attendee);
    }

    @Override
    public String toString() {
        // Records print every component; this one holds secrets.
        return "MachineModel[" + machineName() + ", " + hostname + ", " + os + ", host key " + hostKey.fingerprint()
                + ", expires " + expiresAt + (tls == null ? "" : ", TLS " + tls.sha256()) + "]";
    }
}
