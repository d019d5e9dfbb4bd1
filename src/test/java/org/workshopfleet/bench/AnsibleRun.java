package org.workshopfleet.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.workshopfleet.render.SetupStep;
import org.workshopfleet.ssh.SshKeyPair;

/**
 * Runs the benchmark playbook ({@code bench/ansible/quick-steps.yml}) with Debian's {@code ansible-playbook} against
 * the benchmark machines: a generated inventory (lab addresses, {@code ansible_user=ubuntu}, the workshop login key),
 * host key checking ON against a known_hosts written from the pinned host keys, and each machine's own bundle tarball.
 * Everything is written to a private folder (0700; key and bundles 0600: they hold secrets).
 */
final class AnsibleRun {

    /** Wall time and the CPU time of ansible-playbook and its children, from bash's {@code times}. */
    record Outcome(int exitCode, double wallSeconds, double cpuSeconds, Path log) {
    }

    private final Path dir;

    private AnsibleRun(Path dir) {
        this.dir = dir;
    }

    /** Writes the playbook, inventory, known_hosts, key and bundles into {@code dir}. */
    static AnsibleRun prepare(Path dir, List<BenchMachine> machines, SshKeyPair loginKey) throws IOException {
        Files.createDirectories(dir.getParent());
        Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        try (InputStream in = AnsibleRun.class.getResourceAsStream("/bench/ansible/quick-steps.yml")) {
            if (in == null) {
                throw new IllegalStateException("bench/ansible/quick-steps.yml is not on the test classpath");
            }
            Files.write(dir.resolve("quick-steps.yml"), in.readAllBytes());
        }
        Path key = privateFile(dir.resolve("login_ed25519"), loginKey.privateKeyOpenSsh().getBytes(StandardCharsets.UTF_8));
        StringBuilder knownHosts = new StringBuilder();
        Files.createDirectory(dir.resolve("bundles"));
        Map<String, Object> hosts = new LinkedHashMap<>();
        for (BenchMachine m : machines) {
            knownHosts.append(m.ip()).append(' ').append(m.hostKey().publicKeyNoComment()).append('\n');
            Path tar = privateFile(dir.resolve("bundles").resolve(m.name() + ".tar"), m.bundle().toTar());
            List<Map<String, String>> steps = new ArrayList<>();
            for (SetupStep s : m.bundle().steps()) {
                steps.add(Map.of("name", s.name(), "script", s.script(), "hash", s.contentHash()));
            }
            Map<String, Object> vars = new LinkedHashMap<>();
            vars.put("ansible_host", m.ip());
            vars.put("bundle_tar", tar.toString());
            vars.put("steps", steps);
            hosts.put(m.name(), vars);
        }
        Path knownHostsFile = dir.resolve("known_hosts");
        Files.writeString(knownHostsFile, knownHosts);
        Map<String, Object> groupVars = new LinkedHashMap<>();
        groupVars.put("ansible_user", "ubuntu");
        groupVars.put("ansible_ssh_private_key_file", key.toString());
        // Host key checking stays on (Ansible's default); the known hosts are exactly the pinned keys.
        groupVars.put("ansible_ssh_common_args", "-o UserKnownHostsFile=" + knownHostsFile
                + " -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes");
        groupVars.put("ansible_python_interpreter", "/usr/bin/python3");
        Map<String, Object> lab = new LinkedHashMap<>();
        lab.put("hosts", hosts);
        lab.put("vars", groupVars);
        new ObjectMapper().writerWithDefaultPrettyPrinter().writeValue(dir.resolve("inventory.json").toFile(),
                Map.of("all", Map.of("children", Map.of("lab", lab))));
        return new AnsibleRun(dir);
    }

    /** Runs the playbook; {@code forks} 0 keeps Ansible's default (5). */
    Outcome run(int forks, String label) {
        Path log = dir.resolve("ansible-" + label + ".log");
        Path cpu = dir.resolve("cpu-" + label + ".txt");
        String forksArg = forks > 0 ? " --forks " + forks : "";
        String script = "ansible-playbook -i inventory.json" + forksArg + " quick-steps.yml > '" + log + "' 2>&1;"
                + " rc=$?; times > '" + cpu + "'; exit $rc";
        ProcessBuilder pb = new ProcessBuilder("bash", "-c", script).directory(dir.toFile()).redirectErrorStream(true);
        pb.environment().put("ANSIBLE_NOCOLOR", "1");
        pb.environment().put("ANSIBLE_HOST_KEY_CHECKING", "True");
        pb.environment().put("ANSIBLE_LOCAL_TEMP", dir.resolve("tmp").toString());
        long start = System.nanoTime();
        try {
            Process p = pb.start();
            p.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
            int code = p.waitFor();
            double wall = (System.nanoTime() - start) / 1e9;
            return new Outcome(code, wall, childCpu(Files.readAllLines(cpu)), log);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** bash {@code times}: line 2 is the children's user and system time, e.g. {@code 0m12.345s 0m3.210s}. */
    private static double childCpu(List<String> times) {
        if (times.size() < 2) {
            return Double.NaN;
        }
        double total = 0;
        for (String t : times.get(1).trim().split("\\s+")) {
            int m = t.indexOf('m');
            total += Integer.parseInt(t.substring(0, m)) * 60 + Double.parseDouble(t.substring(m + 1, t.length() - 1));
        }
        return total;
    }

    private static Path privateFile(Path p, byte[] content) throws IOException {
        Files.createFile(p, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.write(p, content);
        return p;
    }
}
