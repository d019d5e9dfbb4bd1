package org.workshopfleet.render;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.workshopfleet.cloud.UserDataFormat;

/**
 * One route for the expiry: the timer unit first-boot user data installs, moved by {@code -Daction=extend}'s
 * {@link ExpiryTimer#rescheduleCommand}, reads exactly as the unit rendered for the new expiry; and the command edits
 * the path the templates install the unit at.
 */
class ExpiryTimerTest {

    private static final Instant LATER = Instant.parse("2026-11-27T09:15:00Z");
    private static final ExternalTool SED = new ExternalTool("sed", "sed");
    private final Renderer renderer = new Renderer(Path.of(""));

    private String timerUnit(MachineModel m) {
        Map<String, String> files = UserDataTest.writeFiles(Yaml.parse(renderer.userData(m, UserDataFormat.CLOUD_CONFIG)));
        assertTrue(files.containsKey(ExpiryTimer.TIMER_PATH), files.keySet().toString());
        return files.get(ExpiryTimer.TIMER_PATH);
    }

    @Test
    void aRescheduledTimerIsTheTimerRenderedForTheNewExpiry() {
        MachineModel first = Machines.ubuntu();
        MachineModel moved = new MachineModel(first.spec(), first.attendee(), first.hostname(), first.os(),
                first.hostKey(), first.loginPublicKey(), first.grafanaPassword(), first.sshPassword(), LATER);
        String before = timerUnit(first);
        String after = timerUnit(moved);
        assertNotEquals(before, after);
        List<String> args = new ArrayList<>();
        for (String script : ExpiryTimer.sedScripts(LATER)) {
            args.add("-e");
            args.add(script);
        }
        ExternalTool.Result r = SED.run(null, before, Map.of(), args.toArray(String[]::new));
        assertTrue(r.ok(), r.output());
        assertEquals(after, r.output());
    }

    @Test
    void theCommandEditsTheInstalledUnitAndRestartsIt() {
        String c = ExpiryTimer.rescheduleCommand(LATER);
        assertTrue(c.startsWith("set -e; test -f " + ExpiryTimer.TIMER_PATH + "; sudo sed -i -e "), c);
        assertTrue(c.contains("'s/^Description=.*/Description=Power off this workshop machine at the fleet'\\''s expiry"
                + " (2026-11-27T09:15:00Z)/'"), c);
        assertTrue(c.endsWith("sudo systemctl restart " + ExpiryTimer.TIMER + "; grep '^OnCalendar=' "
                + ExpiryTimer.TIMER_PATH), c);
    }
}
