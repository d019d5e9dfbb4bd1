package org.workshopfleet.cloud.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.workshopfleet.ssh.SshKeyPair;

/**
 * eBPF inside a lab machine: with {@link LabMachines#EBPF_OPTIONS} (nspawn's seccomp filter also allowing
 * {@code bpf} and {@code perf_event_open}; nspawn's default capabilities already include CAP_SYS_ADMIN) bpftrace run
 * with sudo attaches a USDT probe to Apache's libphp8.2.so and sees {@code php:request__startup} fire for a PHP page;
 * without those options the kernel call is refused by the sandbox, with bpftrace's exact error. Installs packages from
 * Debian's mirror through the lab's NAT (a few minutes).
 */
class LabEbpfIT {

    private static final LabPaths PATHS = LabPaths.standard();
    private static final String PROBE = "usdt:/usr/lib/apache2/modules/libphp8.2.so:php:request__startup";

    @TempDir
    Path tmp;

    @BeforeAll
    static void prerequisites() {
        LabPrerequisites.require("ssh");
    }

    @Test
    void bpftraceSeesPhpRequestStartupInApache() {
        String run = HexFormat.of().toHexDigits((short) ThreadLocalRandom.current().nextInt());
        LabMachines lab = new LabMachines("it-ebpf-" + run);
        SshKeyPair login = SshKeyPair.generate("it-login");
        SshKeyPair hostKey = SshKeyPair.generate("it-host");
        HostState before = HostState.capture(PATHS);
        try {
            // The default boot: every lab machine gets LabMachines.EBPF_OPTIONS.
            LabMachine m = lab.boot("it-" + run + "-ebpf", LabUserData.cloudConfig(hostKey, login, ""));
            OpenSshClient ssh = new OpenSshClient(tmp, login, "ubuntu", m.ip(), hostKey);
            assertEquals(0, ssh.runWhenReady("cloud-init status --wait", Duration.ofSeconds(120), 300).exitCode());
            Instant i0 = Instant.now();
            HostCommand.Result install = ssh.run("sudo env DEBIAN_FRONTEND=noninteractive sh -c 'apt-get update -q"
                    + " && apt-get install -y -q --no-install-recommends apache2 libapache2-mod-php8.2 bpftrace'", 900);
            assertEquals(0, install.exitCode(), () -> tail(install.output()));
            System.out.printf("lab: apache2 + php8.2 + bpftrace installed in %d s%n",
                    Duration.between(i0, Instant.now()).toSeconds());
            HostCommand.Result setup = ssh.run("sudo sh -c 'mkdir -p /etc/systemd/system/apache2.service.d"
                    + " && printf \"[Service]\\nEnvironment=USE_ZEND_DTRACE=1\\n\""
                    + " > /etc/systemd/system/apache2.service.d/10-usdt.conf"
                    + " && echo \"<?php echo 6 * 7;\" > /var/www/html/probe.php"
                    + " && systemctl daemon-reload && systemctl restart apache2' && curl -s http://localhost/probe.php",
                    120);
            assertEquals(0, setup.exitCode(), setup.output());
            assertEquals("42", setup.output().strip(), "apache serves PHP");
            // Requests keep coming until bpftrace has attached and printed the first one.
            HostCommand.Result trace = ssh.run("sudo bash -c '(for i in $(seq 1 40); do sleep 1;"
                    + " curl -s -o /dev/null http://localhost/probe.php; done) & loop=$!;"
                    + " timeout 60 bpftrace -e \"" + PROBE + " { printf(\\\"fired %s\\\\n\\\", str(arg1)); exit(); }\";"
                    + " rc=$?; kill $loop; echo bpftrace-exit=$rc'", 120);
            System.out.println("lab: bpftrace in the machine printed:\n" + trace.output());
            assertTrue(trace.output().lines().anyMatch(l -> l.equals("fired /probe.php")),
                    "php:request__startup fired for /probe.php: " + trace.output());
        } finally {
            lab.destroyAll();
        }
        HostState.assertRestored(before, HostState.capture(PATHS), "wf-it-" + run + "-ebpf");
    }

    /** The limitation the options lift: nspawn's default seccomp filter refuses bpf(2). */
    @Test
    void withoutTheOptionsTheSandboxRefusesBpf() {
        String run = HexFormat.of().toHexDigits((short) ThreadLocalRandom.current().nextInt());
        LabMachines lab = new LabMachines("it-nobpf-" + run);
        SshKeyPair login = SshKeyPair.generate("it-login");
        SshKeyPair hostKey = SshKeyPair.generate("it-host");
        try {
            LabMachine m = lab.boot("it-" + run + "-nobpf", LabUserData.cloudConfig(hostKey, login, ""), List.of());
            OpenSshClient ssh = new OpenSshClient(tmp, login, "ubuntu", m.ip(), hostKey);
            assertEquals(0, ssh.runWhenReady("cloud-init status --wait", Duration.ofSeconds(120), 300).exitCode());
            HostCommand.Result install = ssh.run("sudo env DEBIAN_FRONTEND=noninteractive sh -c 'apt-get update -q"
                    + " && apt-get install -y -q --no-install-recommends bpftrace'", 900);
            assertEquals(0, install.exitCode(), () -> tail(install.output()));
            HostCommand.Result trace = ssh.run("sudo bpftrace -e 'BEGIN { printf(\"ran\\n\"); exit(); }'", 60);
            assertTrue(trace.exitCode() != 0, trace.output());
            assertTrue(trace.output().contains("ERROR: failed to create  map: Operation not permitted"), trace.output());
        } finally {
            lab.destroyAll();
        }
    }

    private static String tail(String s) {
        List<String> lines = s.lines().toList();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
    }
}
