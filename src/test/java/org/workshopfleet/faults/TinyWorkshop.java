package org.workshopfleet.faults;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.workshopfleet.command.MachineRendering;
import org.workshopfleet.cloud.UserDataFormat;
import org.workshopfleet.provision.TestMachines;
import org.workshopfleet.render.Bundle;
import org.workshopfleet.render.BundleFile;
import org.workshopfleet.render.MachineModel;
import org.workshopfleet.render.SetupStep;

/**
 * A rendering for fault tests: a real cloud-config carrying the pinned host key and the login key (what
 * {@link LoopbackInstances} boots from), and a three-step bundle of tiny scripts that never touch the host. Machines in
 * {@link #failing} fail step 03 (until removed from the set); machines in {@link #dropping} have their SSH connection
 * killed in the middle of step 02, once per machine (the session's sshd process is killed from inside the step);
 * machines in {@link #payload} get a large bundle whose integrity step 01 checks. Lightsail's user data is the
 * product's real launch script.
 */
public final class TinyWorkshop implements MachineRendering {

    public final Set<Integer> failing = ConcurrentHashMap.newKeySet();
    public final Set<Integer> dropping = ConcurrentHashMap.newKeySet();
    /**
     * Machines whose bundle carries {@link #PAYLOAD_BYTES} of incompressible payload (so a connection cut by byte count
     * lands in the upload) and its checksum; step 01 refuses a bundle whose payload does not match and records the
     * torn bundle in {@code /var/lib/torn.log}.
     */
    public final Set<Integer> payload = ConcurrentHashMap.newKeySet();

    static final int PAYLOAD_BYTES = 96 * 1024;

    /**
     * Unless null, step 01 is an image step ({@code # phase: image}) whose script holds this text, so changing it
     * changes the image recipe, and the bundle carries the seal script and {@code lib.sh} that baking needs; steps 02
     * and 03 stay per-machine.
     */
    public volatile String imageStep;

    static final String HELLO = "set -euo pipefail\n"
            + "if [ -e \"$BUNDLE_DIR/payload.sha256\" ]; then\n"
            + "  if ! (cd \"$BUNDLE_DIR\" && sha256sum --status -c payload.sha256); then\n"
            + "    echo \"torn bundle in $BUNDLE_DIR\" >> /var/lib/torn.log; exit 9\n"
            + "  fi\n"
            + "fi\n"
            + "echo \"hello from $BUNDLE_DIR\"\necho 01 >> /var/lib/runs.log\n";

    private volatile org.workshopfleet.render.Renderer launchScripts;

    static final String DROP = "set -euo pipefail\n"
            + "if [ -e \"$BUNDLE_DIR/drop\" ] && [ ! -e /var/lib/dropped ]; then\n"
            + "  touch /var/lib/dropped\n"
            + "  p=$$\n"
            + "  while [ \"$p\" -gt 1 ]; do\n"
            + "    if [ \"$(ps -o comm= -p \"$p\")\" = sshd ]; then kill -9 \"$p\"; break; fi\n"
            + "    p=$(ps -o ppid= -p \"$p\" | tr -d ' ')\n"
            + "  done\n"
            + "  sleep 5\n"
            + "fi\n"
            + "echo 02 >> /var/lib/runs.log\n";

    /** The payload of a machine: the same bytes for the same machine name, so re-renders agree. */
    static byte[] payloadOf(String machine) {
        byte[] b = new byte[PAYLOAD_BYTES];
        new java.util.Random(machine.hashCode()).nextBytes(b);
        return b;
    }

    @Override
    public String userData(MachineModel m, UserDataFormat format) {
        if (format == UserDataFormat.SHELL_SCRIPT) {
            // Lightsail: the product's real launch script (templates/ of this project), which LoopbackInstances reads
            // the pinned host key and login key from.
            if (launchScripts == null) {
                launchScripts = new org.workshopfleet.render.Renderer(java.nio.file.Path.of("."));
            }
            return launchScripts.userData(m, format);
        }
        StringBuilder sb = new StringBuilder("#cloud-config\nhostname: ").append(m.hostname()).append('\n');
        sb.append("ssh_keys:\n  ed25519_private: |\n");
        for (String line : m.hostKey().privateKeyOpenSsh().split("\n")) {
            sb.append("    ").append(line).append('\n');
        }
        sb.append("  ed25519_public: ").append(m.hostKey().publicKeyNoComment()).append('\n');
        sb.append("ssh_authorized_keys:\n  - ").append(m.loginPublicKey()).append('\n');
        return sb.toString();
    }

    @Override
    public Bundle bundle(MachineModel m) {
        boolean fail = failing.contains(m.attendee());
        Map<String, String> scripts = new LinkedHashMap<>();
        String image = imageStep;
        scripts.put("01-hello", image == null ? HELLO : "# phase: image\n# " + image + "\n" + HELLO);
        scripts.put("02-work", DROP);
        scripts.put("03-maybe-fail", "set -euo pipefail\necho 03 >> /var/lib/runs.log\n"
                + "if [ -e \"$BUNDLE_DIR/fail\" ]; then echo 'step 03 fails on purpose' >&2; exit 3; fi\n");
        List<BundleFile> files = new ArrayList<>();
        List<SetupStep> steps = new ArrayList<>();
        files.add(new BundleFile("exporter.sha256", "c\n".getBytes(StandardCharsets.UTF_8), 0644));
        if (fail) {
            files.add(new BundleFile("fail", new byte[0], 0644));
        }
        if (dropping.contains(m.attendee())) {
            files.add(new BundleFile("drop", new byte[0], 0644));
        }
        if (image != null) {
            files.add(new BundleFile("scripts/seal.sh", "set -euo pipefail\necho sealed >> /var/lib/seal.log\n"
                    .getBytes(StandardCharsets.UTF_8), 0755));
            files.add(new BundleFile("scripts/lib.sh", "true\n".getBytes(StandardCharsets.UTF_8), 0644));
        }
        String payloadSum = "";
        if (payload.contains(m.attendee())) {
            byte[] p = payloadOf(m.hostname());
            payloadSum = sha256(p);
            files.add(new BundleFile("payload.bin", p, 0644));
            files.add(new BundleFile("payload.sha256", (payloadSum + "  payload.bin\n").getBytes(StandardCharsets.UTF_8), 0644));
        }
        for (Map.Entry<String, String> s : scripts.entrySet()) {
            String path = "scripts/" + s.getKey() + ".sh";
            files.add(new BundleFile(path, s.getValue().getBytes(StandardCharsets.UTF_8), 0755));
            steps.add(new SetupStep(s.getKey(), path,
                    TestMachines.sha256(s.getValue() + (s.getKey().startsWith("03") && fail ? "fail" : "")
                            + (s.getKey().startsWith("01") ? payloadSum : ""))));
        }
        return new Bundle(m.hostname(), files, steps);
    }

    static String sha256(byte[] b) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(b));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
