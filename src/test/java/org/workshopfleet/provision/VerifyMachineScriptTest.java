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

    /**
     * A curl that answers as the machine's Apache on 443 does: 401 without the card's password (user ubuntu, read from
     * curl's config on stdin), ttyd's page with it, the websocket's {@code wsCode}, Grafana's health and a login that
     * takes only the card's Grafana password. Everything else is refused as a closed port.
     */
    private void apacheOn443(String wsCode) throws Exception {
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Path bundle = dir.resolve("bundle");
        Files.createDirectories(bundle.resolve("files/login"));
        Files.createDirectories(bundle.resolve("files/grafana"));
        Files.writeString(bundle.resolve("files/login/ubuntu.chpasswd"), "ubuntu:SshPw2345abcdefg\n");
        Files.writeString(bundle.resolve("files/grafana/workshop-fleet.env"), "GF_SECURITY_ADMIN_PASSWORD=GrafanaPw2345abcd\n");
        Path curl = bin.resolve("curl");
        Files.writeString(curl, """
                #!/bin/bash
                url= out= fmt= cfg= data= fail=0
                while [ $# -gt 0 ]; do
                  case $1 in
                    -K) cfg=$(cat); shift 2; continue ;;
                    --data-binary) data=$(cat); shift 2; continue ;;
                    -o) out=$2; shift 2; continue ;;
                    -w) fmt=$2; shift 2; continue ;;
                    -H|--max-time) shift 2; continue ;;
                    -f|-fsS) fail=1 ;;
                    http*://*) url=$1 ;;
                  esac
                  shift
                done
                echo "$url $cfg" >> '%s'
                reply() { [ "$out" = /dev/null ] || printf '%%s' "$2"; [ -z "$fmt" ] || printf '%%s' "$1";
                  if [ "$fail" = 1 ] && [ "$1" -ge 400 ]; then exit 22; fi; exit 0; }
                authed=0; [ "$cfg" = 'user = "ubuntu:SshPw2345abcdefg"' ] && authed=1
                case $url in
                  https://127.0.0.1/terminal/) [ $authed = 1 ] && reply 200 '<title>ttyd - Terminal</title>' || reply 401 denied ;;
                  https://127.0.0.1/terminal/ws) [ $authed = 1 ] && { [ -z "$fmt" ] || printf %%s '%s'; exit 28; } || reply 401 denied ;;
                  https://127.0.0.1/grafana/api/health) reply 200 '{"database":"ok"}' ;;
                  https://127.0.0.1/grafana/login)
                    [ "$data" = '{"user":"admin","password":"GrafanaPw2345abcd"}' ] && reply 200 '{}' || reply 401 '{}' ;;
                  *) [ -z "$fmt" ] || printf 000; exit 7 ;;
                esac
                """.formatted(dir.resolve("curl.calls"), wsCode));
        Files.setPosixFilePermissions(curl, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    @Test
    void theHttpsRowsPassWhenApacheGuardsTheTerminalAndPassesGrafanaAndTheWebsocket() throws Exception {
        apacheOn443("101");
        Map<String, Verifier.Check> rows = run(ALL_PROBES, "fired /test2.php functions=4");
        assertEquals(new Verifier.Check("terminal_https", true, "/terminal/: 401 without or with a wrong password,"
                + " ttyd's page and websocket (101) with the card's"), rows.get("terminal_https"));
        assertEquals(new Verifier.Check("grafana_https", true, "/grafana/: health, and admin logs in with the card's"
                + " password"), rows.get("grafana_https"));
        String calls = Files.readString(dir.resolve("curl.calls"));
        assertTrue(calls.contains("https://127.0.0.1/terminal/ws user = \"ubuntu:SshPw2345abcdefg\""), calls);
    }

    @Test
    void aWebsocketThatApacheDoesNotUpgradeFailsTheTerminalRowWithItsReason() throws Exception {
        apacheOn443("200");
        Map<String, Verifier.Check> rows = run(ALL_PROBES, "fired /test2.php functions=4");
        assertEquals(new Verifier.Check("terminal_https", false,
                "the terminal's websocket through Apache answers HTTP 200, not 101"), rows.get("terminal_https"));
        assertTrue(rows.get("grafana_https").ok(), rows.get("grafana_https").toString());
    }

    @Test
    void aWrongGrafanaPasswordInTheBundleFailsTheGrafanaRowWithoutShowingIt() throws Exception {
        apacheOn443("101");
        Files.writeString(dir.resolve("bundle/files/grafana/workshop-fleet.env"), "GF_SECURITY_ADMIN_PASSWORD=Other2345abcd\n");
        Verifier.Check grafana = run(ALL_PROBES, "fired /test2.php functions=4").get("grafana_https");
        assertEquals(new Verifier.Check("grafana_https", false,
                "/grafana/login answers HTTP 401 to the card's password, not 200"), grafana);
    }

    @Test
    void withoutApacheOn443BothRowsFailInOneLine() throws Exception {
        Map<String, Verifier.Check> rows = run(ALL_PROBES, "fired /test2.php functions=4");
        assertFalse(rows.get("terminal_https").ok());
        assertFalse(rows.get("grafana_https").ok());
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
