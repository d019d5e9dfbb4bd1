package org.workshopfleet.lab.standins;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

/**
 * A throwaway OpenPGP key that signs the stand-in apt repository in place of Grafana's key. It is generated at test
 * time in a private temporary {@code GNUPGHOME} (never stored in the repository) and destroyed by {@link #close()};
 * only its public half leaves that directory.
 */
final class SigningKey implements AutoCloseable {

    private final Path home;
    private final String fingerprint;

    private SigningKey(Path home, String fingerprint) {
        this.home = home;
        this.fingerprint = fingerprint;
    }

    /** Generates an Ed25519 signing key valid for a week. */
    static SigningKey generate() throws IOException {
        // Short path under /tmp: gpg-agent's socket path must fit in sun_path (108 bytes).
        Path home = Files.createTempDirectory(Path.of("/tmp"), "standin-gpg",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        try {
            gpg(home, "--quick-generate-key",
                    "workshop-fleet test stand-in apt signing key <standins@workshop-fleet.invalid>",
                    "ed25519", "sign", "7d");
            String listing = gpg(home, "--with-colons", "--list-secret-keys");
            String fingerprint = listing.lines().filter(l -> l.startsWith("fpr:")).findFirst()
                    .map(l -> l.split(":")[9])
                    .orElseThrow(() -> new IllegalStateException("gpg listed no fingerprint"));
            return new SigningKey(home, fingerprint);
        } catch (RuntimeException e) {
            killAgent(home);
            Tree.delete(home);
            throw e;
        }
    }

    /** Upper-case hex fingerprint, as {@code gpg --with-colons} prints it. */
    String fingerprint() {
        return fingerprint;
    }

    /** Writes the armored public key to {@code target}. */
    void exportPublic(Path target) throws IOException {
        Files.writeString(target, gpg(home, "--armor", "--export", fingerprint), StandardCharsets.US_ASCII);
    }

    /** Writes an inline-signed copy ({@code InRelease}) and a detached armored signature ({@code Release.gpg}). */
    void signRelease(Path release) {
        Path dir = release.getParent();
        gpg(home, "--local-user", fingerprint, "--digest-algo", "SHA512", "--clearsign",
                "--output", dir.resolve("InRelease").toString(), release.toString());
        gpg(home, "--local-user", fingerprint, "--digest-algo", "SHA512", "--armor", "--detach-sign",
                "--output", dir.resolve("Release.gpg").toString(), release.toString());
    }

    @Override
    public void close() throws IOException {
        killAgent(home);
        Tree.delete(home);
    }

    private static String gpg(Path home, String... args) {
        String[] argv = new String[args.length + 7];
        argv[0] = "gpg";
        argv[1] = "--homedir";
        argv[2] = home.toString();
        argv[3] = "--batch";
        argv[4] = "--yes";
        argv[5] = "--pinentry-mode=loopback";
        argv[6] = "--passphrase=";
        System.arraycopy(args, 0, argv, 7, args.length);
        return ExternalCommand.in(home, argv).withEnvironment(Map.of("GNUPGHOME", home.toString())).run();
    }

    private static void killAgent(Path home) {
        try {
            ExternalCommand.in(home, "gpgconf", "--homedir", home.toString(), "--kill", "gpg-agent").run();
        } catch (RuntimeException ignored) {
            // no agent running
        }
    }
}
