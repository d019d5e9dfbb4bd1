package org.workshopfleet.provision;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.workshopfleet.render.Bundle;
import org.workshopfleet.render.BundleFile;
import org.workshopfleet.render.SetupStep;
import org.workshopfleet.ssh.LoopbackSshd;
import org.workshopfleet.ssh.SshKeyPair;

/**
 * Test "machines": loopback sshd servers, each in its own mount namespace where {@code /opt}, {@code /var/lib} and
 * {@code /usr/local/bin} are private folders (so the contract's real paths are used), and {@code /run/cloud-init} holds a
 * stand-in of cloud-init's {@code result.json} for the given status: {@code done} (no errors), {@code error} (one module
 * error, worded as cloud-init words it) or {@code never} (no result file: cloud-init never finishes).
 */
public final class TestMachines {

    private TestMachines() {
    }

    /** One machine's private folders as seen from the host. */
    public record Box(LoopbackSshd sshd, Path opt, Path varLib) {
        public Path bundleRoot() {
            return opt.resolve("workshop-fleet");
        }

        public Path state() {
            return varLib.resolve("workshop-fleet");
        }

        public List<String> runs() throws IOException {
            Path f = varLib.resolve("runs.log");
            return Files.exists(f) ? Files.readAllLines(f) : List.of();
        }
    }

    public static Box start(Path dir, SshKeyPair login, String cloudInitStatus) throws IOException {
        return start(dir, login, cloudInitStatus, SshKeyPair.generate("loopback-host"), "127.0.0.1", LoopbackSshd.freePort());
    }

    /** A machine with a given (pinned) host key on a given loopback address and port. */
    public static Box start(Path dir, SshKeyPair login, String cloudInitStatus, SshKeyPair hostKey, String address, int port)
            throws IOException {
        Path bin = dir.resolve("bin");
        Files.createDirectories(bin);
        Path runCloudInit = dir.resolve("run-cloud-init");
        Files.createDirectories(runCloudInit);
        // Stand-in for cloud-init's result file, in the shape cloud-init writes it at the end of its final stage.
        String errors = switch (cloudInitStatus) {
            case "done" -> "[]";
            case "error" -> "[\"('scripts_user', RuntimeError('Runparts: 1 failures (part-001) in 1 attempted commands'))\"]";
            case "never" -> null;
            default -> throw new IllegalArgumentException("cloud-init status done, error or never: " + cloudInitStatus);
        };
        if (errors != null) {
            Files.writeString(runCloudInit.resolve("result.json"), "{\n \"v1\": {\n  \"datasource\": \"DataSourceNoCloud"
                    + " [seed=/var/lib/cloud/seed/nocloud][dsmode=net]\",\n  \"errors\": " + errors + "\n }\n}");
        }
        // The bind needs a mount point: an empty /run/cloud-init on a host without cloud-init (a tmpfs, like the
        // /run/sshd LoopbackSshd makes); a host with cloud-init keeps its own, hidden only inside the test sshd.
        Path mountPoint = Path.of("/run/cloud-init");
        if (!Files.isDirectory(mountPoint)) {
            Files.createDirectories(mountPoint);
        }
        Path varLib = dir.resolve("var-lib");
        Files.createDirectories(varLib);
        Files.writeString(varLib.resolve("cloud-init-output.log"), "line 1\nCloud-init v. 24.1 finished with errors\n");
        Path opt = dir.resolve("opt");
        Map<String, Path> binds = new LinkedHashMap<>();
        binds.put("/opt", opt);
        binds.put("/var/lib", varLib);
        binds.put("/usr/local/bin", bin);
        binds.put("/run/cloud-init", runCloudInit);
        LoopbackSshd sshd = LoopbackSshd.start(dir.resolve("sshd"), login, binds, hostKey, address, port);
        return new Box(sshd, opt, varLib);
    }

    /** A bundle of tiny step scripts; {@code variant} changes step 02's script (and so its hash). */
    public static Bundle bundle(String machine, String exporterHash, boolean failStep3, String variant) {
        Map<String, String> scripts = new LinkedHashMap<>();
        scripts.put("01-hello", "set -euo pipefail\necho \"hello from $BUNDLE_DIR\"\necho 01 >> /var/lib/runs.log\n");
        scripts.put("02-observe", "set -euo pipefail\n# " + variant + "\nmkdir -p /var/lib/workshop-fleet/observed\n"
                + "cp \"$BUNDLE_DIR/exporter.sha256\" /var/lib/workshop-fleet/observed/ebpf_exporter.sha256\n"
                + "echo 02 >> /var/lib/runs.log\n");
        scripts.put("03-maybe-fail", "set -euo pipefail\necho 03 >> /var/lib/runs.log\n"
                + "if [ -e \"$BUNDLE_DIR/fail\" ]; then for i in $(seq 1 30); do echo \"noise $i\"; done; echo boom >&2; exit 3; fi\n");
        List<BundleFile> files = new ArrayList<>();
        List<SetupStep> steps = new ArrayList<>();
        files.add(new BundleFile("exporter.sha256", (exporterHash + "\n").getBytes(StandardCharsets.UTF_8), 0644));
        if (failStep3) {
            files.add(new BundleFile("fail", new byte[0], 0644));
        }
        for (Map.Entry<String, String> s : scripts.entrySet()) {
            String path = "scripts/" + s.getKey() + ".sh";
            files.add(new BundleFile(path, s.getValue().getBytes(StandardCharsets.UTF_8), 0755));
            steps.add(new SetupStep(s.getKey(), path, sha256(s.getValue() + (s.getKey().equals("03-maybe-fail") && failStep3 ? "fail" : ""))));
        }
        return new Bundle(machine, files, steps);
    }

    public static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
