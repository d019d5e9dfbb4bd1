package org.workshopfleet.provision;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Waiting for cloud-init to finish, cheaply: a shell loop on the machine tests for cloud-init's result file every half
 * second (a shell builtin and one {@code sleep}); the verdict is read here from the file's {@code v1.errors}.
 * {@code cloud-init status --wait} does the same job with a Python process per machine (about half a CPU-second to
 * start), which thirty machines sharing a lab host's two cores pay at once.
 *
 * <p>cloud-init writes the result file (atomically, mode 0644) at the end of its final stage, after the user's scripts
 * ran: on EC2 and the lab after the cloud-config's {@code runcmd}, on Lightsail after the launch script (run as
 * {@code scripts_user}); a failing module or script is listed in {@code errors}. The file lives on a tmpfs, so it is
 * never a previous boot's.
 */
final class CloudInitWait {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** What cloud-init reported: {@code errors} empty means it finished cleanly. */
    record Verdict(List<String> errors) {
        boolean clean() {
            return errors.isEmpty();
        }
    }

    private CloudInitWait() {
    }

    /**
     * How many half-second polls of the result file fit in {@code timeout} (at least one); the loop itself is in
     * templates/session/machine-session.sh.ftl.
     */
    static long polls(Duration timeout) {
        return Math.max(1, timeout.toMillis() / 500);
    }

    /**
     * Reads the result file's text.
     *
     * @throws IllegalStateException with a one-line reason when the text is not cloud-init's result file
     */
    static Verdict parse(String json, String resultFile) {
        JsonNode errors;
        try {
            errors = JSON.readTree(json).path("v1").path("errors");
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
