package org.workshopfleet.render;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.Map;

/**
 * Parses YAML the way cloud-init does: with PyYAML's {@code safe_load} (Debian package python3-yaml), converted to
 * JSON for Jackson. The project has no YAML dependency, and the parser that matters is cloud-init's.
 */
final class Yaml {
    private static final String PROGRAM =
            "import json, sys, yaml\njson.dump(yaml.safe_load(sys.stdin), sys.stdout, default=str)\n";

    private Yaml() {
    }

    static JsonNode parse(String yaml) {
        ExternalTool.Result probe = ExternalTool.PYTHON3.run(null, "", Map.of(), "-c", "import yaml");
        if (!probe.ok()) {
            ExternalTool.missing("python3's yaml module (Debian package python3-yaml)");
        }
        ExternalTool.Result r = ExternalTool.PYTHON3.run(null, yaml, Map.of(), "-c", PROGRAM);
        assertTrue(r.ok(), () -> "PyYAML rejects the document: " + r.output());
        try {
            return new ObjectMapper().readTree(r.output());
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}
