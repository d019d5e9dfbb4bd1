package org.workshopfleet.cloud;

import org.workshopfleet.error.BadInput;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.workshopfleet.spec.WebEntry;

/**
 * Reads the declared ingress ({@code security-groups/workshop.json}). A rule with {@code "anywhere": true} is opened to
 * every address when the facilitator asks for {@code -Daccess=anywhere}, and follows the CIDR like the others otherwise.
 */
public final class IngressRules {

    private IngressRules() {
    }

    /** The rules as {@code -Daccess=cidr} opens them: every one from the CIDR. */
    public static List<IngressRule> load(Path file) {
        return load(file, WebEntry.Access.CIDR);
    }

    /** The rules as {@code access} opens them: with {@code anywhere}, the rules marked {@code "anywhere"} are world rules. */
    public static List<IngressRule> load(Path file, WebEntry.Access access) {
        String fix = ": restore security-groups/workshop.json from the repository";
        if (!Files.isRegularFile(file)) {
            throw new BadInput("ingress file " + file + " is missing" + fix);
        }
        try {
            JsonNode root = new ObjectMapper().readTree(file.toFile());
            List<IngressRule> rules = new ArrayList<>();
            for (JsonNode n : root.path("ingress")) {
                String protocol = n.path("protocol").asText("");
                int port = n.path("port").asInt(-1);
                if (!(protocol.equals("tcp") || protocol.equals("udp")) || port < 1 || port > 65535) {
                    throw new BadInput("ingress file " + file + " has a bad rule " + n + fix);
                }
                boolean world = access == WebEntry.Access.ANYWHERE && n.path("anywhere").asBoolean(false);
                rules.add(new IngressRule(protocol, port, n.path("description").asText("port " + port), world));
            }
            if (rules.isEmpty()) {
                throw new BadInput("ingress file " + file + " declares no port" + fix);
            }
            return List.copyOf(rules);
        } catch (IOException e) {
            throw new BadInput("ingress file " + file + " is not valid JSON" + fix);
        }
    }
}
