package org.workshopfleet.provision;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * verify-machine.sh's USDT rows, run for real under bash on this host (no SSH, no PHP) with a stand-in bpftrace
 * first in PATH that answers as bpftrace does on a machine: the probe listing, then the one-shot's line for one
 * request. Each row is one line; the rows after them fail with a reason when their inputs are missing; and the
 * script leaves no temporary folder behind.
 */
class VerifyMachineScriptTest {

    private static final String ALL_PROBES = String.join("\n", List.of("compile__file__entry", "compile__file__return",
            "error", "exception__caught", "exception__thrown", "execute__entry", "execute__return", "function__entry",
            "function__return", "request__shutdown", "request__startup").stream()
            .map(p -> "usdt:%1$s:php:" + p).toList());

    @TempDir
    Path dir;

    Path module;

    @BeforeEach
    void machine() throws Exception {
        module = dir.resolve("modules/libphp8.2.so");
        Files.createDirectories(module.getParent());
        Files.writeString(module, "not really PHP");
        Files.createDirectories(dir.resolve("tmp"));
        Files.createDirectories(dir.resolve("bundle"));
    }

    @Test
    void aRequestWithFunctionProbesPassesBothUsdtRows() throws Exception {
        Map<String, Verifier.Check> rows = run(ALL_PROBES, "fired /test2.php functions=4");
        assertEquals(new Verifier.Check("usdt_probes", true, "11 php:* probes in " + module), rows.get("usdt_probes"));
        assertEquals(new Verifier.Check("usdt_fires", true, "php:request__startup fired for /test2.php, with 4"
                + " php:function__entry"), rows.get("usdt_fires"));
        assertTrue(bpftraceCalls().contains("-l usdt:" + module + ":php:*"), bpftraceCalls());
        assertTrue(bpftraceCalls().contains("usdt:" + module + ":php:request__startup {"), bpftraceCalls());
    }

    @Test
    void aRequestWithoutFunctionProbesMeansApacheLacksZendDtrace() throws Exception {
        Verifier.Check fires = run(ALL_PROBES, "fired /test2.php functions=0").get("usdt_fires");
        assertEquals(new Verifier.Check("usdt_fires", false, "php:request__startup fired for /test2.php but no"
                + " php:function__entry: apache2 runs without USE_ZEND_DTRACE=1"), fires);
    }

    @Test
    void noRequestWithinTheBoundIsAFailureWithBpftracesLastWords() throws Exception {
        Verifier.Check fires = run(ALL_PROBES, "ERROR: Could not resolve symbol: /proc/self/exe:BEGIN_trigger")
                .get("usdt_fires");
        assertFalse(fires.ok());
        // With apache2's own state beside it (on this host it is not running at all).
        assertEquals("php:request__startup did not fire within 25 s (apache2 is not running): ERROR: Could not resolve"
                + " symbol: /proc/self/exe:BEGIN_trigger", fires.detail());
    }

    @Test
    void aModuleWithoutTheProbesNamesTheMissingOnes() throws Exception {
        String some = ALL_PROBES.lines().filter(l -> !l.endsWith("function__entry") && !l.endsWith("request__startup"))
                .collect(Collectors.joining("\n"));
        Verifier.Check probes = run(some, "fired /test2.php functions=1").get("usdt_probes");
        assertEquals(new Verifier.Check("usdt_probes", false, module + " lacks USDT probes: request__startup"
                + " function__entry"), probes);
    }

    @Test
    void aMissingModuleAndMissingInputsFailEachLaterRowWithItsReason() throws Exception {
        Files.delete(module);
        Map<String, Verifier.Check> rows = run(ALL_PROBES, "fired /test2.php functions=1");
        assertEquals(module + " does not exist (is libapache2-mod-php installed?)", rows.get("usdt_probes").detail());
        assertEquals(module + " does not exist (is libapache2-mod-php installed?)", rows.get("usdt_fires").detail());
        assertFalse(bpftraceCalls().contains("-e"), "nothing traced without the module");
        String home = homeOf("nobody");
        assertEquals(new Verifier.Check("attendee_make", false, home + "/ebpf_exporter/examples does not exist"),
                rows.get("attendee_make"));
        assertEquals(new Verifier.Check("exporter_php", false, "not run: ebpf_exporter is not installed"),
                rows.get("exporter_php"));
        assertEquals(new Verifier.Check("prometheus_php", false,
                "not run: no exporter serving the PHP series (exporter_php)"), rows.get("prometheus_php"));
    }

    private String bpftraceCalls() throws Exception {
        Path calls = dir.resolve("bpftrace.calls");
        return Files.exists(calls) ? Files.readString(calls) : "";
    }

    /**
     * Runs the script with a bpftrace that lists {@code listing} (%1$s is the module) for {@code -l} and prints
     * {@code oneShot} for {@code -e}; returns its rows by name, after checking the script's own promises.
     */
    private Map<String, Verifier.Check> run(String listing, String oneShot) throws Exception {
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Files.writeString(dir.resolve("listing"), String.format(listing, module) + "\n");
        Path bpftrace = bin.resolve("bpftrace");
        Files.writeString(bpftrace, "#!/bin/sh\necho \"$*\" >> '" + dir.resolve("bpftrace.calls") + "'\n"
                + "case \"$1\" in\n--version) echo 'bpftrace v0.17.0';;\n-l) cat '" + dir.resolve("listing") + "';;\n"
                + "*) echo 'Attaching 3 probes...'; echo '" + oneShot + "';;\nesac\n");
        Files.setPosixFilePermissions(bpftrace, PosixFilePermissions.fromString("rwxr-xr-x"));
        ProcessBuilder pb = new ProcessBuilder("bash", "-s").redirectErrorStream(true);
        pb.environment().putAll(Map.of("PATH", bin + ":/usr/bin:/bin:/usr/sbin:/sbin", "PHP_MODULE", module.toString(),
                "BUNDLE_DIR", dir.resolve("bundle").toString(), "ATTENDEE_USER", "nobody",
                "TMPDIR", dir.resolve("tmp").toString()));
        Process p = pb.start();
        try (OutputStream in = p.getOutputStream()) {
            in.write(Verifier.script());
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), out);
        assertEquals(0, p.exitValue(), out);
        List<Verifier.Check> checks = Verifier.parse(out);
        assertEquals(out.lines().filter(l -> l.startsWith("CHECK ")).count(), checks.size(), "one line per row");
        try (var left = Files.list(dir.resolve("tmp"))) {
            assertEquals(List.of(), left.toList(), "the script removes its temporary folder");
        }
        return checks.stream().collect(Collectors.toMap(Verifier.Check::name, Function.identity()));
    }

    private static String homeOf(String user) throws Exception {
        Process p = new ProcessBuilder("getent", "passwd", user).start();
        String line = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        p.waitFor();
        return line.split(":")[5];
    }
}
