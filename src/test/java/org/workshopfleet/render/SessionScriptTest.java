package org.workshopfleet.render;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * templates/session/machine-session.sh.ftl as rendered with sample values: shellcheck-clean as POSIX sh (it runs
 * under {@code sh -c}), every value a single-quoted shell word, and the nonce never followed by a space.
 */
class SessionScriptTest {

    private static final String NONCE = "0123456789abcdef01234567";

    private static Map<String, Object> model(String root, boolean observed) {
        return model(root, observed, "cd$(id)");
    }

    private static Map<String, Object> model(String root, boolean observed, String secondHash) {
        Map<String, Object> layout = new HashMap<>();
        layout.put("bundleRoot", root);
        layout.put("stateRoot", root + "-state");
        layout.put("markersDir", root + "-state/steps");
        layout.put("sessionLock", root + ".lock");
        layout.put("cloudInitResult", "/run/cloud-init/result.json");
        layout.put("cloudInitLog", "/var/log/cloud-init-output.log");
        Map<String, Object> m = new HashMap<>();
        m.put("nonce", NONCE);
        m.put("layout", layout);
        m.put("polls", 1200);
        m.put("lockWait", 120);
        m.put("tailLines", 20);
        m.put("markerFailed", 254);
        m.put("transferMark", ".transfer-complete");
        m.put("steps", List.of(Map.of("name", "01-packages", "script", "scripts/01-packages.sh", "hash", "ab12"),
                Map.of("name", "02-x'; touch /tmp/pwned; '", "script", "scripts/02 x.sh", "hash", secondHash)));
        if (observed) {
            m.put("observedFile", root + "-state/observed/ebpf_exporter.sha256");
        }
        return m;
    }

    @Test
    void renderedScriptIsShellcheckClean(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("session.sh"), Renderer.sessionScript(model("/opt/it's a fleet", true, "cd12")));
        ExternalTool.Result r = ExternalTool.SHELLCHECK.run(dir, "-s", "sh", "--severity=style", "session.sh");
        assertTrue(r.ok(), r.output());
    }

    @Test
    void everyValueIsOneQuotedShellWord() {
        String s = Renderer.sessionScript(model("/opt/it's a fleet", false));
        assertTrue(s.startsWith("N='@@wf-" + NONCE + "'\n"), s);
        assertTrue(s.contains("\nr='/opt/it'\\''s a fleet'; s=\"$r.new\""), s);
        assertTrue(s.contains("\nstep '02-x'\\''; touch /tmp/pwned; '\\''' 'scripts/02 x.sh' 'cd$(id)' || exit 0\n"), s);
        assertTrue(s.contains("STATE_DIR='/opt/it'\\''s a fleet-state' bash \"$r/$2\""), s);
        assertTrue(s.contains("\nif ! command exec 9>>'/opt/it'\\''s a fleet.lock'; then"), s);
        assertFalse(s.contains(NONCE + " "), "the nonce followed by a space would let an echo of the script forge a frame");
        assertFalse(s.contains("observed"), "no exporter hash read unless asked");
        assertFalse(s.contains("<#") || s.contains("${q("), "FreeMarker syntax left in: " + s);
    }
}
