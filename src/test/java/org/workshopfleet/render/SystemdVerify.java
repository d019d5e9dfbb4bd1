package org.workshopfleet.render;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Runs systemd's own parser on rendered units and drop-ins: {@code systemd-analyze verify} with the folder put first
 * on the unit search path (so drop-ins in {@code <unit>.d/} are read). It works without systemd as PID 1. Any message
 * is a failure unless it is one of the expected ones the caller names (e.g. a binary not installed on the test host).
 */
final class SystemdVerify {
    private SystemdVerify() {
    }

    static void assertClean(Path unitDir, List<String> units, List<String> expectedMessages) {
        List<String> args = new ArrayList<>(List.of("verify", "--man=no"));
        units.forEach(u -> args.add(unitDir.resolve(u).toString()));
        ExternalTool.Result r = ExternalTool.SYSTEMD_ANALYZE.run(unitDir, null,
                Map.of("SYSTEMD_UNIT_PATH", unitDir + ":", "SYSTEMD_LOG_COLOR", "0"), args.toArray(String[]::new));
        List<String> unexpected = new ArrayList<>();
        boolean onlyExpectedFailure = false;
        for (String line : r.output().lines().filter(l -> !l.isBlank()).toList()) {
            if (expectedMessages.stream().anyMatch(line::contains)) {
                onlyExpectedFailure = true;
            } else {
                unexpected.add(line);
            }
        }
        if (!unexpected.isEmpty()) {
            fail("systemd-analyze verify " + units + ":\n" + String.join("\n", unexpected));
        }
        assertTrue(r.ok() || onlyExpectedFailure, "systemd-analyze exit " + r.exitCode() + ": " + r.output());
    }
}
