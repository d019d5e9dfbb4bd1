package org.workshopfleet.cloud;

import org.workshopfleet.error.BadInput;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Reads the declared ingress ({@code security-groups/workshop.json}). */
public final class IngressRules {

    private IngressRules() {
    }

    public static List<IngressRule> load(Path file) {
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
                rules.add(new IngressRule(protocol, port, n.path("description").asText("port " + port)));
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
