package org.workshopfleet.provision;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.workshopfleet.ssh.Remote;

/**
 * Waiting for cloud-init to finish, cheaply: a shell loop on the machine tests for cloud-init's result file every half
 * second (a shell builtin and one {@code sleep}), then prints it; the verdict is read here from {@code v1.errors}.
 * {@code cloud-init status --wait} does the same job with a Python process per machine (about half a CPU-second to
 * start), which thirty machines sharing a lab host's two cores pay at once.
 *
 * <p>cloud-init writes the result file (atomically, mode 0644) at the end of its final stage, after the user's scripts
 * ran: on EC2 and the lab after the cloud-config's {@code runcmd}, on Lightsail after the launch script (run as
 * {@code scripts_user}); a failing module or script is listed in {@code errors}. The file lives on a tmpfs, so it is
 * never a previous boot's.
 */
final class CloudInitWait {

    /** Exit code of the wait command when the file did not appear in time (as timeout(1) uses). */
    static final int TIMED_OUT = 124;
    private static final Pattern SAFE_PATH = Pattern.compile("/[A-Za-z0-9._/-]+");
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What cloud-init reported: {@code errors} empty means it finished cleanly. */
    record Verdict(List<String> errors) {
        boolean clean() {
            return errors.isEmpty();
        }
    }

    private CloudInitWait() {
    }

    /** The command that waits up to {@code timeout} for {@code resultFile}, prints it, and exits 124 if it never came. */
    static String command(String resultFile, Duration timeout) {
        if (!SAFE_PATH.matcher(resultFile).matches()) {
            throw new IllegalArgumentException("unsafe cloud-init result path: " + resultFile);
        }
        long polls = Math.max(1, timeout.toMillis() / 500);
        return "sh -c 'f=" + resultFile + "; n=0; while [ ! -s \"$f\" ]; do"
                + " if [ \"$n\" -ge " + polls + " ]; then exit " + TIMED_OUT + "; fi; sleep 0.5; n=$((n+1)); done;"
                + " cat \"$f\"'";
    }

    /**
     * Reads the wait command's answer.
     *
     * @throws IllegalStateException with a one-line reason when cloud-init did not finish in time or the file is not
     *                               cloud-init's result
     */
    static Verdict parse(Remote.Result r, String resultFile, Duration timeout) {
        if (r.exitCode() == TIMED_OUT) {
            throw new IllegalStateException("cloud-init did not finish within " + timeout.toSeconds() + " s (no "
                    + resultFile + "); the machine's console output shows how far it got");
        }
        if (r.exitCode() != 0) {
            throw new IllegalStateException("waiting for cloud-init failed (exit " + r.exitCode() + "): "
                    + r.stderr().replaceAll("\\s+", " ").trim());
        }
        JsonNode errors;
        try {
            errors = JSON.readTree(r.stdout()).path("v1").path("errors");
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(resultFile + " is not JSON: " + e.getOriginalMessage());
        }
        if (!errors.isArray()) {
            throw new IllegalStateException(resultFile + " has no v1.errors list: it is not cloud-init's result file");
        }
        List<String> list = new ArrayList<>();
        errors.forEach(e -> list.add(e.isTextual() ? e.asText() : e.toString()));
        return new Verdict(List.copyOf(list));
    }
}
